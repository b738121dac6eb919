#include "core/event_format.h"

#include "common/json_text.h"
#include "common/text_escape.h"
#include "core/owner.h"

#include <climits>
#include <cstring>

namespace rstwatch
{

namespace
{

// Signal number from task_struct.exit_code when the task is dying of a
// signal (low 7 bits), 0 for a normal exit or a live task.
uint32_t exit_signal(uint32_t exit_code, bool exiting)
{
	return exiting ? (exit_code & 0x7f) : 0;
}

// From the socket file's creation (socket() or accept()) to the reset; 0
// when the socket had no file left to tell (an orphan whose closer was not
// recorded, a reset sent for no socket).
uint64_t connection_age_ms(const ResetEvent &event)
{
	const int64_t created = static_cast<int64_t>(event.raw.socket_created_ns);
	if (!created || event.realtime_ns <= created)
		return 0;
	return static_cast<uint64_t>(event.realtime_ns - created) / 1'000'000;
}

// When both ends are on this host and the sender's cause is known, the fix
// is on the sender's side: a reset the receiver sees as an idle timeout may
// well be the sender's SO_LINGER {on, 0}. A refused connect's own remedy
// already is the sender's (nothing listens there).
std::string_view remedy(const ResetEvent &event, Cause cause)
{
	const PeerLink &peer = event.peer;
	const Cause sender = static_cast<Cause>(peer.cause);
	if (event.raw.direction != RSTWATCH_DIR_RECEIVED || !peer.event_id ||
	    sender == Cause::Unknown || (cause == Cause::PeerRefused && sender == Cause::Refused))
		return cause_remedy(cause);
	return linked_sender_remedy(sender);
}

// Every field of the JSON form, in order, handed to a sink: the one list
// behind both the nlohmann::json object and the direct text writer.
template <typename Sink>
void visit_event_fields(const ResetEvent &event, const OutputContext &context, Sink &out)
{
	const ReasonNames &reasons = context.reasons;
	const rstwatch_event &raw = event.raw;
	const bool full = has_flag(raw, RSTWATCH_F_FULL_SOCKET);
	const bool owner_known = owner_named(raw.owner_source);
	const bool current_exiting = has_flag(raw, RSTWATCH_F_CURRENT_EXITING);
	const bool owner_exiting = has_flag(raw, RSTWATCH_F_OWNER_EXITING);
	const Cause cause = classify_cause(raw, context.classify);
	TextBuffer text;

	out.number("id", event.id);
	out.plain("timestamp", timestamp_text(event.realtime_ns, text));
	out.number("timestamp_ns", event.realtime_ns);
	out.string("hostname", context.hostname);
	out.plain("direction", direction_name(raw.direction));
	out.plain("cause", cause_name(cause));
	out.evidence("evidence", raw, cause, context.classify, reasons);
	out.plain("remedy", remedy(event, cause));
	out.plain("kernel_cause", cause_name(static_cast<Cause>(raw.cause)));
	out.string("kernel_reason", reasons.name(raw.kernel_reason, text));
	if (raw.kernel_reason == RSTWATCH_REASON_UNAVAILABLE)
		out.null("kernel_reason_code");
	else
		out.number("kernel_reason_code", raw.kernel_reason);
	out.plain("state", tcp_state_name(raw.state));
	out.plain("family", family_name(raw));
	out.plain("local", endpoint_text(raw, true, text));
	out.plain("remote", endpoint_text(raw, false, text));
	out.plain("local_addr", address_text(raw, true, text));
	out.number("local_port", raw.local_port);
	out.plain("remote_addr", address_text(raw, false, text));
	out.number("remote_port", raw.remote_port);
	out.number("service_port", service_port(raw).port);
	out.number("netns", raw.netns);
	out.boolean("has_socket", has_flag(raw, RSTWATCH_F_HAS_SOCKET));
	out.boolean("reply_to_segment", has_flag(raw, RSTWATCH_F_HAS_SKB));
	out.boolean("reply_to_syn", has_flag(raw, RSTWATCH_F_REPLY_TO_SYN));
	out.number("segment_ttl", raw.segment_ttl);

	// The process the reset is attributed to; null when none can be known.
	out.plain("owner_source", owner_source_name(raw.owner_source));
	if (owner_known) {
		out.number("pid", raw.owner_pid);
		out.number("tid", raw.owner_tid);
		out.string("comm", comm_text(raw.owner_comm));
	} else {
		out.null("pid");
		out.null("tid");
		out.null("comm");
	}
	out.boolean("exiting", owner_known && owner_exiting);
	out.number("exit_signal", exit_signal(raw.owner_exit_code, owner_known && owner_exiting));
	// Every process holding the socket, when more than one did.
	out.holders("holders", event.holders.get());
	out.number("socket_inode", raw.socket_inode);
	out.number("socket_uid", raw.socket_uid);

	// The task that happened to be on the CPU; in softirq it is unrelated.
	out.number("current_pid", raw.current_pid);
	out.number("current_tid", raw.current_tid);
	out.string("current_comm", comm_text(raw.current_comm));
	out.boolean("current_is_owner", has_flag(raw, RSTWATCH_F_CURRENT_IS_OWNER));
	out.boolean("current_exiting", current_exiting);
	out.number("current_exit_signal", exit_signal(raw.current_exit_code, current_exiting));

	out.boolean("full_socket", full);
	out.boolean("orphan", has_flag(raw, RSTWATCH_F_ORPHAN));
	out.number("cgroup_id", raw.cgroup_id);
	out.number("unread_bytes", raw.unread_bytes);
	out.number("unsent_bytes", raw.unsent_bytes);
	out.number("unacked_bytes", raw.unacked_bytes);
	out.number("bytes_sent", raw.bytes_sent);
	out.number("bytes_received", raw.bytes_received);
	out.boolean("linger_on", has_flag(raw, RSTWATCH_F_LINGER_ON));
	out.number("linger_seconds", raw.linger_seconds);
	out.boolean("keepalive_on", has_flag(raw, RSTWATCH_F_KEEPALIVE_ON));
	out.number("keepalive_idle_seconds", raw.keepalive_idle_seconds);
	out.number("keepalive_interval_seconds", raw.keepalive_interval_seconds);
	out.number("keepalive_count", raw.keepalive_count);
	out.number("user_timeout_ms", raw.user_timeout_ms);
	out.number("connection_age_ms", connection_age_ms(event));
	out.number("idle_since_send_ms", raw.idle_since_send_ms);
	out.number("idle_since_receive_ms", raw.idle_since_receive_ms);
	out.number("bytes_in_flight", raw.unacked_bytes);
	out.number("rst_ttl", raw.rst_ttl);
	out.number("peer_ttl", raw.peer_ttl);

	auto cgroup_text = [&event](std::string CgroupInfo::*part) {
		return event.cgroup ? std::string_view(event.cgroup->*part) : std::string_view();
	};
	out.string("cgroup_path", cgroup_text(&CgroupInfo::path));
	out.string("systemd_unit", cgroup_text(&CgroupInfo::unit));
	out.string("container_id", cgroup_text(&CgroupInfo::container));
	out.string("pod_namespace", cgroup_text(&CgroupInfo::pod_namespace));
	out.string("pod_name", cgroup_text(&CgroupInfo::pod_name));
	out.string("pod_uid", cgroup_text(&CgroupInfo::pod_uid));

	const PeerLink &peer = event.peer;
	const bool peer_known = peer.event_id && peer.owner_source != RSTWATCH_OWNER_NONE;
	if (peer.event_id) {
		out.number("peer_event_id", peer.event_id);
		out.plain("peer_cause", cause_name(static_cast<Cause>(peer.cause)));
	} else {
		out.null("peer_event_id");
		out.null("peer_cause");
	}
	if (peer_known) {
		out.number("peer_pid", peer.pid);
		out.string("peer_comm", comm_text(peer.comm));
	} else {
		out.null("peer_pid");
		out.null("peer_comm");
	}
}

class ObjectSink
{
public:
	nlohmann::json object = nlohmann::json::object();

	void string(const char *key, std::string_view value) { object[key] = value; }
	void plain(const char *key, std::string_view value) { object[key] = value; }
	template <typename Integer> void number(const char *key, Integer value)
	{
		object[key] = value;
	}
	void boolean(const char *key, bool value) { object[key] = value; }
	void null(const char *key) { object[key] = nullptr; }
	void holders(const char *key, const std::vector<SocketHolder> *holders)
	{
		if (!holders) {
			object[key] = nullptr;
			return;
		}
		nlohmann::json list = nlohmann::json::array();
		for (const SocketHolder &holder : *holders)
			list.push_back({{"pid", holder.pid}, {"comm", comm_text(holder.comm)}});
		object[key] = std::move(list);
	}
	void evidence(const char *key, const rstwatch_event &raw, Cause cause,
	              const rstwatch_classify_config &config, const ReasonNames &reasons)
	{
		TextBuffer text;
		object[key] =
		    cause_evidence(raw, cause, config, reasons.name(raw.kernel_reason, text));
	}
};

class TextSink
{
public:
	explicit TextSink(JsonAppender &out) : out_(out) {}

	void string(std::string_view key, std::string_view value)
	{
		this->key(key);
		out_.string(value);
	}
	// Text this program made (names, addresses, times): no escaping.
	void plain(std::string_view key, std::string_view value)
	{
		this->key(key);
		out_.plain_string(value);
	}
	template <typename Integer> void number(std::string_view key, Integer value)
	{
		this->key(key);
		out_.integer(value);
	}
	void boolean(std::string_view key, bool value)
	{
		this->key(key);
		out_.raw(value ? std::string_view("true") : std::string_view("false"));
	}
	void null(std::string_view key)
	{
		this->key(key);
		out_.raw("null");
	}
	void holders(std::string_view key, const std::vector<SocketHolder> *holders)
	{
		this->key(key);
		if (!holders) {
			out_.raw("null");
			return;
		}
		out_.raw('[');
		for (size_t i = 0; i < holders->size(); i++) {
			const SocketHolder &holder = (*holders)[i];
			out_.raw(i ? ",{\"pid\":" : "{\"pid\":");
			out_.integer(holder.pid);
			out_.raw(",\"comm\":");
			out_.string(comm_text(holder.comm));
			out_.raw('}');
		}
		out_.raw(']');
	}
	void evidence(std::string_view key, const rstwatch_event &raw, Cause cause,
	              const rstwatch_classify_config &config, const ReasonNames &reasons)
	{
		this->key(key);
		out_.raw('[');
		TextBuffer text;
		FactWriter writer(out_);
		explain_cause(raw, cause, config, reasons.name(raw.kernel_reason, text), writer);
		out_.raw(']');
	}

private:
	// Each fact as one JSON string "name=value". Names are constants;
	// only a value (a kernel reason name) could need escaping.
	class FactWriter final : public FactSink
	{
	public:
		explicit FactWriter(JsonAppender &out) : out_(out) {}
		void fact(std::string_view name, std::string_view value) override
		{
			begin(name);
			out_.string_contents(value);
			out_.raw('"');
		}
		void fact(std::string_view name, uint64_t value) override
		{
			begin(name);
			out_.integer(value);
			out_.raw('"');
		}

	private:
		void begin(std::string_view name)
		{
			if (!first_)
				out_.raw(',');
			first_ = false;
			out_.raw('"');
			out_.raw(name);
			out_.raw('=');
		}
		JsonAppender &out_;
		bool first_ = true;
	};

	// Keys are constants of this file: plain ASCII, no escaping needed.
	void key(std::string_view name)
	{
		out_.key(name, first_);
		first_ = false;
	}

	JsonAppender &out_;
	bool first_ = true;
};

// A name from outside the program in the human line: a process names
// itself, so its comm may hold escape sequences, newlines or invalid UTF-8.
void append_shown(JsonAppender &out, std::string_view name)
{
	if (needs_no_escaping(name))
		out.raw(name);
	else
		out.raw(escaped_text(name));
}

// " unit=... container=... pod=namespace/name": what of the workload is
// known. Every part has the shape core/workload.h checked, so nothing in it
// needs escaping; the container id is cut to the 12 digits people use.
void append_workload_text(JsonAppender &out, const CgroupInfo &cgroup)
{
	if (!cgroup.unit.empty()) {
		out.raw(" unit=");
		out.raw(cgroup.unit);
	}
	if (!cgroup.container.empty()) {
		out.raw(" container=");
		out.raw(std::string_view(cgroup.container).substr(0, 12));
	}
	if (!cgroup.pod_name.empty()) {
		out.raw(" pod=");
		out.raw(cgroup.pod_namespace);
		out.raw('/');
		out.raw(cgroup.pod_name);
	} else if (!cgroup.pod_uid.empty()) {
		out.raw(" pod=");
		out.raw(cgroup.pod_uid);
	}
}

} // namespace

nlohmann::json event_to_json(const ResetEvent &event, const OutputContext &context)
{
	ObjectSink sink;
	visit_event_fields(event, context, sink);
	return std::move(sink.object);
}

void append_event_json(JsonAppender &out, const ResetEvent &event, const OutputContext &context)
{
	TextSink sink(out);
	visit_event_fields(event, context, sink);
	out.raw('}');
}

void append_event_json(std::string &out, const ResetEvent &event, const OutputContext &context)
{
	JsonAppender appender(out);
	append_event_json(appender, event, context);
}

void append_event_text(JsonAppender &out, const ResetEvent &event, const OutputContext &context)
{
	const rstwatch_event &raw = event.raw;
	TextBuffer text;
	out.raw(timestamp_text(event.realtime_ns, text));
	out.raw(' ');
	out.raw(direction_name(raw.direction));
	out.raw(' ');
	out.raw(endpoint_text(raw, true, text));
	out.raw(raw.direction == RSTWATCH_DIR_SENT ? " -> " : " <- ");
	out.raw(endpoint_text(raw, false, text));
	out.raw(" cause=");
	out.raw(cause_name(classify_cause(raw, context.classify)));
	out.raw(" reason=");
	append_shown(out, context.reasons.name(raw.kernel_reason, text));
	out.raw(" state=");
	out.raw(tcp_state_name(raw.state));
	if (owner_named(raw.owner_source)) {
		out.raw(" pid=");
		out.integer(raw.owner_pid);
		out.raw(" comm=");
		append_shown(out, comm_text(raw.owner_comm));
		out.raw(" (");
		out.raw(owner_source_name(raw.owner_source));
		out.raw(')');
		if (event.holders && event.holders->size() > 1) {
			out.raw(" +");
			out.integer(event.holders->size() - 1);
			out.raw(" other holders");
		}
	} else if (raw.owner_source == RSTWATCH_OWNER_UNRESOLVED) {
		out.raw(" pid=- (unresolved)");
	} else {
		out.raw(" pid=- (no owner)");
	}
	if (has_flag(raw, RSTWATCH_F_FULL_SOCKET)) {
		out.raw(" unread=");
		out.integer(raw.unread_bytes);
		out.raw(" unsent=");
		out.integer(raw.unsent_bytes);
	}
	if (has_flag(raw, RSTWATCH_F_LINGER_ON)) {
		out.raw(" linger=");
		out.integer(raw.linger_seconds);
		out.raw('s');
	}
	if (has_flag(raw, RSTWATCH_F_REPLY_TO_SYN))
		out.raw(" syn");
	out.raw(" netns=");
	out.integer(raw.netns);
	if (event.cgroup)
		append_workload_text(out, *event.cgroup);
}

} // namespace rstwatch
