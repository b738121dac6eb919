// Reset events built by hand for the unit tests. EventBuilder starts from a
// zeroed event, as the ring buffer's bytes would be before the kernel fills
// them, and sets only what a test names, in the forms a test thinks in
// ("10.0.0.2", "srv"); refused_connect_event() is the one scenario the
// operator-surface tests share.
#pragma once

#include "core/reset_event.h"
#include "rstwatch/classify.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

namespace rstwatch::test
{

class EventBuilder
{
public:
	EventBuilder &id(uint64_t id) { return set(&ResetEvent::id, id); }
	EventBuilder &realtime_ns(int64_t ns) { return set(&ResetEvent::realtime_ns, ns); }
	EventBuilder &version(uint32_t version) { return set(&rstwatch_event::version, version); }
	EventBuilder &direction(uint8_t direction)
	{
		return set(&rstwatch_event::direction, direction);
	}
	EventBuilder &state(uint8_t state) { return set(&rstwatch_event::state, state); }
	EventBuilder &kernel_reason(uint32_t reason)
	{
		return set(&rstwatch_event::kernel_reason, reason);
	}
	EventBuilder &flags(uint32_t flags) { return set(&rstwatch_event::flags, flags); }
	EventBuilder &cause(uint8_t cause) { return set(&rstwatch_event::cause, cause); }
	EventBuilder &netns(uint32_t netns) { return set(&rstwatch_event::netns, netns); }
	// The socket's cgroup as the CgroupCache resolved it; the caller keeps
	// it alive, as the cache does.
	EventBuilder &cgroup(const CgroupInfo *cgroup) { return set(&ResetEvent::cgroup, cgroup); }
	// An IPv4 address ("10.0.0.2") makes an IPv4 event; IPv6 text ("::1",
	// "::ffff:10.0.0.2" as a dual-stack socket reports IPv4) an IPv6 one.
	EventBuilder &local(const std::string &address, uint16_t port)
	{
		set_address(event_.raw.local_addr, address);
		event_.raw.local_port = port;
		return *this;
	}
	EventBuilder &remote(const std::string &address, uint16_t port)
	{
		set_address(event_.raw.remote_addr, address);
		event_.raw.remote_port = port;
		return *this;
	}
	EventBuilder &owner(uint8_t source, uint32_t pid, uint32_t tid, const char *comm)
	{
		event_.raw.owner_source = source;
		event_.raw.owner_pid = pid;
		event_.raw.owner_tid = tid;
		set_comm(event_.raw.owner_comm, comm);
		return *this;
	}
	// The task that was on the CPU when the reset was sent.
	EventBuilder &current_task(uint32_t pid, uint32_t tid, const char *comm)
	{
		event_.raw.current_pid = pid;
		event_.raw.current_tid = tid;
		set_comm(event_.raw.current_comm, comm);
		return *this;
	}

	ResetEvent event() const { return event_; }
	rstwatch_event raw() const { return event_.raw; }

private:
	template <typename Field> EventBuilder &set(Field ResetEvent::*field, Field value)
	{
		event_.*field = value;
		return *this;
	}
	template <typename Field> EventBuilder &set(Field rstwatch_event::*field, Field value)
	{
		event_.raw.*field = value;
		return *this;
	}
	void set_address(uint8_t (&out)[16], const std::string &text)
	{
		std::memset(out, 0, sizeof(out));
		if (inet_pton(AF_INET, text.c_str(), out) == 1) {
			event_.raw.family = RSTWATCH_AF_INET;
			return;
		}
		inet_pton(AF_INET6, text.c_str(), out);
		event_.raw.family = RSTWATCH_AF_INET6;
	}
	// Up to RSTWATCH_COMM_LEN bytes, NUL-padded, unterminated when full:
	// as the kernel's task comm.
	static void set_comm(char (&out)[RSTWATCH_COMM_LEN], const char *text)
	{
		std::memset(out, 0, sizeof(out));
		std::strncpy(out, text, sizeof(out));
	}

	ResetEvent event_;
};

struct RefusedConnect {
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
	uint32_t netns = 0;
	const CgroupInfo *cgroup = nullptr;
};

// A refused connect seen from either end: the SYN answered for no socket
// (sent, cause refused) or the RST arriving in SYN_SENT (received, cause
// peer_refused), with just the fields the store, the query filters and the
// metrics look at.
inline ResetEvent refused_connect_event(const RefusedConnect &connect)
{
	EventBuilder builder;
	builder.id(connect.id)
	    .realtime_ns(connect.realtime_ns)
	    .version(RSTWATCH_EVENT_VERSION)
	    .direction(connect.direction)
	    .kernel_reason(RSTWATCH_REASON_UNAVAILABLE)
	    .local(connect.local, connect.local_port)
	    .remote(connect.remote, connect.remote_port)
	    .netns(connect.netns)
	    .cgroup(connect.cgroup);
	if (connect.direction == RSTWATCH_DIR_SENT)
		builder.flags(RSTWATCH_F_HAS_SKB | RSTWATCH_F_REPLY_TO_SYN)
		    .cause(RSTWATCH_CAUSE_REFUSED);
	else
		builder.flags(RSTWATCH_F_HAS_SOCKET | RSTWATCH_F_FULL_SOCKET)
		    .state(RSTWATCH_TCP_SYN_SENT)
		    .cause(RSTWATCH_CAUSE_PEER_REFUSED);
	if (!connect.comm.empty())
		builder.owner(RSTWATCH_OWNER_SOCKET, connect.pid, connect.pid,
		              connect.comm.c_str());
	return builder.event();
}

} // namespace rstwatch::test
