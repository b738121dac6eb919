// rstwatchd's event loop: one thread, one epoll. It drains the ring buffer
// on a timer (or when the kernel wakes it because the ring is filling up),
// decodes into a reused batch, enriches the batch, and hands it to the sinks
// (store, metrics, stdout, followers); between drains it serves the query
// socket and feeds the systemd watchdog. /metrics is served by
// prometheus-cpp's own threads from thread-safe counters.
#pragma once

#include "daemon/config.h"

#include <chrono>

#include <string>
#include <vector>

namespace rstwatch
{

namespace query
{
struct DaemonStats;
}

// Installs SIGINT/SIGTERM (stop), SIGHUP (reload) and ignores SIGPIPE. The
// handlers only set flags the loop reads.
void install_signal_handlers();

class Daemon
{
public:
	// `args` are the command line the config came from; a reload parses
	// them (and the config file) again.
	Daemon(DaemonConfig config, std::vector<std::string> args);
	~Daemon();
	Daemon(const Daemon &) = delete;
	Daemon &operator=(const Daemon &) = delete;

	// Loads and attaches the probes, starts the listeners and runs until
	// SIGINT or SIGTERM. Throws Error on a startup failure; returns the
	// exit code otherwise.
	int run();

private:
	using Clock = std::chrono::steady_clock;
	struct State;
	// Loads and attaches the probes, builds the sinks, starts the
	// listeners and says ready.
	void start(State &state);
	void loop(State &state);
	bool drain(State &state, Clock::time_point now);
	void stop(State &state);
	query::DaemonStats stats(const State &state) const;
	// SIGHUP: parses the command line and config file again (a dry run that
	// touches nothing), then applies what can change without a restart.
	void reload(State &state);

	DaemonConfig config_;
	std::vector<std::string> args_;
};

} // namespace rstwatch
