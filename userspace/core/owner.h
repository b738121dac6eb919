// Owners the kernel could not name at the reset (docs/design.md,
// "Attribution"): the processes holding the socket's inode, found after the
// event by a lookup the daemon provides, and the notes the kernel sends when
// a holder destroys the socket first.
#pragma once

#include "rstwatch/event.h"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace rstwatch
{

// A process holding a socket's descriptor.
struct SocketHolder {
	uint32_t pid = 0;
	uint32_t fd = 0;
	bool exiting = false;
	char comm[RSTWATCH_COMM_LEN] = {};

	bool operator==(const SocketHolder &) const = default;
};

// Socket inode -> its holders, lowest pid first.
using HolderMap = std::unordered_map<uint64_t, std::vector<SocketHolder>>;

// Lowest pid first, one entry per process: a process holding the same socket
// twice (dup) is one holder, under its lowest descriptor.
void sort_holders(std::vector<SocketHolder> &holders);

// Where owners come from once the event is in userspace. The daemon's
// implementation walks every process's descriptors with a BPF iterator.
class OwnerLookup
{
public:
	virtual ~OwnerLookup() = default;
	// Adds the holders of each inode found to `out`; inodes no process
	// holds are absent.
	virtual void find_holders(std::span<const uint64_t> inodes, HolderMap &out) = 0;
	// The process that put this port in LISTEN in this namespace.
	virtual std::optional<rstwatch_owner> listener(uint32_t netns, uint16_t port) = 0;
};

// Whether the event names a process (pid and comm are meaningful).
inline bool owner_named(uint8_t owner_source)
{
	return owner_source != RSTWATCH_OWNER_NONE && owner_source != RSTWATCH_OWNER_UNRESOLVED;
}

} // namespace rstwatch
