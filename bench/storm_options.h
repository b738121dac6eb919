// What a storm is asked to do, with the bounds that keep it a benchmark: a
// limited duration and rate, loopback targets only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rstwatch::bench
{

enum class StormMode {
	// connect() to a loopback port with no listener: one reset sent
	// (refused) and one received (peer_refused) per attempt.
	Refused,
	// SO_LINGER {on, 0} then close() of an established connection: one
	// reset sent (linger_zero_close), one received by the peer.
	LingerZero,
	// close() with bytes still unread: one reset sent
	// (close_with_unread_data), one received by the peer.
	CloseUnread,
	// Raw TCP segments at a closed port, many per system call: one reset
	// sent per segment and none received. Only inside a network namespace
	// whose only interface is lo.
	Spray,
	// Healthy traffic, no reset at all: connect, a 1-byte request and
	// answer, and a graceful close from both sides. What an always-on
	// tracer must not slow down.
	Healthy,
};

std::string_view mode_name(StormMode mode);

enum class SpraySegment { Syn, Ack };

struct StormOptions {
	StormMode mode = StormMode::Refused;
	double duration_seconds = 5.0;
	// Operations per second over all threads; 0 is as fast as possible.
	uint64_t rate = 0;
	unsigned threads = 1;
	// Segments per sendmmsg() in spray mode.
	unsigned spray_batch = 32;
	SpraySegment spray_segment = SpraySegment::Ack;
	// The loopback address the storm targets.
	std::string address = "127.0.0.1";
	// Hold BPF_ENABLE_STATS for the storm, so the kernel times every BPF
	// program only while the storm runs.
	bool bpf_stats = false;
};

inline constexpr double kMaxDurationSeconds = 600.0;
inline constexpr uint64_t kMaxRate = 10'000'000;
inline constexpr unsigned kMaxThreads = 64;
inline constexpr unsigned kMaxSprayBatch = 256;

// Parses the command line; throws StormError on a value out of bounds.
// Returns false when --help was asked for (and printed).
bool parse_storm_options(int argc, char **argv, StormOptions &options, int &exit_code);

} // namespace rstwatch::bench
