// Synthetic reset events for the operator-surface unit tests: just the
// fields the store, the query filters and the metrics look at.
#pragma once

#include "core/reset_event.h"
#include "rstwatch/classify.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

namespace rstwatch::test
{

struct EventSpec {
	uint64_t id = 1;
	int64_t realtime_ns = 1'700'000'000'000'000'000;
	uint8_t direction = RSTWATCH_DIR_SENT;
	// "" leaves the event unattributed.
	std::string comm;
	uint32_t pid = 0;
	std::string local = "127.0.0.1";
	uint16_t local_port = 8080;
	std::string remote = "127.0.0.1";
	uint16_t remote_port = 40000;
};

inline void set_address(uint8_t (&out)[16], const std::string &text, uint16_t &family)
{
	std::memset(out, 0, sizeof(out));
	if (inet_pton(AF_INET, text.c_str(), out) == 1) {
		family = RSTWATCH_AF_INET;
		return;
	}
	inet_pton(AF_INET6, text.c_str(), out);
	family = RSTWATCH_AF_INET6;
}

// A refused connect seen from both ends: the SYN answered for no socket
// (sent, cause refused) and the RST arriving in SYN_SENT (received, cause
// peer_refused).
inline ResetEvent make_event(const EventSpec &spec)
{
	ResetEvent event;
	event.id = spec.id;
	event.realtime_ns = spec.realtime_ns;
	rstwatch_event &raw = event.raw;
	raw.version = RSTWATCH_EVENT_VERSION;
	raw.direction = spec.direction;
	raw.kernel_reason = RSTWATCH_REASON_UNAVAILABLE;
	set_address(raw.local_addr, spec.local, raw.family);
	set_address(raw.remote_addr, spec.remote, raw.family);
	raw.local_port = spec.local_port;
	raw.remote_port = spec.remote_port;
	if (spec.direction == RSTWATCH_DIR_SENT) {
		raw.flags = RSTWATCH_F_HAS_SKB | RSTWATCH_F_REPLY_TO_SYN;
		raw.cause = RSTWATCH_CAUSE_REFUSED;
	} else {
		raw.flags = RSTWATCH_F_HAS_SOCKET | RSTWATCH_F_FULL_SOCKET;
		raw.state = RSTWATCH_TCP_SYN_SENT;
		raw.cause = RSTWATCH_CAUSE_PEER_REFUSED;
	}
	if (!spec.comm.empty()) {
		raw.owner_source = RSTWATCH_OWNER_SOCKET;
		raw.owner_pid = spec.pid;
		raw.owner_tid = spec.pid;
		std::strncpy(raw.owner_comm, spec.comm.c_str(), sizeof(raw.owner_comm) - 1);
	}
	return event;
}

} // namespace rstwatch::test
