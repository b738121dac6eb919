// What rstwatchd itself costs, read at every scrape: the process_* series
// every Prometheus exporter has (CPU, memory, descriptors, start time) and,
// only while an administrator has turned kernel.bpf_stats_enabled on (never
// rstwatchd: timing every program run has a cost of its own), the run count
// and time of each of its BPF programs.
#pragma once

#include "loader/tracer_types.h"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <string>
#include <vector>

namespace rstwatch
{

class SelfSeries : public prometheus::Collectable
{
public:
	// `programs` is called from the HTTP server's threads.
	using ProgramReader = std::function<std::vector<ProgramStats>()>;

	// `proc` is where /proc is mounted (a test may point elsewhere).
	explicit SelfSeries(ProgramReader programs, std::string proc = "/proc");

	std::vector<prometheus::MetricFamily> Collect() const override;

private:
	void add_process(std::vector<prometheus::MetricFamily> &families) const;
	void add_programs(std::vector<prometheus::MetricFamily> &families) const;

	ProgramReader programs_;
	std::string proc_;
};

} // namespace rstwatch
