// Building metric families by hand, for the collectables whose values are
// read at scrape time (kernel counters, the process's own cost) rather than
// kept in prometheus-cpp's registry.
#pragma once

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <string>
#include <utility>
#include <vector>

namespace rstwatch
{

inline prometheus::MetricFamily metric_family(std::string name, std::string help,
                                              prometheus::MetricType type)
{
	prometheus::MetricFamily family;
	family.name = std::move(name);
	family.help = std::move(help);
	family.type = type;
	return family;
}

inline prometheus::MetricFamily counter_family(std::string name, std::string help)
{
	return metric_family(std::move(name), std::move(help), prometheus::MetricType::Counter);
}

inline void add_counter(prometheus::MetricFamily &family,
                        std::vector<prometheus::ClientMetric::Label> labels, double value)
{
	prometheus::ClientMetric metric;
	metric.label = std::move(labels);
	metric.counter.value = value;
	family.metric.push_back(std::move(metric));
}

inline void add_gauge(prometheus::MetricFamily &family,
                      std::vector<prometheus::ClientMetric::Label> labels, double value)
{
	prometheus::ClientMetric metric;
	metric.label = std::move(labels);
	metric.gauge.value = value;
	family.metric.push_back(std::move(metric));
}

} // namespace rstwatch
