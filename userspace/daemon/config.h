// rstwatchd's settings: command-line options and the config file
// (/etc/rstwatch/rstwatch.conf, "name = value" lines named like the long
// options), parsed by CLI11. The command line wins over the file. SIGHUP
// parses both again into a fresh DaemonConfig first (a dry run), and only a
// configuration that parsed completely is applied.
#pragma once

#include "common/defaults.h"
#include "daemon/query/limits.h"
#include "loader/tracer_types.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace CLI
{
class App;
} // namespace CLI

namespace rstwatch
{

struct DaemonConfig {
	std::string config_path; // the file read, "" when none was
	bool json = false;
	bool quiet = false;
	bool verbose = false;
	std::string hook_variant = "auto";
	// Every event's "hostname": --hostname, else $NODE_NAME (what a
	// Kubernetes DaemonSet passes from spec.nodeName), else the host name.
	std::string hostname;
	TracerOptions tracer;
	unsigned drain_interval_ms = 50;
	std::string metrics_listen = kDefaultMetricsListen; // "" disables /metrics
	std::string socket_path = kDefaultSocketPath;       // "" disables the query socket
	std::string socket_group = kDefaultSocketGroup;
	size_t store_capacity = 65536;
	unsigned top_series = 20;
	std::string metrics_workload_label = "none"; // none, unit or namespace
	std::string pods_log_dir = "/var/log/pods";  // "" names no pods
	QueryLimits limits;
	// The periodic audit behind rstwatch_sockets_at_risk: how often (0:
	// never), and the idle time it counts as too long.
	uint64_t audit_interval_ms = 60'000;
	uint64_t audit_idle_over_ms = 300'000;
};

struct ConfigOutcome {
	std::optional<DaemonConfig> config;
	// When there is no config: 0 after --help or --version, 2 for a usage
	// or config file error.
	int exit_code = 0;
	// Help or version text (stdout), or the error (stderr).
	std::string message;
};

// `args` is argv, program name first. Never throws for bad input.
ConfigOutcome load_config(const std::vector<std::string> &args);

// rstwatchd's description and options, bound to `config`: what load_config
// parses, and what the man page and bash completion are generated from
// (rstwatch-docgen), so neither can drift from the program.
void define_command_line(CLI::App &app, DaemonConfig &config);

// Names of the settings that differ between the two and only take effect at
// a restart (the BPF programs, the listeners).
std::vector<std::string> restart_only_changes(const DaemonConfig &running,
                                              const DaemonConfig &next);

} // namespace rstwatch
