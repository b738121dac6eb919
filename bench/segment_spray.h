// Raw TCP segments at a closed port, many per sendmmsg(): the kernel answers
// each with a reset for no socket, at rates connect() cannot reach because no
// socket is created or torn down per reset. Needs CAP_NET_RAW, and refuses to
// run in a namespace that has any interface but lo.
#pragma once

#include "common/unique_fd.h"
#include "storm_options.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <vector>

namespace rstwatch::bench
{

class SegmentSpray
{
public:
	SegmentSpray(const sockaddr_in &target, SpraySegment kind, unsigned batch,
	             unsigned thread_index);

	// Sends `count` (at most batch()) segments, each from a new source
	// port; returns how many the kernel took, or -1 with errno set.
	int send(unsigned count);
	unsigned batch() const { return batch_; }

private:
	struct Segment {
		uint8_t bytes[40]; // IPv4 header, TCP header, no options
	};
	void prepare(Segment &segment);

	UniqueFd fd_;
	sockaddr_in target_;
	SpraySegment kind_;
	unsigned batch_;
	uint16_t next_port_;
	uint32_t next_sequence_;
	std::vector<Segment> segments_;
	std::vector<iovec> iovecs_;
	std::vector<mmsghdr> messages_;
};

} // namespace rstwatch::bench
