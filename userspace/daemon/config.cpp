#include "daemon/config.h"

#include "common/duration.h"
#include "daemon/metrics/exposer.h"

#include <CLI/CLI.hpp>
#include <sys/un.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace rstwatch
{

namespace
{

// A config file is a few dozen lines; past this, lines are not checked one
// by one (the file as a whole still is).
constexpr size_t kMaxConfigLines = 10000;

std::string check_ring_buffer_bytes(const std::string &text)
{
	unsigned long long value = 0;
	try {
		value = std::stoull(text);
	} catch (const std::exception &) {
		return "must be a number";
	}
	if (value < 4096 || (value & (value - 1)) || value > (1ull << 30))
		return "must be a power of two between 4096 and 1073741824";
	return "";
}

std::string check_socket_path(const std::string &path)
{
	if (path.empty() || path == "off")
		return "";
	if (path.front() != '/')
		return "must be an absolute path (or off)";
	if (path.size() >= sizeof(sockaddr_un::sun_path))
		return "must be shorter than " + std::to_string(sizeof(sockaddr_un::sun_path)) +
		       " bytes";
	if (path.back() == '/')
		return "must name a file, not a directory";
	return "";
}

// A name for a label and a log field: printable, bounded, no spaces.
std::string check_hostname(const std::string &name)
{
	if (name.empty() || name.size() > 253)
		return "must be 1 to 253 characters";
	for (unsigned char c : name)
		if (c <= 0x20 || c >= 0x7f)
			return "must be printable ASCII without spaces";
	return "";
}

std::string default_hostname()
{
	const char *node = std::getenv("NODE_NAME");
	if (node && check_hostname(node).empty())
		return node;
	char name[256] = {};
	if (gethostname(name, sizeof(name) - 1) != 0 || !check_hostname(name).empty())
		return "unknown";
	return name;
}

std::string check_metrics_listen(const std::string &listen)
{
	if (listen.empty() || listen == "off")
		return "";
	return validate_listen_address(listen);
}

// A duration as people write it ("90s", "5m"), turned into milliseconds for
// the option's variable; "0" too, when `zero_allowed`.
CLI::Validator duration_ms(bool zero_allowed)
{
	return CLI::Validator(
	    [zero_allowed](std::string &text) -> std::string {
		    if (zero_allowed && text == "0")
			    return "";
		    std::optional<int64_t> ns = parse_duration(text);
		    if (!ns || *ns == 0)
			    return "must be a duration: 90s, 5m, 1h30m" +
			           std::string(zero_allowed ? ", or 0 for never" : "");
		    text = std::to_string(*ns / 1'000'000);
		    return "";
	    },
	    "");
}

void define_options(CLI::App &app, DaemonConfig &config)
{
	app.set_version_flag("--version", std::string("rstwatchd ") + RSTWATCH_VERSION);
	// A setting the file misspells is an error, not silently ignored.
	app.allow_config_extras(CLI::config_extras_mode::error);
	app.set_config("--config", kDefaultConfigPath,
	               "Config file: \"name = value\" lines named like these long options "
	               "(the command line wins); a missing default file is not an error",
	               false);

	app.add_flag("--json", config.json, "Write one JSON object per reset to stdout");
	app.add_flag("--quiet", config.quiet,
	             "Do not write resets to stdout (query them with rstwatch, scrape /metrics)");
	app.add_option("--hook-variant", config.hook_variant,
	               "Program type for every hook: auto picks the best the kernel supports")
	    ->check(CLI::IsMember({"auto", "tp_btf", "raw_tp", "tracepoint"}))
	    ->capture_default_str();
	app.add_option("--btf", config.tracer.btf_path, "Kernel BTF used for CO-RE relocations")
	    ->capture_default_str();
	app.add_option("--ring-buffer-bytes", config.tracer.ring_buffer_bytes,
	               "Size of the BPF ring buffer: a power of two, at least 4096")
	    ->check(check_ring_buffer_bytes)
	    ->capture_default_str();
	app.add_option("--owner-map-entries", config.tracer.owner_entries,
	               "Slots of the table that remembers who closed each connection, for "
	               "resets its orphan sends later (rounded down to a power of two)")
	    ->check(CLI::Range(1024u, 1u << 24))
	    ->capture_default_str();
	app.add_flag("--ttl-tracking,!--no-ttl-tracking", config.tracer.ttl_tracking,
	             "Attach the per-packet cgroup_skb hook that keeps each flow's TTL, the "
	             "evidence for middlebox_injected; off by default: it runs for every "
	             "packet of every flow (docs/benchmarks.md gives its cost); needs "
	             "CAP_NET_ADMIN, without which rstwatchd warns and runs without it");
	app.add_flag("--ttl-every-segment", config.tracer.ttl_every_segment,
	             "With --ttl-tracking: keep the TTL of every segment, not only of "
	             "SYN-ACKs and resets (a baseline for accepted sockets too, at a higher "
	             "cost per packet)");
	app.add_option("--idle-threshold-ms", config.tracer.idle_threshold_ms,
	               "Silence before a received reset that makes it an idle timeout "
	               "(peer_idle_timeout, stale_connection_reuse)")
	    ->check(CLI::Range(1u, 86400000u))
	    ->capture_default_str();
	app.add_option("--drain-interval-ms", config.drain_interval_ms,
	               "How often the ring buffer is drained when the kernel does not wake us")
	    ->check(CLI::Range(1u, 1000u))
	    ->capture_default_str();

	app.add_option("--metrics-listen", config.metrics_listen,
	               "Serve Prometheus metrics on http://ADDRESS:PORT/metrics (port 0: any free "
	               "port, printed at start; off: no metrics)")
	    ->envname("RSTWATCH_METRICS_LISTEN")
	    ->check(check_metrics_listen)
	    ->capture_default_str();
	app.add_option("--top-series", config.top_series,
	               "Processes and local ports with a metrics series of their own, per "
	               "direction; the rest count as \"other\"")
	    ->check(CLI::Range(0u, 100u))
	    ->capture_default_str();
	app.add_option("--metrics-workload-label", config.metrics_workload_label,
	               "Count resets by workload too, with this label: unit (the systemd unit) "
	               "or namespace (the Kubernetes namespace); --top-series values per "
	               "direction, the rest in \"other\"")
	    ->check(CLI::IsMember({"none", "unit", "namespace"}))
	    ->capture_default_str();
	app.add_option("--pods-log-dir", config.pods_log_dir,
	               "The kubelet's pod log directory, whose NAMESPACE_NAME_UID directories "
	               "name the pods found in cgroup paths (off: uids only)")
	    ->capture_default_str();
	app.add_option("--socket", config.socket_path,
	               "Unix socket that rstwatch queries (off: none); its directory, not its "
	               "parents, is created 0750 when missing")
	    ->envname("RSTWATCH_SOCKET")
	    ->check(check_socket_path)
	    ->capture_default_str();
	app.add_option("--socket-group", config.socket_group,
	               "Group allowed to query, when it exists (the socket is 0660)")
	    ->capture_default_str();
	app.add_option("--store-events", config.store_capacity,
	               "Recent resets kept in memory for queries")
	    ->check(CLI::Range(size_t{1}, size_t{1} << 22))
	    ->capture_default_str();
	app.add_option("--max-clients", config.limits.max_clients,
	               "Query clients connected at once, in total")
	    ->check(CLI::Range(1u, 4096u))
	    ->capture_default_str();
	app.add_option("--max-clients-per-uid", config.limits.max_clients_per_uid,
	               "Query clients connected at once per user")
	    ->check(CLI::Range(1u, 4096u))
	    ->capture_default_str();
	app.add_option("--max-request-bytes", config.limits.max_request_bytes,
	               "Longest request line a client may send")
	    ->check(CLI::Range(size_t{256}, size_t{1} << 20))
	    ->capture_default_str();
	app.add_option("--client-read-timeout-ms", config.limits.read_timeout_ms,
	               "Time a query client has to send a complete request")
	    ->check(CLI::Range(100u, 3600000u))
	    ->capture_default_str();
	app.add_option("--client-write-timeout-ms", config.limits.write_timeout_ms,
	               "Time a query client may leave a response unread")
	    ->check(CLI::Range(100u, 3600000u))
	    ->capture_default_str();
	app.add_option("--follower-buffer-bytes", config.limits.follower_buffer_bytes,
	               "Output a follower may fall behind by before it is dropped")
	    ->check(CLI::Range(size_t{4096}, size_t{1} << 30))
	    ->capture_default_str();
	app.add_option("--audit-interval", config.audit_interval_ms,
	               "How often the live sockets are audited for the rstwatch_sockets_at_risk "
	               "gauges (0: never; rstwatch audit works either way)")
	    ->transform(duration_ms(true))
	    ->type_name("DURATION")
	    ->default_str("60s");
	app.add_option("--audit-idle-over", config.audit_idle_over_ms,
	               "Idle time the periodic audit counts as too long for a connection "
	               "without keepalive (idle_without_keepalive)")
	    ->transform(duration_ms(false))
	    ->type_name("DURATION")
	    ->default_str("300s");
	app.add_flag("--verbose", config.verbose,
	             "Print libbpf's debug output and the verifier log");
	app.add_option("--hostname", config.hostname,
	               "The node name every event carries in \"hostname\" (default: $NODE_NAME, "
	               "as a Kubernetes DaemonSet passes spec.nodeName, else this host's name)")
	    ->check(check_hostname);
}

// CLI11 reports a bad setting in the config file without its line: each line
// is parsed again alone, with the same options, and the first that fails on
// its own is named. "" when none does (the error is then elsewhere: the
// command line, the environment, or lines that only fail together).
std::string first_bad_config_line(const std::string &path)
{
	std::ifstream file(path);
	if (!file)
		return "";
	DaemonConfig scratch;
	CLI::App app;
	define_options(app, scratch);
	// Only the line: no other config file, and no environment, whose own
	// errors would otherwise be pinned on the first line.
	app.set_config();
	for (CLI::Option *option : app.get_options())
		option->envname("");
	std::string line;
	for (size_t number = 1; number <= kMaxConfigLines && std::getline(file, line); number++) {
		std::string content = CLI::detail::trim_copy(line);
		if (content.empty() || content.front() == '#' || content.front() == ';')
			continue;
		app.clear();
		std::istringstream one(line + "\n");
		try {
			app.parse_from_stream(one);
		} catch (const CLI::ParseError &e) {
			if (e.get_exit_code() != 0)
				return "config file " + path + " line " + std::to_string(number) +
				       ": " + e.what();
		}
	}
	return "";
}

} // namespace

void define_command_line(CLI::App &app, DaemonConfig &config)
{
	app.description(
	    "rstwatchd: tells who sent each TCP reset on this host, and why.\n"
	    "Loads CO-RE eBPF programs on the kernel's reset and close paths, prints one "
	    "line per reset sent or received, serves Prometheus metrics and answers "
	    "rstwatch queries (needs root, or CAP_BPF and CAP_PERFMON; CAP_NET_ADMIN for "
	    "--ttl-tracking).");
	define_options(app, config);
}

ConfigOutcome load_config(const std::vector<std::string> &args)
{
	ConfigOutcome outcome;
	DaemonConfig config;
	CLI::App app;
	define_command_line(app, config);

	std::vector<const char *> argv;
	for (const std::string &arg : args)
		argv.push_back(arg.c_str());
	std::ostringstream out, err;
	try {
		app.parse(static_cast<int>(argv.size()), argv.data());
	} catch (const CLI::ParseError &e) {
		// CLI11 names the option; a config file error also needs the file.
		int code = app.exit(e, out, err);
		outcome.exit_code = code == 0 ? 0 : 2;
		if (code == 0) {
			outcome.message = out.str();
		} else {
			std::string message = e.what();
			CLI::Option *file = app.get_config_ptr();
			std::string path = file && file->count() ? file->as<std::string>()
			                                         : std::string(kDefaultConfigPath);
			if (std::string line = first_bad_config_line(path); !line.empty())
				message = line;
			else if (dynamic_cast<const CLI::ConfigError *>(&e) ||
			         dynamic_cast<const CLI::FileError *>(&e))
				message = "config file " + path + ": " + message;
			outcome.message = message;
		}
		return outcome;
	} catch (const std::exception &e) {
		outcome.exit_code = 2;
		outcome.message = e.what();
		return outcome;
	}

	if (config.hostname.empty())
		config.hostname = default_hostname();
	if (config.metrics_listen == "off")
		config.metrics_listen.clear();
	if (config.socket_path == "off")
		config.socket_path.clear();
	if (config.pods_log_dir == "off")
		config.pods_log_dir.clear();
	if (CLI::Option *file = app.get_config_ptr()) {
		std::string path = file->count() ? file->as<std::string>() : kDefaultConfigPath;
		if (!path.empty() && access(path.c_str(), R_OK) == 0)
			config.config_path = path;
	}
	outcome.config = std::move(config);
	return outcome;
}

std::vector<std::string> restart_only_changes(const DaemonConfig &running, const DaemonConfig &next)
{
	std::vector<std::string> changed;
	auto check = [&](bool differs, const char *name) {
		if (differs)
			changed.emplace_back(name);
	};
	check(running.hook_variant != next.hook_variant, "hook-variant");
	check(running.tracer.btf_path != next.tracer.btf_path, "btf");
	check(running.tracer.ring_buffer_bytes != next.tracer.ring_buffer_bytes,
	      "ring-buffer-bytes");
	check(running.tracer.owner_entries != next.tracer.owner_entries, "owner-map-entries");
	check(running.tracer.ttl_tracking != next.tracer.ttl_tracking, "ttl-tracking");
	check(running.tracer.ttl_every_segment != next.tracer.ttl_every_segment,
	      "ttl-every-segment");
	check(running.tracer.idle_threshold_ms != next.tracer.idle_threshold_ms,
	      "idle-threshold-ms");
	check(running.metrics_listen != next.metrics_listen, "metrics-listen");
	check(running.socket_path != next.socket_path, "socket");
	check(running.socket_group != next.socket_group, "socket-group");
	check(running.metrics_workload_label != next.metrics_workload_label,
	      "metrics-workload-label");
	check(running.pods_log_dir != next.pods_log_dir, "pods-log-dir");
	// Events and audit rows already stored name the node as it was: one
	// daemon, one name.
	check(running.hostname != next.hostname, "hostname");
	return changed;
}

} // namespace rstwatch
