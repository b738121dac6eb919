#include "daemon_process.h"

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

CommandResult DaemonProcess::stop()
{
	CommandResult result;
	result.exit_code = process_.stop(SIGTERM);
	result.err = process_.stderr_text();
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
