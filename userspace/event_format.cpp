#include "event_format.h"

#include <cstring>
#include <sstream>

namespace rstwatch {

namespace {

bool has(const rstwatch_event &raw, uint32_t flag)
{
	return (raw.flags & flag) != 0;
}

// Signal number from task_struct.exit_code when the task is dying of a
// signal (low 7 bits), 0 for a normal exit or a live task.
uint32_t exit_signal(uint32_t exit_code, bool exiting)
{
	return exiting ? (exit_code & 0x7f) : 0;
}

std::string comm_text(const char (&comm)[RSTWATCH_COMM_LEN])
{
	return std::string(comm, strnlen(comm, RSTWATCH_COMM_LEN));
}

} // namespace

nlohmann::json event_to_json(const ResetEvent &event, const OutputContext &context)
{
	const ReasonNames &reasons = context.reasons;
	const rstwatch_event &raw = event.raw;
	const bool full = has(raw, RSTWATCH_F_FULL_SOCKET);
	const bool owner_known = raw.owner_source != RSTWATCH_OWNER_NONE;
	const bool current_exiting = has(raw, RSTWATCH_F_CURRENT_EXITING);
	const bool owner_exiting = has(raw, RSTWATCH_F_OWNER_EXITING);

	nlohmann::json j;
	j["id"] = event.id;
	j["timestamp"] = format_timestamp(event.realtime_ns);
	j["timestamp_ns"] = event.realtime_ns;
	j["direction"] = direction_name(raw.direction);
	Classification why = classify(raw, context.classify,
				      [&](uint32_t reason) { return reasons.name(reason); });
	j["cause"] = cause_name(why.cause);
	j["evidence"] = why.evidence;
	j["remedy"] = why.remedy;
	j["kernel_cause"] = cause_name(static_cast<Cause>(raw.cause));
	j["kernel_reason"] = reasons.name(raw.kernel_reason);
	if (raw.kernel_reason == RSTWATCH_REASON_UNAVAILABLE)
		j["kernel_reason_code"] = nullptr;
	else
		j["kernel_reason_code"] = raw.kernel_reason;
	j["state"] = tcp_state_name(raw.state);
	j["family"] = family_name(raw);
	j["local"] = format_endpoint(raw, true);
	j["remote"] = format_endpoint(raw, false);
	j["local_addr"] = format_address(raw, true);
	j["local_port"] = raw.local_port;
	j["remote_addr"] = format_address(raw, false);
	j["remote_port"] = raw.remote_port;
	j["netns"] = raw.netns;
	j["has_socket"] = has(raw, RSTWATCH_F_HAS_SOCKET);
	j["reply_to_segment"] = has(raw, RSTWATCH_F_HAS_SKB);
	j["reply_to_syn"] = has(raw, RSTWATCH_F_REPLY_TO_SYN);
	j["segment_ttl"] = raw.segment_ttl;

	// The process the reset is attributed to; null when none can be known.
	j["owner_source"] = owner_source_name(raw.owner_source);
	if (owner_known) {
		j["pid"] = raw.owner_pid;
		j["tid"] = raw.owner_tid;
		j["comm"] = comm_text(raw.owner_comm);
	} else {
		j["pid"] = nullptr;
		j["tid"] = nullptr;
		j["comm"] = nullptr;
	}
	j["exiting"] = owner_known && owner_exiting;
	j["exit_signal"] = exit_signal(raw.owner_exit_code, owner_known && owner_exiting);

	// The task that happened to be on the CPU; in softirq it is unrelated.
	j["current_pid"] = raw.current_pid;
	j["current_tid"] = raw.current_tid;
	j["current_comm"] = comm_text(raw.current_comm);
	j["current_is_owner"] = has(raw, RSTWATCH_F_CURRENT_IS_OWNER);
	j["current_exiting"] = current_exiting;
	j["current_exit_signal"] = exit_signal(raw.current_exit_code, current_exiting);

	j["full_socket"] = full;
	j["orphan"] = has(raw, RSTWATCH_F_ORPHAN);
	j["cgroup_id"] = raw.cgroup_id;
	j["unread_bytes"] = raw.unread_bytes;
	j["unsent_bytes"] = raw.unsent_bytes;
	j["unacked_bytes"] = raw.unacked_bytes;
	j["bytes_sent"] = raw.bytes_sent;
	j["bytes_received"] = raw.bytes_received;
	j["linger_on"] = has(raw, RSTWATCH_F_LINGER_ON);
	j["linger_seconds"] = raw.linger_seconds;
	j["keepalive_on"] = has(raw, RSTWATCH_F_KEEPALIVE_ON);
	j["keepalive_idle_seconds"] = raw.keepalive_idle_seconds;
	j["keepalive_interval_seconds"] = raw.keepalive_interval_seconds;
	j["keepalive_count"] = raw.keepalive_count;
	j["user_timeout_ms"] = raw.user_timeout_ms;
	j["connection_age_ms"] = raw.connection_age_ms;
	j["idle_since_send_ms"] = raw.idle_since_send_ms;
	j["idle_since_receive_ms"] = raw.idle_since_receive_ms;
	j["bytes_in_flight"] = raw.unacked_bytes;
	j["rst_ttl"] = raw.rst_ttl;
	j["peer_ttl"] = raw.peer_ttl;

	j["cgroup_path"] = event.cgroup ? event.cgroup->path : "";
	j["systemd_unit"] = event.cgroup ? event.cgroup->unit : "";
	j["container_id"] = event.cgroup ? event.cgroup->container : "";

	const PeerLink &peer = event.peer;
	if (peer.event_id) {
		j["peer_event_id"] = peer.event_id;
		j["peer_cause"] = cause_name(static_cast<Cause>(peer.cause));
		bool peer_known = peer.owner_source != RSTWATCH_OWNER_NONE;
		j["peer_pid"] = peer_known ? nlohmann::json(peer.pid) : nlohmann::json(nullptr);
		j["peer_comm"] = peer_known ? nlohmann::json(comm_text(peer.comm))
					    : nlohmann::json(nullptr);
	} else {
		j["peer_event_id"] = nullptr;
		j["peer_cause"] = nullptr;
		j["peer_pid"] = nullptr;
		j["peer_comm"] = nullptr;
	}
	return j;
}

std::string event_to_text(const ResetEvent &event, const OutputContext &context)
{
	const ReasonNames &reasons = context.reasons;
	const rstwatch_event &raw = event.raw;
	std::ostringstream line;
	line << format_timestamp(event.realtime_ns) << ' ' << direction_name(raw.direction) << ' '
	     << format_endpoint(raw, true) << (raw.direction == RSTWATCH_DIR_SENT ? " -> " : " <- ")
	     << format_endpoint(raw, false) << " cause="
	     << cause_name(classify_cause(raw, context.classify))
	     << " reason=" << reasons.name(raw.kernel_reason)
	     << " state=" << tcp_state_name(raw.state);
	if (raw.owner_source != RSTWATCH_OWNER_NONE)
		line << " pid=" << raw.owner_pid << " comm=" << comm_text(raw.owner_comm) << " ("
		     << owner_source_name(raw.owner_source) << ')';
	else
		line << " pid=- (no owner)";
	if (has(raw, RSTWATCH_F_FULL_SOCKET))
		line << " unread=" << raw.unread_bytes << " unsent=" << raw.unsent_bytes;
	if (has(raw, RSTWATCH_F_LINGER_ON))
		line << " linger=" << raw.linger_seconds << 's';
	if (has(raw, RSTWATCH_F_REPLY_TO_SYN))
		line << " syn";
	return line.str();
}

} // namespace rstwatch
