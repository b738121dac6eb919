// Runs the real rstwatchd as a child process for integration tests and
// collects the JSON events it writes.
#pragma once

#include "subprocess.h"

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rstwatch::test
{

class DaemonProcess
{
public:
	using Predicate = std::function<bool(const nlohmann::json &)>;

	// Starts rstwatchd --json with extra arguments and waits for "ready".
	// Returns false (with the reason in error()) if it exits first.
	bool start(const std::vector<std::string> &extra_args);
	// SIGTERM, then wait; returns the exit status and the whole stderr.
	CommandResult stop();

	// Waits until an event matching the predicate has been written.
	std::optional<nlohmann::json>
	wait_for(const Predicate &predicate,
	         std::chrono::milliseconds timeout = std::chrono::seconds(5));
	std::vector<nlohmann::json> events_matching(const Predicate &predicate);

	const std::string &error() const { return error_; }
	std::string stderr_text() { return process_.stderr_text(); }
	pid_t pid() const { return process_.pid(); }

private:
	// Filled by process_'s stdout handler, under its lock.
	std::vector<nlohmann::json> events_;
	// Declared after events_ so that it stops, and its reader with it,
	// before events_ goes.
	Subprocess process_;
	std::string error_;
};

// Path of the rstwatchd binary under test.
std::string rstwatchd_path();

// Waits for rstwatchd's "ready" line on stderr: "" once it came, otherwise
// why it did not.
std::string wait_until_ready(Subprocess &rstwatchd);

} // namespace rstwatch::test
