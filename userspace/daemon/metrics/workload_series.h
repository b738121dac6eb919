// Resets by workload, opt-in (--metrics-workload-label): one label, the
// systemd unit or the Kubernetes namespace of the socket, on a family held to
// a bounded number of series like the per-process one (top_series.h).
#pragma once

#include "core/reset_event.h"
#include "daemon/metrics/top_series.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <array>
#include <memory>
#include <optional>
#include <string_view>

namespace rstwatch
{

enum class WorkloadLabel { None, Unit, Namespace };

// "none", "unit", "namespace": the option's values.
std::optional<WorkloadLabel> parse_workload_label(std::string_view text);

class WorkloadSeries
{
public:
	// `label` is Unit or Namespace; `limit` values per direction get a
	// series of their own, the rest count in "other".
	WorkloadSeries(prometheus::Registry &registry, WorkloadLabel label, unsigned limit);

	void observe(const ResetEvent &event);
	void decay();
	void set_limit(unsigned limit);

private:
	// The label's value for this event, "" when the socket has none. A
	// view into the CgroupCache's entry, which is never freed and whose
	// unit and namespace never change once set: the series' keys stay
	// valid, and counting takes no allocation.
	std::string_view value_of(const ResetEvent &event) const;

	WorkloadLabel label_;
	std::array<std::unique_ptr<TopSeries<std::string_view>>, 2> by_direction_;
	// Resets from sockets outside any unit (pod): label value "".
	std::array<prometheus::Counter *, 2> outside_{};
};

} // namespace rstwatch
