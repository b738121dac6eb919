// Real proxies from Debian (nginx, haproxy) run by a test in the foreground,
// with their configuration, pid file and logs in a directory of their own,
// so nothing of the system's own services or /etc is touched.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace rstwatch::test
{

// A directory made with mkdtemp and removed, with everything in it, when
// this object goes.
class TempDir
{
public:
	TempDir();
	~TempDir();
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;

	const std::string &path() const { return path_; }
	std::string file(const std::string &name) const { return path_ + "/" + name; }
	void write(const std::string &name, const std::string &text) const;
	// The whole file, or an empty string when it cannot be read.
	std::string read(const std::string &name) const;

private:
	std::string path_;
};

// An executable found on PATH or in the sbin directories (where Debian puts
// nginx and haproxy); empty when there is none.
std::string find_executable(const std::string &name);

// A TCP port on 127.0.0.1 that nothing was bound to a moment ago.
uint16_t pick_free_port();

// True when a socket listens on 127.0.0.1:`port` (or on any address) in the
// caller's network namespace, read from /proc/net/tcp without connecting.
bool listening_on_loopback(uint16_t port);

// A server with a master process that forks its workers, started in the
// foreground with its output going to `log_path`. The master gets SIGTERM
// if the test process dies, so a crashed test leaves no proxy behind.
class ForegroundServer
{
public:
	ForegroundServer(const std::vector<std::string> &argv, const std::string &log_path);
	~ForegroundServer();
	ForegroundServer(const ForegroundServer &) = delete;
	ForegroundServer &operator=(const ForegroundServer &) = delete;

	pid_t master_pid() const { return master_pid_; }

	// Waits until the master has exactly one child named `worker_comm`,
	// `port` is listening and the master handles SIGTERM (so stop() is a
	// clean shutdown); returns the worker's pid. Throws, with the
	// server's log, when the master exits or the wait times out.
	pid_t wait_for_worker(const std::string &worker_comm, uint16_t port,
	                      std::chrono::milliseconds timeout = std::chrono::seconds(30))
	{
		return wait_for_workers(worker_comm, 1, port, timeout).front();
	}
	// The same for a master with `count` workers; their pids, in the order
	// /proc lists them. The bound is generous: under the kernel matrix's
	// emulated guests HAProxy's master re-executes itself slowly.
	std::vector<pid_t>
	wait_for_workers(const std::string &worker_comm, size_t count, uint16_t port,
	                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

	// SIGTERM to the master, then waits for it and for every worker it
	// had; a process still there after the grace period is SIGKILLed and
	// reported. Returns the master's exit code (-1 if a signal ended it).
	int stop();
	// Workers that outlived stop() and had to be killed ("" when none).
	const std::string &stragglers() const { return stragglers_; }

	std::string log() const;

private:
	pid_t master_pid_ = -1;
	bool reaped_ = false;
	int exit_code_ = -1;
	std::vector<pid_t> workers_;
	std::string log_path_;
	std::string stragglers_;
};

// Pids of the processes whose parent is `parent`, read from /proc.
std::vector<pid_t> children_of(pid_t parent);
// /proc/<pid>/comm without the newline; empty when the process is gone.
std::string comm_of(pid_t pid);

} // namespace rstwatch::test
