#include "storm_options.h"

#include "storm_error.h"

#include <CLI/CLI.hpp>

#include <map>

namespace rstwatch::bench
{

std::string_view mode_name(StormMode mode)
{
	switch (mode) {
	case StormMode::Refused:
		return "refused";
	case StormMode::LingerZero:
		return "linger0";
	case StormMode::CloseUnread:
		return "unread";
	case StormMode::Spray:
		return "spray";
	case StormMode::Healthy:
		return "healthy";
	}
	return "unknown";
}

bool parse_storm_options(int argc, char **argv, StormOptions &options, int &exit_code)
{
	CLI::App app{
	    "reset_storm: makes TCP resets on loopback as fast as asked, for a bounded time, and "
	    "prints one JSON line: operations done, resets the stack sent (the namespace's "
	    "OutRsts) and resets seen by the sockets.\n"
	    "Modes: refused (connect to a port with no listener), linger0 (SO_LINGER 0 close of "
	    "an established connection), unread (close with unread data), spray (raw TCP segments "
	    "at a closed port; only inside a network namespace with no interface but lo)."};
	const std::map<std::string, StormMode> modes = {{"refused", StormMode::Refused},
	                                                {"healthy", StormMode::Healthy},
	                                                {"linger0", StormMode::LingerZero},
	                                                {"unread", StormMode::CloseUnread},
	                                                {"spray", StormMode::Spray}};
	const std::map<std::string, SpraySegment> segments = {{"syn", SpraySegment::Syn},
	                                                      {"ack", SpraySegment::Ack}};
	app.add_option("--mode", options.mode,
	               "refused, linger0, unread, spray or healthy (no resets)")
	    ->transform(CLI::CheckedTransformer(modes, CLI::ignore_case));
	app.add_option("--duration", options.duration_seconds, "Seconds to run")
	    ->check(CLI::Range(0.1, kMaxDurationSeconds))
	    ->capture_default_str();
	app.add_option("--rate", options.rate,
	               "Operations per second over all threads; 0 runs as fast as possible")
	    ->check(CLI::Range(uint64_t{0}, kMaxRate))
	    ->capture_default_str();
	app.add_option("--threads", options.threads, "Threads, each running the storm loop")
	    ->check(CLI::Range(1u, kMaxThreads))
	    ->capture_default_str();
	app.add_option("--spray-batch", options.spray_batch,
	               "Segments per sendmmsg() in spray mode")
	    ->check(CLI::Range(1u, kMaxSprayBatch))
	    ->capture_default_str();
	app.add_option("--spray-segment", options.spray_segment,
	               "syn (answered as refused) or ack (answered as no_socket)")
	    ->transform(CLI::CheckedTransformer(segments, CLI::ignore_case));
	app.add_option("--address", options.address, "Loopback address to target")
	    ->capture_default_str();
	app.add_flag("--bpf-stats", options.bpf_stats,
	             "Make the kernel time every BPF program while the storm runs "
	             "(BPF_ENABLE_STATS, released when the storm ends)");
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		int code = app.exit(e);
		exit_code = code == 0 ? 0 : 2;
		return false;
	}
	return true;
}

} // namespace rstwatch::bench
