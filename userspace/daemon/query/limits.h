// What one query client may cost the daemon: set from rstwatchd's settings,
// enforced by the query server.
#pragma once

#include <cstddef>

namespace rstwatch
{

// What one query client may cost the daemon.
struct QueryLimits {
	unsigned max_clients = 32;
	unsigned max_clients_per_uid = 8;
	size_t max_request_bytes = 4096;
	// A client has this long, from connecting or from its last response,
	// to send a complete request line.
	unsigned read_timeout_ms = 10000;
	// Pending output that makes no progress for this long drops the client.
	unsigned write_timeout_ms = 10000;
	// A follower further behind than this is dropped (slow_follower).
	size_t follower_buffer_bytes = 1u << 20;

	bool operator==(const QueryLimits &) const = default;
};

} // namespace rstwatch
