// A TCP socket some process holds, as `rstwatch audit` sees it: the socket's
// fields in the form of a reset event's (so every rule and output form that
// reads an event reads it), and every process holding it.
#pragma once

#include "core/owner.h"
#include "rstwatch/event.h"

#include <vector>

namespace rstwatch
{

struct LiveSocket {
	// owner_pid and owner_comm name holders.front().
	rstwatch_event raw{};
	// Every process holding the socket, lowest pid first.
	std::vector<SocketHolder> holders;
};

// The audit iterator writes one record per socket and holding process, each
// naming its holder as owner; this makes one LiveSocket per socket inode of
// them, in inode order. `records` is reordered.
std::vector<LiveSocket> group_live_sockets(std::vector<rstwatch_event> &records);

} // namespace rstwatch
