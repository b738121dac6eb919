#include "core/live_socket.h"

#include "core/reset_event.h"

#include <algorithm>
#include <cstring>

namespace rstwatch
{

std::vector<LiveSocket> group_live_sockets(std::vector<rstwatch_event> &records)
{
	std::sort(records.begin(), records.end(),
	          [](const rstwatch_event &a, const rstwatch_event &b) {
		          return a.socket_inode != b.socket_inode ? a.socket_inode < b.socket_inode
		                                                  : a.owner_pid < b.owner_pid;
	          });
	std::vector<LiveSocket> sockets;
	for (const rstwatch_event &record : records) {
		if (sockets.empty() || sockets.back().raw.socket_inode != record.socket_inode)
			sockets.push_back(LiveSocket{record, {}});
		SocketHolder holder;
		holder.pid = record.owner_pid;
		holder.exiting = has_flag(record, RSTWATCH_F_OWNER_EXITING);
		std::memcpy(holder.comm, record.owner_comm, sizeof(holder.comm));
		sockets.back().holders.push_back(holder);
	}
	for (LiveSocket &socket : sockets)
		sort_holders(socket.holders);
	return sockets;
}

} // namespace rstwatch
