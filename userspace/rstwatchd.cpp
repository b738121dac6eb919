// rstwatchd: loads the reset probes, drains their ring buffer and reports
// every TCP reset this host sends or receives.
#include "cgroup2.h"
#include "enrich.h"
#include "error.h"
#include "event_format.h"
#include "reset_event.h"
#include "tracer.h"

#include <CLI/CLI.hpp>
#include <bpf/libbpf.h>
#include <sys/epoll.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

namespace
{

std::atomic<bool> g_stop{false};
bool g_verbose = false;

void on_stop_signal(int)
{
	g_stop.store(true, std::memory_order_relaxed);
}

// libbpf explains a failure over many lines; without --verbose rstwatchd
// prints its own one-line error instead.
int print_libbpf(enum libbpf_print_level, const char *format, va_list args)
{
	if (!g_verbose)
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, format, args);
}

void install_signal_handlers()
{
	struct sigaction action = {};
	action.sa_handler = on_stop_signal;
	sigemptyset(&action.sa_mask);
	// No SA_RESTART: epoll_wait must return EINTR so the loop sees the flag.
	sigaction(SIGINT, &action, nullptr);
	sigaction(SIGTERM, &action, nullptr);
	signal(SIGPIPE, SIG_IGN);
}

struct Options {
	bool json = false;
	std::string hook_variant = "auto";
	rstwatch::TracerOptions tracer;
	unsigned drain_interval_ms = 50;
};

// Turns ring buffer records into output lines. Records are decoded into a
// reused batch, enriched together (peer links need both ends), then printed;
// lines are flushed once per drain, not per event.
class EventPrinter
{
public:
	EventPrinter(bool json, rstwatch::OutputContext context)
	    : json_(json), context_(std::move(context)), enricher_(rstwatch::cgroup2_mount())
	{
		setvbuf(stdout, nullptr, _IOFBF, 1 << 16);
	}

	void on_record(const void *data, size_t size)
	{
		rstwatch::ResetEvent &event = batch_.emplace_back();
		rstwatch::DecodeStatus status = rstwatch::decode_event(data, size, event.raw);
		if (status != rstwatch::DecodeStatus::Ok) {
			batch_.pop_back();
			decode_errors_++;
			return;
		}
		event.id = ++events_;
		event.realtime_ns = clock_.convert(event.raw.timestamp_ns);
	}

	void finish_batch()
	{
		enricher_.enrich(batch_);
		for (const rstwatch::ResetEvent &event : batch_) {
			std::string line = json_ ? rstwatch::event_to_json(event, context_).dump()
			                         : rstwatch::event_to_text(event, context_);
			line.push_back('\n');
			fwrite(line.data(), 1, line.size(), stdout);
		}
		if (!batch_.empty())
			fflush(stdout);
		batch_.clear();
	}

	void resync_clock() { clock_.resync(); }
	uint64_t events() const { return events_; }
	uint64_t decode_errors() const { return decode_errors_; }

private:
	bool json_;
	rstwatch::OutputContext context_;
	rstwatch::MonotonicToRealtime clock_;
	rstwatch::Enricher enricher_;
	std::vector<rstwatch::ResetEvent> batch_;
	uint64_t events_ = 0;
	uint64_t decode_errors_ = 0;
};

int run(const Options &options)
{
	auto tracer = rstwatch::Tracer::open(options.tracer);
	tracer->load();
	tracer->attach();

	for (const auto &hook : tracer->hooks()) {
		fprintf(stderr, "rstwatchd: %s via %s%s%s\n", hook.tracepoint.c_str(),
		        std::string(rstwatch::variant_name(hook.variant)).c_str(),
		        hook.detail.empty() ? "" : ": ", hook.detail.c_str());
	}
	for (const auto &hook : tracer->missing_hooks())
		fprintf(stderr, "rstwatchd: warning: %s %s\n", hook.tracepoint.c_str(),
		        hook.detail.c_str());
	if (!tracer->hz())
		fprintf(stderr,
		        "rstwatchd: warning: CONFIG_HZ unknown (no /proc/config.gz or "
		        "/boot/config-*): linger and keepalive times are reported in jiffies\n");

	EventPrinter printer(options.json,
	                     rstwatch::OutputContext{rstwatch::ReasonNames(tracer->reason_names()),
	                                             tracer->classify_config()});
	tracer->set_record_handler(
	    [&printer](const void *data, size_t size) { printer.on_record(data, size); });

	rstwatch::UniqueFd epoll_fd(epoll_create1(EPOLL_CLOEXEC));
	if (!epoll_fd)
		throw rstwatch::Error("epoll_create1 failed: " + rstwatch::errno_text(errno));
	epoll_event ring_event = {};
	ring_event.events = EPOLLIN;
	if (epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, tracer->ring_epoll_fd(), &ring_event))
		throw rstwatch::Error("epoll_ctl on the ring buffer failed: " +
		                      rstwatch::errno_text(errno));

	fprintf(stderr, "rstwatchd: ready: %zu hooks attached, ring buffer %u KiB\n",
	        tracer->hooks().size(), options.tracer.ring_buffer_bytes / 1024);

	auto last_resync = std::chrono::steady_clock::now();
	// The kernel side wakes us only when the ring is filling up; otherwise
	// the timeout below drains it, which keeps wake-ups off the reset path.
	while (!g_stop.load(std::memory_order_relaxed)) {
		epoll_event ready[4];
		int n = epoll_wait(epoll_fd.get(), ready, 4, options.drain_interval_ms);
		if (n < 0 && errno != EINTR)
			throw rstwatch::Error("epoll_wait failed: " + rstwatch::errno_text(errno));
		int consumed = tracer->consume();
		if (consumed < 0 && consumed != -EINTR)
			throw rstwatch::Error("reading the ring buffer failed: " +
			                      rstwatch::errno_text(consumed));
		printer.finish_batch();
		auto now = std::chrono::steady_clock::now();
		if (now - last_resync > std::chrono::seconds(10)) {
			printer.resync_clock();
			last_resync = now;
		}
	}

	// Drain what the kernel wrote before the signal, then detach.
	tracer->consume();
	printer.finish_batch();
	rstwatch::KernelCounters counters = tracer->read_counters();
	fprintf(stderr,
	        "rstwatchd: stopping: %llu events, %llu lost in the kernel, %llu decode errors, "
	        "%llu resets sent, %llu received\n",
	        static_cast<unsigned long long>(printer.events()),
	        static_cast<unsigned long long>(counters.lost_events),
	        static_cast<unsigned long long>(printer.decode_errors()),
	        static_cast<unsigned long long>(counters.sent),
	        static_cast<unsigned long long>(counters.received));
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	Options options;
	CLI::App app{"rstwatchd: tells who sent each TCP reset on this host, and why.\n"
	             "Loads CO-RE eBPF programs on the kernel's reset and close paths and "
	             "prints one line per reset sent or received (needs root, or CAP_BPF "
	             "and CAP_PERFMON)."};
	app.set_version_flag("--version", std::string("rstwatchd ") + RSTWATCH_VERSION);
	app.add_flag("--json", options.json, "Write one JSON object per reset to stdout");
	app.add_option("--hook-variant", options.hook_variant,
	               "Program type for every hook: auto picks the best the kernel supports")
	    ->check(CLI::IsMember({"auto", "tp_btf", "raw_tp", "tracepoint"}))
	    ->capture_default_str();
	app.add_option("--btf", options.tracer.btf_path, "Kernel BTF used for CO-RE relocations")
	    ->capture_default_str();
	app.add_option("--ring-buffer-bytes", options.tracer.ring_buffer_bytes,
	               "Size of the BPF ring buffer: a power of two, at least 4096")
	    ->check([](const std::string &text) -> std::string {
		    unsigned long long value = 0;
		    try {
			    value = std::stoull(text);
		    } catch (const std::exception &) {
			    return "must be a number";
		    }
		    if (value < 4096 || (value & (value - 1)) || value > (1ull << 30))
			    return "must be a power of two between 4096 and 1073741824";
		    return "";
	    })
	    ->capture_default_str();
	app.add_option("--owner-map-entries", options.tracer.owner_entries,
	               "Sockets whose owner is remembered at once")
	    ->check(CLI::Range(1024u, 1u << 24))
	    ->capture_default_str();
	app.add_flag("!--no-ttl-tracking", options.tracer.ttl_tracking,
		     "Do not attach the per-packet cgroup_skb hook that keeps each flow's TTL "
		     "(without it, middlebox_injected cannot be detected)");
	app.add_flag("--ttl-every-segment", options.tracer.ttl_every_segment,
		     "Keep the TTL baseline from every received segment, not only SYN-ACKs and "
		     "RSTs: accepted sockets get a baseline too, at a per-packet cost");
	app.add_option("--idle-threshold-ms", options.tracer.idle_threshold_ms,
		       "Silence before a received reset that makes it an idle timeout "
		       "(peer_idle_timeout, stale_connection_reuse)")
		->check(CLI::Range(1u, 86400000u))
		->capture_default_str();
	app.add_option("--drain-interval-ms", options.drain_interval_ms,
	               "How often the ring buffer is drained when the kernel does not wake us")
	    ->check(CLI::Range(1u, 1000u))
	    ->capture_default_str();
	app.add_flag("--verbose", g_verbose, "Print libbpf's debug output and the verifier log");

	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		int code = app.exit(e);
		return code == 0 ? 0 : 2;
	}

	if (options.hook_variant != "auto")
		options.tracer.forced_variant = rstwatch::parse_variant(options.hook_variant);
	libbpf_set_print(print_libbpf);
	install_signal_handlers();
	try {
		return run(options);
	} catch (const rstwatch::Error &e) {
		fprintf(stderr, "rstwatchd: error: %s\n", e.what());
		return 1;
	}
}
