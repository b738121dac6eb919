// The real rstwatchd (--quiet) as the operator tests need it: its own temp
// directory (query socket, config file, notify socket), an ephemeral
// /metrics port, an optional wrapper (setpriv) and environment, and helpers
// that read events back with the real rstwatch client and scrape /metrics
// over HTTP. Events are queried, not read from stdout: a daemon printing
// JSON for every reset falls behind a storm that a benchmark on the same
// machine may be running.
#pragma once

#include "subprocess.h"
#include "test_support.h"

#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace rstwatch::test
{

std::string rstwatch_client_path();

// The value of one series in a /metrics scrape ("name{labels}" exactly as
// exposed), nullopt when the scrape does not have it.
std::optional<double> metric(const std::string &scrape, const std::string &series);
// Number of sample lines (series) in a scrape.
size_t series_count(const std::string &scrape);
// The lines of a command's output, without their newlines.
std::vector<std::string> lines_of(const std::string &text);

class OperatorDaemon
{
public:
	struct Options {
		std::vector<std::string> args;   // besides --json, --socket, --metrics-listen
		std::vector<std::string> prefix; // a wrapper command, e.g. setpriv
		std::vector<std::string> env;    // extra "NAME=value"
		// The host's /etc/rstwatch/rstwatch.conf never leaks into a test.
		std::string config = "/dev/null";
	};

	// `name` makes the temp directory recognizable.
	explicit OperatorDaemon(const std::string &name);
	~OperatorDaemon();
	OperatorDaemon(const OperatorDaemon &) = delete;
	OperatorDaemon &operator=(const OperatorDaemon &) = delete;

	// Starts rstwatchd and waits for its "ready" line; false (reason in
	// error()) when it exits or does not get ready.
	bool start(const Options &options);
	// SIGTERM (or `signal`), then waits for the exit.
	CommandResult stop(int signal = SIGTERM);
	void send_signal(int signal) const { process_.send_signal(signal); }
	bool running() const { return process_.running(); }

	const std::string &error() const { return error_; }
	pid_t pid() const { return process_.pid(); }
	const std::string &directory() const { return directory_; }
	const std::string &socket_path() const { return socket_path_; }
	uint16_t metrics_port() const { return metrics_port_; }
	std::string stderr_text() { return process_.stderr_text(); }

	// Waits until stderr contains `text`.
	bool wait_for_stderr(const std::string &text,
	                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

	// Polls `rstwatch recent --json` with these filters until it returns
	// at least `count` events; returns what it got last.
	std::vector<nlohmann::json>
	query_events(const std::vector<std::string> &filters, size_t count,
	             std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
	// GET /metrics over HTTP; "" when the request fails.
	std::string scrape() const;
	// Runs the rstwatch client against this daemon's socket.
	CommandResult rstwatch(const std::vector<std::string> &args,
	                       const std::vector<std::string> &prefix = {}) const;

private:
	std::string directory_;
	std::string socket_path_;
	uint16_t metrics_port_ = 0;
	// With --quiet rstwatchd writes nothing to stdout; it is drained all
	// the same, so the daemon never blocks on a full pipe.
	Subprocess process_;
	std::string error_;
};

// A process named `comm` connects `count` times to `port` on 127.0.0.1,
// where the test holds a socket bound but not listening: each connect is
// refused with a reset (sent: refused, received: peer_refused). Returns
// the process id once it has exited.
pid_t refused_connects(const std::string &comm, uint16_t port, int count);

// A command running alongside the test (rstwatch follow), its stdout read
// line by line; killed when the object goes.
class BackgroundCommand
{
public:
	// Throws when the command cannot be started.
	explicit BackgroundCommand(const std::vector<std::string> &argv);

	// The next stdout line, or nullopt on timeout or end of output.
	std::optional<std::string>
	read_line(std::chrono::milliseconds timeout = std::chrono::seconds(10));
	// SIGTERM and wait; the exit code (-1 for a signal).
	int stop() { return process_.stop(SIGTERM); }
	pid_t pid() const { return process_.pid(); }

private:
	// Filled by process_'s stdout handler, under its lock.
	std::deque<std::string> lines_;
	// Declared after lines_ so that it stops, and its reader with it,
	// before lines_ goes.
	Subprocess process_;
};

// A unix stream connection speaking the query protocol by hand.
class RawQueryClient
{
public:
	// Connects; fd() is -1 and error() says why when it cannot.
	explicit RawQueryClient(const std::string &path);
	~RawQueryClient();
	RawQueryClient(const RawQueryClient &) = delete;
	RawQueryClient &operator=(const RawQueryClient &) = delete;

	int fd() const { return fd_; }
	int error() const { return error_; }
	bool send(const std::string &data) const;
	std::optional<std::string>
	read_line(std::chrono::milliseconds timeout = std::chrono::seconds(10));
	// Reads (and drops) until the daemon closes the connection; false if
	// it is still open after the timeout.
	bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(10));

private:
	int fd_ = -1;
	int error_ = 0;
	std::string buffer_;
};

// A datagram socket standing in for systemd's NOTIFY_SOCKET.
class NotifySocket
{
public:
	explicit NotifySocket(const std::string &path);
	~NotifySocket();
	NotifySocket(const NotifySocket &) = delete;
	NotifySocket &operator=(const NotifySocket &) = delete;

	const std::string &path() const { return path_; }
	// The next message, or nullopt after the timeout.
	std::optional<std::string>
	receive(std::chrono::milliseconds timeout = std::chrono::seconds(10));
	// Receives until a message contains `text`; returns it, or nullopt.
	// Every message received on the way is kept in seen().
	std::optional<std::string>
	wait_for(const std::string &text,
	         std::chrono::milliseconds timeout = std::chrono::seconds(10));
	const std::vector<std::string> &seen() const { return seen_; }

private:
	std::string path_;
	int fd_ = -1;
	std::vector<std::string> seen_;
};

} // namespace rstwatch::test
