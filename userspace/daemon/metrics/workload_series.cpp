#include "daemon/metrics/workload_series.h"

#include "daemon/metrics/kernel_series.h"

#include <string>

namespace rstwatch
{

std::optional<WorkloadLabel> parse_workload_label(std::string_view text)
{
	if (text == "none")
		return WorkloadLabel::None;
	if (text == "unit")
		return WorkloadLabel::Unit;
	if (text == "namespace")
		return WorkloadLabel::Namespace;
	return std::nullopt;
}

WorkloadSeries::WorkloadSeries(prometheus::Registry &registry, WorkloadLabel label, unsigned limit)
    : label_(label)
{
	// Named like the event fields: a scrape of a pod in Kubernetes already
	// carries a "namespace" target label (the scraped pod's own), which a
	// series' "namespace" would collide with.
	const std::string name = label == WorkloadLabel::Unit ? "systemd_unit" : "pod_namespace";
	auto &family =
	    prometheus::BuildCounter()
	        .Name("rstwatch_resets_by_workload_total")
	        .Help("Reset events by the " +
	              std::string(label == WorkloadLabel::Unit ? "systemd unit"
	                                                       : "Kubernetes namespace") +
	              " of the socket, for the busiest values; the rest count in " + name +
	              "=\"other\", resets outside any in " + name + "=\"\"")
	        .Register(registry);
	for (size_t direction = 0; direction < 2; direction++) {
		prometheus::Labels fixed = {
		    {"direction", std::string(kDirectionLabels[direction])}};
		by_direction_[direction] = std::make_unique<TopSeries<std::string_view>>(
		    family, fixed, name,
		    [](const std::string_view &value) { return std::string(value); }, limit);
		prometheus::Labels outside = fixed;
		outside[name] = "";
		outside_[direction] = &family.Add(outside);
	}
}

std::string_view WorkloadSeries::value_of(const ResetEvent &event) const
{
	if (!event.cgroup)
		return {};
	return label_ == WorkloadLabel::Unit ? event.cgroup->unit : event.cgroup->pod_namespace;
}

void WorkloadSeries::observe(const ResetEvent &event)
{
	size_t direction = event.raw.direction == RSTWATCH_DIR_RECEIVED ? 1 : 0;
	std::string_view value = value_of(event);
	if (value.empty())
		outside_[direction]->Increment();
	else
		by_direction_[direction]->increment(value);
}

void WorkloadSeries::decay()
{
	for (auto &series : by_direction_)
		series->decay();
}

void WorkloadSeries::set_limit(unsigned limit)
{
	for (auto &series : by_direction_)
		series->set_limit(limit);
}

} // namespace rstwatch
