// A TCP socket some process holds, as `rstwatch audit` sees it: the socket's
// fields in the form of a reset event's (so every rule and output form that
// reads an event reads it), and every process holding it.
#pragma once

#include "core/owner.h"
#include "core/reset_event.h"
#include "rstwatch/event.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace rstwatch
{

struct LiveSocket {
	// owner_pid and owner_comm name holders.front().
	const rstwatch_event *raw = nullptr;
	// Every process holding the socket, lowest pid first.
	std::span<const SocketHolder> holders;
	// Its cgroup and the workload it names, once looked up; null if none.
	const CgroupInfo *cgroup = nullptr;
};

// The sockets at risk one walk found. LiveSocket points into the storage
// here: move it, never copy it.
struct LiveSockets {
	size_t total = 0;                // distinct sockets the walk saw
	std::vector<LiveSocket> at_risk; // in inode order
	std::vector<rstwatch_event> records;
	std::vector<SocketHolder> holders;

	LiveSockets() = default;
	LiveSockets(LiveSockets &&) = default;
	LiveSockets &operator=(LiveSockets &&) = default;
	LiveSockets(const LiveSockets &) = delete;
	LiveSockets &operator=(const LiveSockets &) = delete;
};

// Gathers one walk of the audit iterator, which writes a record per socket
// and holding process. Every socket's holders are kept (40 bytes each), the
// whole record only of sockets at risk: memory follows the sockets at risk,
// not the sockets on the host.
class LiveSocketCollector
{
public:
	// `idle_over_ms` is the smallest any request of this walk asks: a
	// socket with no risk at it has none at a larger one.
	explicit LiveSocketCollector(uint64_t idle_over_ms) : idle_over_ms_(idle_over_ms) {}

	void add(const rstwatch_event &record);
	LiveSockets finish();

private:
	struct Holding {
		uint64_t inode = 0;
		SocketHolder holder;
	};

	uint64_t idle_over_ms_;
	std::vector<Holding> holdings_;
	std::vector<rstwatch_event> at_risk_;
};

} // namespace rstwatch
