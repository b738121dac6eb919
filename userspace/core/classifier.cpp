#include "core/classifier.h"

#include "core/reset_event.h"

#include <string>

namespace rstwatch
{

namespace
{

struct CauseInfo {
	Cause cause;
	std::string_view name;
	std::string_view remedy;
};

constexpr std::array<CauseInfo, kCauseCount> kCauses = {{
    {Cause::Unknown, "unknown",
     "No rule matched; the raw fields of the event are the starting point."},
    {Cause::CloseWithUnreadData, "close_with_unread_data",
     "Read (or shutdown(SHUT_RD) and drain) everything the peer sent before close(); the "
     "kernel aborts a close that would silently discard unread bytes."},
    {Cause::LingerZeroClose, "linger_zero_close",
     "Drop SO_LINGER {on, 0}, or keep it only where an abortive close is intended: it turns "
     "every close() into a reset."},
    {Cause::ProcessExit, "process_exit",
     "The process died with connections open (crash, kill, OOM or pod stop): find why it "
     "exited, and drain connections on SIGTERM before exiting."},
    {Cause::DataAfterClose, "data_after_close",
     "The peer kept sending after this side closed: finish the protocol exchange (or "
     "shutdown(SHUT_WR) and read to EOF) before close()."},
    {Cause::NoSocket, "no_socket",
     "The peer used a connection this host no longer has (restart, idle pool entry, NAT or "
     "conntrack mix-up): make the peer's pool validate or expire idle connections sooner."},
    {Cause::Refused, "refused",
     "Nothing listens on that port: start the service, or point the client at the right "
     "port."},
    {Cause::KeepaliveTimeout, "keepalive_timeout",
     "The peer stopped answering keepalive probes (gone, or a path dropped the flow): check "
     "the peer and the path; keepalive did its job."},
    {Cause::MemoryPressure, "memory_pressure",
     "The kernel aborted under TCP memory or orphan limits: raise tcp_mem / "
     "tcp_max_orphans or shed connections."},
    {Cause::Disconnect, "disconnect",
     "A process aborted the connection on purpose (connect(AF_UNSPEC), ss -K, tcp_abort): "
     "check who did and why."},
    {Cause::Timewait, "timewait",
     "A segment arrived for a connection in TIME_WAIT: usually a late retransmission or port "
     "reuse by the peer; harmless unless frequent."},
    {Cause::Protocol, "protocol",
     "The kernel rejected an invalid segment (bad ACK, PAWS, bad SYN): look for broken "
     "middleboxes, sequence tampering or timestamp problems."},
    {Cause::PeerRefused, "peer_refused",
     "Nothing listens at the destination: check the service is up and the address and port "
     "are right."},
    {Cause::StaleConnectionReuse, "stale_connection_reuse",
     "A pooled connection the peer had already dropped was reused: expire idle pool "
     "connections before the server's idle timeout, or validate before reuse."},
    {Cause::PeerIdleTimeout, "peer_idle_timeout",
     "An idle connection was reset by the peer or something in between: keep connections "
     "active (keepalive) or expire them before that idle timeout."},
    {Cause::MiddleboxInjected, "middlebox_injected",
     "A firewall, load balancer or IDS between the hosts forged the reset: its TTL differs "
     "from the peer's; check that device's rules and timeouts."},
    {Cause::PeerReset, "peer_reset",
     "The peer's stack reset the connection for its own reasons: look at the peer "
     "application (rstwatch on the peer host tells which)."},
}};

constexpr uint32_t kUnavailable = RSTWATCH_REASON_UNAVAILABLE;

} // namespace

std::string_view cause_name(Cause cause)
{
	size_t index = static_cast<size_t>(cause);
	return index < kCauses.size() ? kCauses[index].name : "unknown";
}

std::string_view cause_remedy(Cause cause)
{
	size_t index = static_cast<size_t>(cause);
	return index < kCauses.size() ? kCauses[index].remedy : kCauses[0].remedy;
}

std::string_view linked_sender_remedy(Cause sender_cause)
{
	// Made once: every output writes remedies without allocating.
	static const std::array<std::string, kCauseCount> remedies = [] {
		std::array<std::string, kCauseCount> texts;
		for (const CauseInfo &info : kCauses)
			texts[static_cast<size_t>(info.cause)] =
			    "The sender is on this host (peer_cause " + std::string(info.name) +
			    "): " + std::string(info.remedy);
		return texts;
	}();
	size_t index = static_cast<size_t>(sender_cause);
	return remedies[index < remedies.size() ? index : 0];
}

std::optional<Cause> parse_cause(std::string_view name)
{
	for (const CauseInfo &info : kCauses)
		if (info.name == name)
			return info.cause;
	return std::nullopt;
}

const std::array<Cause, kCauseCount> &all_causes()
{
	static const std::array<Cause, kCauseCount> causes = [] {
		std::array<Cause, kCauseCount> list{};
		for (size_t i = 0; i < kCauses.size(); i++)
			list[i] = kCauses[i].cause;
		return list;
	}();
	return causes;
}

rstwatch_classify_config make_classify_config(const std::vector<std::string> &reason_names,
                                              uint32_t idle_threshold_ms)
{
	auto value_of = [&](std::string_view name) -> uint32_t {
		for (size_t i = 0; i < reason_names.size(); i++)
			if (reason_names[i] == name)
				return static_cast<uint32_t>(i);
		return kUnavailable;
	};
	rstwatch_classify_config config{};
	config.not_specified = value_of("NOT_SPECIFIED");
	config.no_socket = value_of("NO_SOCKET");
	config.abort_on_close = value_of("TCP_ABORT_ON_CLOSE");
	config.abort_on_data = value_of("TCP_ABORT_ON_DATA");
	config.abort_on_memory = value_of("TCP_ABORT_ON_MEMORY");
	config.tcp_state = value_of("TCP_STATE");
	config.keepalive_timeout = value_of("TCP_KEEPALIVE_TIMEOUT");
	config.disconnect_with_data = value_of("TCP_DISCONNECT_WITH_DATA");
	config.timewait_socket = value_of("TCP_TIMEWAIT_SOCKET");
	config.idle_threshold_ms = idle_threshold_ms;
	return config;
}

Cause classify_cause(const rstwatch_event &event, const rstwatch_classify_config &config)
{
	return static_cast<Cause>(rstwatch_classify(&event, &config));
}

void explain_cause(const rstwatch_event &e, Cause cause, const rstwatch_classify_config &config,
                   std::string_view kernel_reason_name, FactSink &facts)
{
	auto flag = [&](uint32_t bit) -> std::string_view {
		return has_flag(e, bit) ? "true" : "false";
	};

	if (e.kernel_reason != kUnavailable)
		facts.fact("kernel_reason", kernel_reason_name);
	else if (e.direction == RSTWATCH_DIR_SENT)
		facts.fact("kernel_reason", "unavailable");

	switch (cause) {
	case Cause::CloseWithUnreadData:
		facts.fact("unread_bytes", e.unread_bytes);
		break;
	case Cause::LingerZeroClose:
		facts.fact("linger_on", "true");
		facts.fact("linger_seconds", uint64_t{0});
		break;
	case Cause::ProcessExit:
		facts.fact("owner_exiting", "true");
		facts.fact("exit_signal", e.owner_exit_code & 0x7f);
		if (e.unread_bytes)
			facts.fact("unread_bytes", e.unread_bytes);
		if (has_flag(e, RSTWATCH_F_LINGER_ON))
			facts.fact("linger_seconds", e.linger_seconds);
		break;
	case Cause::DataAfterClose:
		facts.fact("orphan", flag(RSTWATCH_F_ORPHAN));
		facts.fact("owner_source", "closer");
		break;
	case Cause::NoSocket:
	case Cause::Refused:
		facts.fact("socket", "none");
		facts.fact("reply_to_syn", flag(RSTWATCH_F_REPLY_TO_SYN));
		break;
	case Cause::KeepaliveTimeout:
		facts.fact("keepalive_on", flag(RSTWATCH_F_KEEPALIVE_ON));
		facts.fact("keepalive_idle_seconds", e.keepalive_idle_seconds);
		facts.fact("keepalive_count", e.keepalive_count);
		break;
	case Cause::Timewait:
		facts.fact("state", "TIME_WAIT");
		break;
	case Cause::PeerRefused:
		facts.fact("state", "SYN_SENT");
		break;
	case Cause::MiddleboxInjected:
		facts.fact("rst_ttl", e.rst_ttl);
		facts.fact("peer_ttl", e.peer_ttl);
		break;
	case Cause::StaleConnectionReuse:
		if (e.state == RSTWATCH_TCP_CLOSE_WAIT)
			facts.fact("state", "CLOSE_WAIT");
		facts.fact("unacked_bytes", e.unacked_bytes);
		facts.fact("idle_since_receive_ms", e.idle_since_receive_ms);
		break;
	case Cause::PeerIdleTimeout:
		if (e.state == RSTWATCH_TCP_CLOSE_WAIT)
			facts.fact("state", "CLOSE_WAIT");
		facts.fact("unacked_bytes", uint64_t{0});
		facts.fact("idle_since_send_ms", e.idle_since_send_ms);
		facts.fact("idle_since_receive_ms", e.idle_since_receive_ms);
		facts.fact("idle_threshold_ms", config.idle_threshold_ms);
		break;
	case Cause::PeerReset:
		facts.fact("idle_since_send_ms", e.idle_since_send_ms);
		facts.fact("unacked_bytes", e.unacked_bytes);
		break;
	case Cause::Disconnect:
	case Cause::MemoryPressure:
	case Cause::Protocol:
	case Cause::Unknown:
		break;
	}
}

namespace
{

class FactList final : public FactSink
{
public:
	explicit FactList(std::vector<std::string> &out) : out_(out) {}
	void fact(std::string_view name, std::string_view value) override
	{
		std::string text(name);
		text.push_back('=');
		text.append(value);
		out_.push_back(std::move(text));
	}
	void fact(std::string_view name, uint64_t value) override
	{
		fact(name, std::string_view(std::to_string(value)));
	}

private:
	std::vector<std::string> &out_;
};

} // namespace

std::vector<std::string> cause_evidence(const rstwatch_event &e, Cause cause,
                                        const rstwatch_classify_config &config,
                                        std::string_view kernel_reason_name)
{
	std::vector<std::string> evidence;
	FactList facts(evidence);
	explain_cause(e, cause, config, kernel_reason_name, facts);
	return evidence;
}

} // namespace rstwatch
