// One connected query client, as the server's I/O (query_server.cpp) and the
// request dispatch (dispatch.cpp) both see it.
#pragma once

#include "common/unique_fd.h"
#include "core/reset_event.h"
#include "daemon/query/request.h"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rstwatch::query
{

// How much of a recent response is serialized ahead of the socket: enough
// to keep it busy, little enough that a large answer never sits in memory.
inline constexpr size_t kOutputChunk = 64 * 1024;

struct Client {
	using Clock = std::chrono::steady_clock;

	UniqueFd fd;
	uid_t uid = 0;
	pid_t pid = 0;
	std::string input;
	bool input_closed = false;
	std::string output;
	size_t sent = 0;
	// A recent response still being written: copies of the selected
	// events (the store may forget them meanwhile), serialized by chunks.
	std::vector<ResetEvent> pending;
	size_t next_pending = 0;
	bool recent_in_progress = false;
	bool follower = false;
	EventFilter filter;
	// A follower that asked for a window back in time: the next stored id
	// to replay. Live events go to it once the replay has caught up.
	std::optional<uint64_t> replay_next_id;
	bool close_after_flush = false;
	bool dead = false;
	Clock::time_point read_deadline{};
	Clock::time_point last_progress{};
	uint32_t interest = 0;

	size_t unsent() const { return output.size() - sent; }
	bool replaying() const { return replay_next_id.has_value(); }
	bool busy() const { return unsent() > 0 || recent_in_progress || replaying(); }
};

} // namespace rstwatch::query
