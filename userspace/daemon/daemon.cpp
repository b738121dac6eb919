#include "daemon/daemon.h"

#include "common/cgroup2.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "core/event_format.h"
#include "core/event_store.h"
#include "daemon/audit_worker.h"
#include "daemon/metrics/exposer.h"
#include "daemon/metrics/metrics.h"
#include "daemon/pipeline.h"
#include "daemon/query/query_server.h"
#include "daemon/query/response.h"
#include "daemon/service_notify.h"
#include "loader/socket_owners.h"
#include "loader/tracer.h"

#include <bpf/libbpf.h>
#include <malloc.h>
#include <sys/epoll.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <memory>

namespace rstwatch
{

namespace
{

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
std::atomic<bool> g_verbose{false};

void on_stop_signal(int)
{
	g_stop.store(true, std::memory_order_relaxed);
}

void on_reload_signal(int)
{
	g_reload.store(true, std::memory_order_relaxed);
}

// libbpf explains a failure over many lines; without --verbose rstwatchd
// prints its own one-line error instead.
int print_libbpf(enum libbpf_print_level, const char *format, va_list args)
{
	if (!g_verbose.load(std::memory_order_relaxed))
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, format, args);
}

// Tags in epoll_event.data: which source is ready.
enum : uint32_t { kRingReady = 1, kQueryReady = 2, kAuditReady = 3 };

// About a millisecond of work at the daemon's per-event cost.
constexpr size_t kDrainSlice = EventPipeline::kMaxBatch;
constexpr size_t kDrainSliceWhileAnswering = 128;
constexpr auto kClockResyncInterval = std::chrono::seconds(10);
constexpr auto kMetricsDecayInterval = std::chrono::seconds(60);

void watch(int epoll_fd, int fd, uint32_t tag, const char *what)
{
	epoll_event event{};
	event.events = EPOLLIN;
	event.data.u32 = tag;
	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0)
		throw Error(std::string("epoll_ctl on ") + what + " failed: " + errno_text(errno));
}

} // namespace

void install_signal_handlers()
{
	struct sigaction action = {};
	action.sa_handler = on_stop_signal;
	sigemptyset(&action.sa_mask);
	// No SA_RESTART: epoll_wait must return EINTR so the loop sees the flag.
	sigaction(SIGINT, &action, nullptr);
	sigaction(SIGTERM, &action, nullptr);
	action.sa_handler = on_reload_signal;
	sigaction(SIGHUP, &action, nullptr);
	signal(SIGPIPE, SIG_IGN);
	libbpf_set_print(print_libbpf);
}

// Everything the running daemon holds. Members are destroyed in reverse:
// the listeners go before the metrics and store they read, and everything
// before the tracer (the /metrics threads read its counters).
struct Daemon::State {
	std::unique_ptr<Tracer> tracer;
	std::unique_ptr<SocketOwners> owners;
	OutputContext output;
	EventStore store;
	std::unique_ptr<ResetMetrics> metrics;
	std::unique_ptr<EventPipeline> pipeline;
	std::unique_ptr<MetricsExposer> exposer;
	std::unique_ptr<QueryServer> server;
	// Before everything it reads (owners, metrics, server) goes.
	std::unique_ptr<AuditWorker> audits;
	ServiceNotifier notifier;
	UniqueFd epoll;
	int64_t started_ns = realtime_now_ns();
	std::string status; // what systemctl status shows while running

	explicit State(size_t store_capacity) : store(store_capacity) {}
};

Daemon::Daemon(DaemonConfig config, std::vector<std::string> args)
    : config_(std::move(config)), args_(std::move(args))
{
	g_verbose.store(config_.verbose);
}

Daemon::~Daemon() = default;

namespace
{

void print_hooks(const Tracer &tracer)
{
	for (const auto &hook : tracer.hooks()) {
		log::info(hook.tracepoint + " via " + std::string(variant_name(hook.variant)) +
		          (hook.detail.empty() ? "" : ": ") + hook.detail);
	}
	for (const auto &hook : tracer.missing_hooks())
		log::warning(hook.tracepoint + " " + hook.detail);
	if (!tracer.hz())
		log::warning("CONFIG_HZ unknown (no /proc/config.gz or /boot/config-*): linger and "
		             "keepalive times are reported in jiffies");
}

std::unique_ptr<ResetMetrics> make_metrics(const Tracer &tracer, const DaemonConfig &config)
{
	MetricsSources sources;
	sources.version = RSTWATCH_VERSION;
	sources.kernel_counters = [&tracer] { return tracer.read_counters(); };
	sources.reason_names = tracer.reason_names();
	sources.kernel_has_reasons = tracer.send_reset_has_reason();
	sources.hooks = tracer.hooks();
	sources.missing_hooks = tracer.missing_hooks();
	sources.program_stats = [&tracer] { return tracer.program_stats(); };
	return std::make_unique<ResetMetrics>(
	    std::move(sources), config.top_series,
	    parse_workload_label(config.metrics_workload_label).value_or(WorkloadLabel::None));
}

} // namespace

query::DaemonStats Daemon::stats(const State &state) const
{
	query::DaemonStats stats;
	stats.version = RSTWATCH_VERSION;
	stats.started_ns = state.started_ns;
	stats.now_ns = realtime_now_ns();
	stats.events = state.pipeline->events();
	stats.decode_errors = state.pipeline->decode_errors();
	KernelCounters counters = state.tracer->read_counters();
	stats.lost_events = counters.lost_events;
	stats.sent = counters.sent;
	stats.received = counters.received;
	stats.by_cause = counters.by_cause;
	stats.store_size = state.store.size();
	stats.store_capacity = state.store.capacity();
	stats.store_oldest_id = state.store.oldest_id();
	stats.store_newest_id = state.store.newest_id();
	if (state.server) {
		stats.clients = state.server->clients();
		stats.followers = state.server->followers();
		stats.clients_dropped = state.server->dropped();
	}
	for (const HookStatus &hook : state.tracer->hooks())
		stats.hooks.emplace_back(hook.tracepoint, std::string(variant_name(hook.variant)));
	return stats;
}

void Daemon::start(State &state)
{
	TracerOptions tracer_options = config_.tracer;
	if (config_.hook_variant != "auto")
		tracer_options.forced_variant = parse_variant(config_.hook_variant);
	state.tracer = Tracer::open(tracer_options);
	state.tracer->load();
	state.tracer->attach();
	Tracer &tracer = *state.tracer;
	print_hooks(tracer);

	state.output = OutputContext{ReasonNames(tracer.reason_names()), tracer.classify_config(),
	                             config_.hostname};
	state.store.set_classify(state.output.classify);
	setvbuf(stdout, nullptr, _IOFBF, 1 << 16);
	state.metrics = make_metrics(tracer, config_);
	try {
		state.owners = std::make_unique<SocketOwners>(tracer.listeners_fd(), tracer.hz());
	} catch (const Error &e) {
		log::warning(std::string(e.what()) +
		             ": resets handled in softirq or timers on sockets a process holds are "
		             "attributed only to their listener's owner, or not at all");
	}
	state.pipeline = std::make_unique<EventPipeline>(
	    state.output, state.store, *state.metrics,
	    WorkloadSources{cgroup2_mount(), config_.pods_log_dir}, state.owners.get());
	state.pipeline->set_output({.json = config_.json, .quiet = config_.quiet});
	tracer.set_record_handler([&pipeline = *state.pipeline](const void *data, size_t size) {
		pipeline.add_record(data, size);
	});

	if (!config_.metrics_listen.empty())
		state.exposer =
		    std::make_unique<MetricsExposer>(config_.metrics_listen, *state.metrics);
	if (!config_.socket_path.empty()) {
		QueryServer::Hooks hooks;
		hooks.dropped = [&metrics = *state.metrics](std::string_view reason) {
			metrics.client_dropped(reason);
		};
		hooks.served = [&metrics = *state.metrics](std::string_view command, bool ok) {
			metrics.request_served(command, ok);
		};
		hooks.stats = [this, &state] { return stats(state); };
		hooks.audit = [&state](const query::ClientTicket &ticket,
		                       const query::Request &request) {
			if (!state.audits)
				return false;
			state.audits->submit(ticket, request, state.metrics->idle_timeout_seen());
			return true;
		};
		state.server = std::make_unique<QueryServer>(
		    config_.socket_path, config_.socket_group, config_.limits, state.store,
		    state.output, std::move(hooks));
		if (state.server->group().empty())
			log::notice("group " + config_.socket_group +
			            " does not exist: only root may query " + config_.socket_path);
		state.pipeline->set_publisher(
		    [&server = *state.server](std::span<const ResetEvent> batch,
		                              EventPipeline::Clock::time_point now) {
			    server.publish(batch, now);
		    });
	}

	state.epoll.reset(epoll_create1(EPOLL_CLOEXEC));
	if (!state.epoll)
		throw Error("epoll_create1 failed: " + errno_text(errno));
	watch(state.epoll.get(), tracer.ring_epoll_fd(), kRingReady, "the ring buffer");
	if (state.server)
		watch(state.epoll.get(), state.server->fd(), kQueryReady, "the query socket");
	if (state.owners) {
		state.audits = std::make_unique<AuditWorker>(
		    [&owners = *state.owners](const AuditWorker::Record &record) {
			    owners.read_live_sockets(record);
		    },
		    WorkloadSources{cgroup2_mount(), config_.pods_log_dir}, config_.hostname);
		watch(state.epoll.get(), state.audits->fd(), kAuditReady, "the audit worker");
	}

	std::string metrics_text =
	    state.exposer ? "metrics on http://" + state.exposer->address() + "/metrics"
	                  : std::string("metrics off");
	std::string socket_text =
	    state.server ? "queries on " + state.server->path() : std::string("queries off");
	log::info("ready: " + std::to_string(tracer.hooks().size()) +
	          " hooks attached, ring buffer " +
	          std::to_string(tracer_options.ring_buffer_bytes / 1024) + " KiB, " +
	          metrics_text + ", " + socket_text);
	state.status = "tracing " + std::to_string(tracer.hooks().size()) + " hooks; " +
	               metrics_text + "; " + socket_text;
	state.notifier.ready(state.status);
}

// One slice of the ring per loop turn: queries, scrapes of the store and the
// watchdog get a turn between slices even while a storm keeps the ring full.
// Returns true when more records may be waiting.
bool Daemon::drain(State &state, Clock::time_point now)
{
	// While a long answer goes out in socket-buffer pieces, each piece
	// waits for a slice: smaller slices then (the ring holds seconds of a
	// storm; nothing is lost by the detour).
	size_t slice =
	    state.server && state.server->answering() ? kDrainSliceWhileAnswering : kDrainSlice;
	int consumed = state.tracer->consume(slice);
	if (consumed < 0 && consumed != -EINTR)
		throw Error("reading the ring buffer failed: " + errno_text(-consumed));
	state.pipeline->flush(now);
	return consumed == static_cast<int>(slice);
}

// The kernel side wakes us only when the ring is filling up; otherwise the
// drain timer empties it, which keeps wake-ups off the reset path.
void Daemon::loop(State &state)
{
	Clock::time_point now = Clock::now();
	Clock::time_point next_drain = now;
	bool ring_pending = false; // the last slice stopped with records left
	Clock::time_point last_resync = now;
	Clock::time_point last_decay = now;
	while (!g_stop.load(std::memory_order_relaxed)) {
		auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_drain - now);
		int timeout =
		    ring_pending ? 0 : static_cast<int>(std::max<int64_t>(0, wait.count()));
		epoll_event ready[4];
		int n = epoll_wait(state.epoll.get(), ready, 4, timeout);
		if (n < 0 && errno != EINTR)
			throw Error("epoll_wait failed: " + errno_text(errno));
		now = Clock::now();
		bool ring_ready = false, query_ready = false, audit_ready = false;
		for (int i = 0; i < n; i++) {
			ring_ready |= ready[i].data.u32 == kRingReady;
			query_ready |= ready[i].data.u32 == kQueryReady;
			audit_ready |= ready[i].data.u32 == kAuditReady;
		}
		if (ring_ready || ring_pending || now >= next_drain) {
			ring_pending = drain(state, now);
			if (!ring_pending)
				next_drain =
				    now + std::chrono::milliseconds(config_.drain_interval_ms);
		}
		if (state.server) {
			if (query_ready)
				state.server->handle_ready(now);
			state.server->expire(now);
			state.metrics->set_clients(state.server->clients(),
			                           state.server->followers());
		}
		if (state.audits) {
			if (audit_ready)
				state.audits->hand_out(state.server.get(), *state.metrics, now);
			state.audits->schedule(now,
			                       std::chrono::milliseconds(config_.audit_interval_ms),
			                       config_.audit_idle_over_ms);
		}
		state.metrics->set_store(state.store.size(), state.store.capacity());
		if (now - last_resync > kClockResyncInterval) {
			state.pipeline->resync_clock();
			// Hand back what a storm or a large response left free in
			// the heap: glibc keeps it otherwise, and RSS is a target.
			malloc_trim(0);
			last_resync = now;
		}
		if (now - last_decay > kMetricsDecayInterval) {
			state.metrics->decay();
			last_decay = now;
		}
		state.notifier.feed_watchdog(now);
		if (g_reload.exchange(false))
			reload(state);
	}
}

// Drains what the kernel wrote before the signal, then reports the totals.
void Daemon::stop(State &state)
{
	state.notifier.stopping();
	// Bounded by what the ring held: a storm that goes on keeps writing.
	size_t ring_records = config_.tracer.ring_buffer_bytes / sizeof(rstwatch_event);
	for (size_t slice = 0; slice <= ring_records / kDrainSlice; slice++) {
		if (!drain(state, Clock::now()))
			break;
	}
	// Events still waiting for their owner go out with what is known.
	state.pipeline->flush(Clock::now(), true);
	KernelCounters counters = state.tracer->read_counters();
	log::info("stopping: " + std::to_string(state.pipeline->events()) + " events, " +
	          std::to_string(counters.lost_events) + " lost in the kernel, " +
	          std::to_string(state.pipeline->decode_errors()) + " decode errors, " +
	          std::to_string(counters.sent) + " resets sent, " +
	          std::to_string(counters.received) + " received");
}

int Daemon::run()
{
	State state(config_.store_capacity);
	start(state);
	loop(state);
	stop(state);
	return 0;
}

void Daemon::reload(State &state)
{
	state.notifier.reloading();
	ConfigOutcome outcome = load_config(args_);
	if (!outcome.config) {
		log::write(log::Level::Error, "",
		           "reload failed, keeping the running configuration: " + outcome.message);
		state.metrics->config_reloaded(false);
		state.notifier.ready("reload failed, running the previous configuration: " +
		                     outcome.message);
		return;
	}
	DaemonConfig next = std::move(*outcome.config);
	for (const std::string &name : restart_only_changes(config_, next))
		log::write(log::Level::Warning, "",
		           "reload: " + name + " changed; it takes effect at the next restart");
	next.hook_variant = config_.hook_variant;
	next.tracer = config_.tracer;
	next.metrics_listen = config_.metrics_listen;
	next.socket_path = config_.socket_path;
	next.socket_group = config_.socket_group;
	next.metrics_workload_label = config_.metrics_workload_label;
	next.pods_log_dir = config_.pods_log_dir;
	next.hostname = config_.hostname;

	if (next.store_capacity != state.store.capacity())
		state.store.set_capacity(next.store_capacity);
	if (next.top_series != config_.top_series)
		state.metrics->set_top_series(next.top_series);
	if (state.server)
		state.server->set_limits(next.limits);
	state.pipeline->set_output({.json = next.json, .quiet = next.quiet});
	g_verbose.store(next.verbose);
	config_ = std::move(next);
	log::info(std::string("reloaded configuration") +
	          (config_.config_path.empty() ? " (no config file)" : " from ") +
	          config_.config_path);
	state.metrics->config_reloaded(true);
	state.notifier.ready(state.status);
}

} // namespace rstwatch
