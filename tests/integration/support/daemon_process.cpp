#include "daemon_process.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace rstwatch::test
{

std::string rstwatchd_path()
{
	return RSTWATCHD_PATH;
}

std::string wait_until_ready(Subprocess &rstwatchd)
{
	switch (rstwatchd.wait_for_stderr("rstwatchd: ready", std::chrono::seconds(30))) {
	case Subprocess::Wait::met:
		return "";
	case Subprocess::Wait::output_closed:
		return "rstwatchd exited before it was ready: " + rstwatchd.stderr_text();
	case Subprocess::Wait::timed_out:
		break;
	}
	return "rstwatchd did not become ready within 30 s: " + rstwatchd.stderr_text();
}

ExitResult run_command(const std::vector<std::string> &argv, std::chrono::milliseconds timeout)
{
	int err_pipe[2];
	if (pipe2(err_pipe, O_CLOEXEC))
		return {-1, "pipe failed"};
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid_t pid = spawn(argv, {.out = devnull, .err = err_pipe[1]});
	close(err_pipe[1]);
	close(devnull);

	ExitResult result;
	auto deadline = std::chrono::steady_clock::now() + timeout;
	char buffer[4096];
	for (;;) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
		    deadline - std::chrono::steady_clock::now());
		if (left.count() <= 0) {
			kill(pid, SIGKILL);
			result.stderr_text += "[timed out]";
			break;
		}
		pollfd fd = {err_pipe[0], POLLIN, 0};
		if (poll(&fd, 1, static_cast<int>(left.count())) <= 0)
			continue;
		ssize_t n = read(err_pipe[0], buffer, sizeof(buffer));
		if (n <= 0)
			break;
		result.stderr_text.append(buffer, n);
	}
	close(err_pipe[0]);
	result.exit_code = wait_exit_code(pid);
	return result;
}

bool DaemonProcess::start(const std::vector<std::string> &extra_args)
{
	std::vector<std::string> argv = {rstwatchd_path(), "--json"};
	argv.insert(argv.end(), extra_args.begin(), extra_args.end());
	bool started = process_.start(argv, {}, [this](std::string line) {
		events_.push_back(nlohmann::json::parse(line, nullptr, false));
	});
	error_ = started ? wait_until_ready(process_) : process_.error();
	return error_.empty();
}

ExitResult DaemonProcess::stop()
{
	ExitResult result;
	result.exit_code = process_.stop(SIGTERM);
	result.stderr_text = process_.stderr_text();
	return result;
}

std::optional<nlohmann::json> DaemonProcess::wait_for(const Predicate &predicate,
                                                      std::chrono::milliseconds timeout)
{
	std::optional<nlohmann::json> found;
	size_t scanned = 0; // events before this index did not match
	process_.wait_until(
	    [&] {
		    for (; scanned < events_.size(); scanned++) {
			    const nlohmann::json &event = events_[scanned];
			    if (!event.is_discarded() && predicate(event)) {
				    found = event;
				    return true;
			    }
		    }
		    return false;
	    },
	    timeout);
	return found;
}

std::vector<nlohmann::json> DaemonProcess::events_matching(const Predicate &predicate)
{
	std::vector<nlohmann::json> matches;
	process_.with_output_locked([&] {
		for (const nlohmann::json &event : events_)
			if (!event.is_discarded() && predicate(event))
				matches.push_back(event);
	});
	return matches;
}

} // namespace rstwatch::test
