// The Prometheus surface: a registry of rstwatch_* series (prometheus-cpp),
// served on /metrics by MetricsExposer (exposer.h).
//
// Totals by direction, cause, kernel reason and state are read from the
// kernel's per-CPU counters at scrape time (kernel_series.h), so they stay
// exact when the ring buffer drops events. Series that need the event itself
// (process, local port, idle time, unread bytes) are updated from each drained
// event, and the per-process and per-port ones are held to a bounded number of
// series (top_series.h).
#pragma once

#include "core/audit_risks.h"
#include "core/reset_event.h"
#include "daemon/metrics/top_series.h"
#include "daemon/metrics/workload_series.h"
#include "loader/tracer_types.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rstwatch
{

// Why the query server let go of a client; the label values of
// rstwatch_query_clients_dropped_total.
inline constexpr std::array<std::string_view, 7> kClientDropReasons = {
    "permission_denied", "too_many_clients", "too_many_clients_per_uid",
    "request_too_large", "read_timeout",     "write_timeout",
    "slow_follower"};

class KernelSeries;
class SelfSeries;

struct MetricsSources {
	std::string version;
	// Called from the HTTP server's threads at every scrape.
	std::function<KernelCounters()> kernel_counters;
	// enum sk_rst_reason names by value; empty when the kernel has none.
	std::vector<std::string> reason_names;
	bool kernel_has_reasons = false;
	std::vector<HookStatus> hooks;
	std::vector<HookStatus> missing_hooks;
	// Run-time statistics of rstwatchd's BPF programs; called from the
	// HTTP server's threads, only while kernel.bpf_stats_enabled is on.
	std::function<std::vector<ProgramStats>()> program_stats;
};

class ResetMetrics
{
public:
	// `workload` adds rstwatch_resets_by_workload_total with that label.
	ResetMetrics(MetricsSources sources, unsigned top_series,
	             WorkloadLabel workload = WorkloadLabel::None);
	~ResetMetrics();
	ResetMetrics(const ResetMetrics &) = delete;
	ResetMetrics &operator=(const ResetMetrics &) = delete;

	// Per drained event: no allocation unless a new series is admitted.
	void observe(const ResetEvent &event);
	void observe_decode_error() { decode_errors_->Increment(); }
	// Halves the recent counts that decide which processes and ports
	// hold a series; the daemon calls it once a minute.
	void decay();
	void set_top_series(unsigned top_series);

	void client_dropped(std::string_view reason);
	void request_served(std::string_view command, bool ok);
	void set_clients(size_t clients, size_t followers);
	void set_store(size_t events, size_t capacity);
	void config_reloaded(bool ok);
	// The periodic audit's count of live sockets per risk; the series
	// appear with the first audit.
	void set_sockets_at_risk(const std::array<uint64_t, kRiskCount> &sockets);
	// What the received-reset idle histogram says about idle timeouts.
	std::optional<IdleTimeoutSeen> idle_timeout_seen() const;

	// What /metrics serves, in the order it serves it.
	std::vector<std::weak_ptr<prometheus::Collectable>> collectables() const;
	// The text exposition format, as a scrape returns it.
	std::string serialize() const;

private:
	std::shared_ptr<prometheus::Registry> registry_;
	std::shared_ptr<KernelSeries> kernel_;
	std::shared_ptr<SelfSeries> self_;

	prometheus::Counter *events_;
	prometheus::Counter *decode_errors_;
	std::array<std::unique_ptr<TopSeries<CommKey, CommKeyHash>>, 2> by_process_;
	std::array<prometheus::Counter *, 2> unattributed_{};
	std::array<std::unique_ptr<TopSeries<uint16_t>>, 2> by_port_;
	std::array<std::unique_ptr<TopSeries<uint16_t>>, 2> by_remote_port_;
	std::unique_ptr<WorkloadSeries> by_workload_; // null without the option
	prometheus::Histogram *idle_seconds_;
	std::array<prometheus::Histogram *, 2> unread_bytes_{};
	std::map<std::string, prometheus::Counter *, std::less<>> clients_dropped_;
	std::map<std::string, prometheus::Counter *, std::less<>> requests_;
	prometheus::Gauge *clients_;
	prometheus::Gauge *followers_;
	prometheus::Gauge *store_events_;
	prometheus::Gauge *store_capacity_;
	std::array<prometheus::Counter *, 2> reloads_{};
	prometheus::Family<prometheus::Gauge> *at_risk_family_;
	std::array<prometheus::Gauge *, kRiskCount> at_risk_{};
};

} // namespace rstwatch
