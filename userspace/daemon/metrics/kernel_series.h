// The series whose counts live in the kernel's per-CPU maps: read afresh at
// every scrape, so they stay exact when the ring buffer drops events.
#pragma once

#include "loader/tracer_types.h"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <array>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace rstwatch
{

// Values of the direction label, indexed as KernelCounters::by_cause is; the
// event-fed series in ResetMetrics use the same ones.
inline constexpr std::array<std::string_view, 2> kDirectionLabels = {"sent", "received"};

class KernelSeries : public prometheus::Collectable
{
public:
	// `read_counters` is called from the HTTP server's threads; `reason_names`
	// are enum sk_rst_reason's names by value, empty when the kernel has none.
	KernelSeries(std::function<KernelCounters()> read_counters,
	             const std::vector<std::string> &reason_names, bool kernel_has_reasons);

	std::vector<prometheus::MetricFamily> Collect() const override;

private:
	std::function<KernelCounters()> read_;
	bool kernel_has_reasons_;
	std::array<std::string, RSTWATCH_MAX_REASONS> reason_names_;
};

} // namespace rstwatch
