// Runs the real rstwatchd as a child process for integration tests and
// collects the JSON events it writes.
#pragma once

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rstwatch::test
{

struct ExitResult {
	int exit_code = -1; // -1 when killed by a signal
	std::string stderr_text;
};

// Runs a command to completion, capturing stderr; stdout is discarded.
ExitResult run_command(const std::vector<std::string> &argv,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20));

class DaemonProcess
{
public:
	using Predicate = std::function<bool(const nlohmann::json &)>;

	DaemonProcess() = default;
	~DaemonProcess();
	DaemonProcess(const DaemonProcess &) = delete;
	DaemonProcess &operator=(const DaemonProcess &) = delete;

	// Starts rstwatchd --json with extra arguments and waits for "ready".
	// Returns false (with the reason in error()) if it exits first.
	bool start(const std::vector<std::string> &extra_args);
	// SIGTERM, then wait; returns the exit status and the whole stderr.
	ExitResult stop();

	// Waits until an event matching the predicate has been written.
	std::optional<nlohmann::json>
	wait_for(const Predicate &predicate,
	         std::chrono::milliseconds timeout = std::chrono::seconds(5));
	std::vector<nlohmann::json> events_matching(const Predicate &predicate);

	const std::string &error() const { return error_; }
	std::string stderr_text();
	pid_t pid() const { return pid_; }

private:
	void read_stdout(int fd);
	void read_stderr(int fd);

	pid_t pid_ = -1;
	std::thread stdout_reader_;
	std::thread stderr_reader_;
	std::mutex mutex_;
	std::condition_variable changed_;
	std::vector<nlohmann::json> events_;
	std::string stderr_;
	bool ready_ = false;
	bool exited_ = false;
	std::string error_;
};

// Path of the rstwatchd binary under test.
std::string rstwatchd_path();

} // namespace rstwatch::test
