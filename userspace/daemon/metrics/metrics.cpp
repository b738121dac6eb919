#include "daemon/metrics/metrics.h"

#include "common/text_escape.h"
#include "core/owner.h"
#include "daemon/metrics/kernel_series.h"
#include "daemon/metrics/self_series.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cstring>

namespace rstwatch
{

namespace
{

using prometheus::MetricFamily;

size_t direction_index(uint8_t direction)
{
	return direction == RSTWATCH_DIR_RECEIVED ? 1 : 0;
}

// Proxies and load balancers commonly time idle connections out at 30 s,
// 60 s (nginx, ELB), 120 s, 300 s, 350 s (AWS NAT gateway, GCP LB), 600 s,
// 900 s and 3600 s: a spike just below one of these names the intermediary.
const prometheus::Histogram::BucketBoundaries kIdleBuckets = {
    0.1, 1, 5, 10, 15, 30, 60, 120, 300, 350, 600, 900, 1800, 3600, 7200};
const prometheus::Histogram::BucketBoundaries kUnreadBuckets = {
    0, 1, 64, 512, 4096, 16384, 65536, 262144, 1048576, 4194304};

// Label values must be valid UTF-8, or Prometheus rejects the whole scrape;
// a comm is whatever bytes its process chose.
std::string comm_label(const CommKey &key)
{
	return valid_utf8(
	    std::string_view(key.bytes.data(), strnlen(key.bytes.data(), key.bytes.size())));
}

// The key of a comm's series, one per label value: each U+FFFD its label
// will show (for an invalid subpart, or one the name held) as a single 0xff
// byte, which comm_label() turns back into U+FFFD. Two names showing the same
// label then count in one series, and no series is ever the label of two
// keys (removing one would leave the other pointing at a freed counter). The
// key is never longer than the name.
CommKey comm_key(const char (&comm)[RSTWATCH_COMM_LEN])
{
	CommKey key;
	std::string_view name = comm_text(comm);
	if (needs_no_escaping(name) ||
	    (is_valid_utf8(name) && name.find(kReplacementCharacter) == std::string_view::npos)) {
		std::memcpy(key.bytes.data(), name.data(), name.size());
		return key;
	}
	std::string label = valid_utf8(name);
	size_t length = 0;
	for (size_t at = 0; at < label.size(); length++) {
		if (label.compare(at, kReplacementCharacter.size(), kReplacementCharacter) == 0) {
			key.bytes[length] = '\xff';
			at += kReplacementCharacter.size();
		} else {
			key.bytes[length] = label[at++];
		}
	}
	return key;
}

} // namespace

ResetMetrics::ResetMetrics(MetricsSources sources, unsigned top_series, WorkloadLabel workload)
    : registry_(std::make_shared<prometheus::Registry>()),
      kernel_(std::make_shared<KernelSeries>(sources.kernel_counters, sources.reason_names,
                                             sources.kernel_has_reasons)),
      self_(std::make_shared<SelfSeries>(sources.program_stats))
{
	auto &registry = *registry_;
	events_ = &prometheus::BuildCounter()
	               .Name("rstwatch_events_total")
	               .Help("Reset events read from the ring buffer and decoded")
	               .Register(registry)
	               .Add({});
	decode_errors_ =
	    &prometheus::BuildCounter()
	         .Name("rstwatch_decode_errors_total")
	         .Help("Ring buffer records that were not a valid event of this version")
	         .Register(registry)
	         .Add({});

	auto &by_process = prometheus::BuildCounter()
	                       .Name("rstwatch_resets_by_process_total")
	                       .Help("Reset events by the process they are attributed to (comm), "
	                             "for the busiest processes; the rest count in comm=\"other\"")
	                       .Register(registry);
	// Labelled by the service's port, never an ephemeral one: this host's
	// port when it is a listener's, the peer's when this host connected.
	auto &by_port = prometheus::BuildCounter()
	                    .Name("rstwatch_resets_by_local_port_total")
	                    .Help("Reset events on connections to this host's services, by the "
	                          "local (listening) port, for the busiest ports; the rest count "
	                          "in local_port=\"other\"")
	                    .Register(registry);
	auto &by_remote_port = prometheus::BuildCounter()
	                           .Name("rstwatch_resets_by_remote_port_total")
	                           .Help("Reset events on connections this host made, by the "
	                                 "remote (service) port, for the busiest ports; the rest "
	                                 "count in remote_port=\"other\"")
	                           .Register(registry);
	for (size_t direction = 0; direction < 2; direction++) {
		prometheus::Labels fixed = {
		    {"direction", std::string(kDirectionLabels[direction])}};
		by_process_[direction] = std::make_unique<TopSeries<CommKey, CommKeyHash>>(
		    by_process, fixed, "comm", comm_label, top_series);
		prometheus::Labels unattributed = fixed;
		unattributed["comm"] = "unattributed";
		unattributed_[direction] = &by_process.Add(unattributed);
		auto port_label = [](const uint16_t &port) { return std::to_string(port); };
		by_port_[direction] = std::make_unique<TopSeries<uint16_t>>(
		    by_port, fixed, "local_port", port_label, top_series);
		by_remote_port_[direction] = std::make_unique<TopSeries<uint16_t>>(
		    by_remote_port, fixed, "remote_port", port_label, top_series);
	}
	if (workload != WorkloadLabel::None)
		by_workload_ = std::make_unique<WorkloadSeries>(registry, workload, top_series);

	idle_seconds_ = &prometheus::BuildHistogram()
	                     .Name("rstwatch_received_reset_idle_seconds")
	                     .Help("How long a connection had been silent (nothing sent or "
	                           "received) when a reset arrived; proxy and load balancer idle "
	                           "timeouts show as a spike below their bucket")
	                     .Register(registry)
	                     .Add({}, kIdleBuckets);
	auto &unread = prometheus::BuildHistogram()
	                   .Name("rstwatch_reset_unread_bytes")
	                   .Help("Bytes received but not yet read by the application when the "
	                         "connection was reset")
	                   .Register(registry);
	for (size_t direction = 0; direction < 2; direction++)
		unread_bytes_[direction] = &unread.Add(
		    {{"direction", std::string(kDirectionLabels[direction])}}, kUnreadBuckets);

	auto &attached = prometheus::BuildGauge()
	                     .Name("rstwatch_probe_attached")
	                     .Help("1 for each hook attached, with the program type it uses; 0 for "
	                           "optional hooks this kernel lacks")
	                     .Register(registry);
	for (const HookStatus &hook : sources.hooks)
		attached
		    .Add({{"hook", hook.tracepoint},
		          {"variant", std::string(variant_name(hook.variant))}})
		    .Set(hook.attached ? 1 : 0);
	for (const HookStatus &hook : sources.missing_hooks)
		attached.Add({{"hook", hook.tracepoint}, {"variant", "none"}}).Set(0);

	prometheus::BuildGauge()
	    .Name("rstwatch_build_info")
	    .Help("rstwatchd's version and what the running kernel offers it; always 1")
	    .Register(registry)
	    .Add({{"version", sources.version},
	          {"event_version", std::to_string(RSTWATCH_EVENT_VERSION)},
	          {"kernel_reasons", sources.kernel_has_reasons ? "true" : "false"}})
	    .Set(1);

	auto &dropped = prometheus::BuildCounter()
	                    .Name("rstwatch_query_clients_dropped_total")
	                    .Help("Query socket clients refused or disconnected, by reason")
	                    .Register(registry);
	for (std::string_view reason : kClientDropReasons)
		clients_dropped_.emplace(std::string(reason),
		                         &dropped.Add({{"reason", std::string(reason)}}));
	auto &requests = prometheus::BuildCounter()
	                     .Name("rstwatch_query_requests_total")
	                     .Help("Query socket requests, by command and whether they succeeded")
	                     .Register(registry);
	for (std::string_view command :
	     {"recent", "top", "stats", "follow", "explain", "audit", "invalid"}) {
		for (std::string_view result : {"ok", "error"}) {
			std::string key = std::string(command) + "/" + std::string(result);
			requests_.emplace(key, &requests.Add({{"command", std::string(command)},
			                                      {"result", std::string(result)}}));
		}
	}
	clients_ = &prometheus::BuildGauge()
	                .Name("rstwatch_query_clients")
	                .Help("Clients connected to the query socket, followers included")
	                .Register(registry)
	                .Add({});
	followers_ = &prometheus::BuildGauge()
	                  .Name("rstwatch_query_followers")
	                  .Help("Clients streaming new resets (follow)")
	                  .Register(registry)
	                  .Add({});
	store_events_ = &prometheus::BuildGauge()
	                     .Name("rstwatch_store_events")
	                     .Help("Events held in memory for queries")
	                     .Register(registry)
	                     .Add({});
	store_capacity_ = &prometheus::BuildGauge()
	                       .Name("rstwatch_store_capacity_events")
	                       .Help("Events the query store holds before it forgets the oldest")
	                       .Register(registry)
	                       .Add({});
	auto &reloads = prometheus::BuildCounter()
	                    .Name("rstwatch_config_reloads_total")
	                    .Help("Configuration reloads (SIGHUP), by result")
	                    .Register(registry);
	reloads_[0] = &reloads.Add({{"result", "success"}});
	reloads_[1] = &reloads.Add({{"result", "failure"}});
	at_risk_family_ = &prometheus::BuildGauge()
	                       .Name("rstwatch_sockets_at_risk")
	                       .Help("Live TCP sockets headed for a reset, by risk, as the "
	                             "periodic audit (--audit-interval) last found them")
	                       .Register(registry);
}

ResetMetrics::~ResetMetrics() = default;

void ResetMetrics::observe(const ResetEvent &event)
{
	const rstwatch_event &raw = event.raw;
	size_t direction = direction_index(raw.direction);
	events_->Increment();
	if (!owner_named(raw.owner_source)) {
		unattributed_[direction]->Increment();
	} else {
		by_process_[direction]->increment(comm_key(raw.owner_comm));
	}
	if (ServicePort service = service_port(raw); service.local)
		by_port_[direction]->increment(service.port);
	else
		by_remote_port_[direction]->increment(service.port);
	if (by_workload_)
		by_workload_->observe(event);
	// Socket fields are only read for full sockets (not TIME_WAIT, not
	// resets sent for no socket).
	if (raw.flags & RSTWATCH_F_FULL_SOCKET) {
		unread_bytes_[direction]->Observe(raw.unread_bytes);
		if (raw.direction == RSTWATCH_DIR_RECEIVED)
			idle_seconds_->Observe(
			    std::min(raw.idle_since_send_ms, raw.idle_since_receive_ms) / 1000.0);
	}
}

void ResetMetrics::decay()
{
	for (size_t direction = 0; direction < 2; direction++) {
		by_process_[direction]->decay();
		by_port_[direction]->decay();
		by_remote_port_[direction]->decay();
	}
	if (by_workload_)
		by_workload_->decay();
}

void ResetMetrics::set_top_series(unsigned top_series)
{
	for (size_t direction = 0; direction < 2; direction++) {
		by_process_[direction]->set_limit(top_series);
		by_port_[direction]->set_limit(top_series);
		by_remote_port_[direction]->set_limit(top_series);
	}
	if (by_workload_)
		by_workload_->set_limit(top_series);
}

void ResetMetrics::client_dropped(std::string_view reason)
{
	if (auto it = clients_dropped_.find(reason); it != clients_dropped_.end())
		it->second->Increment();
}

void ResetMetrics::request_served(std::string_view command, bool ok)
{
	std::string key = std::string(command) + (ok ? "/ok" : "/error");
	if (auto it = requests_.find(key); it != requests_.end())
		it->second->Increment();
}

void ResetMetrics::set_clients(size_t clients, size_t followers)
{
	clients_->Set(static_cast<double>(clients));
	followers_->Set(static_cast<double>(followers));
}

void ResetMetrics::set_store(size_t events, size_t capacity)
{
	store_events_->Set(static_cast<double>(events));
	store_capacity_->Set(static_cast<double>(capacity));
}

void ResetMetrics::config_reloaded(bool ok)
{
	reloads_[ok ? 0 : 1]->Increment();
}

void ResetMetrics::set_sockets_at_risk(const std::array<uint64_t, kRiskCount> &sockets)
{
	for (Risk risk : all_risks()) {
		prometheus::Gauge *&gauge = at_risk_[static_cast<size_t>(risk)];
		if (!gauge)
			gauge = &at_risk_family_->Add({{"risk", std::string(risk_name(risk))}});
		gauge->Set(static_cast<double>(sockets[static_cast<size_t>(risk)]));
	}
}

std::optional<IdleTimeoutSeen> ResetMetrics::idle_timeout_seen() const
{
	prometheus::ClientMetric metric = idle_seconds_->Collect();
	std::vector<double> bounds;
	std::vector<uint64_t> counts;
	for (const prometheus::ClientMetric::Bucket &bucket : metric.histogram.bucket) {
		bounds.push_back(bucket.upper_bound);
		counts.push_back(bucket.cumulative_count);
	}
	return rstwatch::idle_timeout_seen(bounds, counts);
}

std::vector<std::weak_ptr<prometheus::Collectable>> ResetMetrics::collectables() const
{
	return {kernel_, registry_, self_};
}

std::string ResetMetrics::serialize() const
{
	std::vector<MetricFamily> families;
	for (const auto &weak : collectables()) {
		std::vector<MetricFamily> more = weak.lock()->Collect();
		families.insert(families.end(), std::make_move_iterator(more.begin()),
		                std::make_move_iterator(more.end()));
	}
	return prometheus::TextSerializer().Serialize(families);
}

} // namespace rstwatch
