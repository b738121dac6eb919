#include "cli/explain.h"

#include "cli/table.h"
#include "common/text_escape.h"
#include "common/wire.h"

#include <cstdio>
#include <string>

namespace rstwatch::cli
{

using nlohmann::json;

namespace
{

// The value holds what the daemon reported (a process name, a cgroup path):
// escaped like a table cell.
void print_line(const std::string &name, const std::string &value)
{
	std::printf("%-12s %s\n", (name + ":").c_str(), escaped_text(value).c_str());
}

// The unit, container and pod a reset's socket belongs to, where known, and
// its network namespace.
void print_workload(const json &event)
{
	auto known = [&event](const char *field) {
		return event.contains(field) && event[field].is_string() &&
		       !event[field].get_ref<const std::string &>().empty();
	};
	if (known("systemd_unit"))
		print_line("unit", text(event["systemd_unit"]));
	if (known("container_id"))
		print_line("container", text(event["container_id"]));
	if (known("pod_name"))
		print_line("pod", text(event["pod_namespace"]) + "/" + text(event["pod_name"]) +
		                      " (uid " + text(event["pod_uid"]) + ")");
	else if (known("pod_uid"))
		print_line("pod", "uid " + text(event["pod_uid"]) + " (no log directory names it)");
	print_line("netns", text(event["netns"]));
}

// Why an event has no tcp_sock fields.
std::string unread_unknown_because(const json &event)
{
	if (!event.value("has_socket", false))
		return "no socket";
	if (event["state"] == "TIME_WAIT")
		return "a TIME_WAIT socket";
	return "not a full socket";
}

} // namespace

int run_explain(Connection &connection, const json &request, bool as_json)
{
	json response = send_request(connection, request);
	if (as_json)
		return print_json(response);
	const json &event = response["event"];
	std::printf("%s\n",
	            escaped_text("reset " + text(event["id"]) + " at " + text(event["timestamp"]) +
	                         ": " + text(event["direction"]) + " " + text(event["local"]) +
	                         (event["direction"] == wire::direction::kSent ? " -> " : " <- ") +
	                         text(event["remote"]))
	                .c_str());
	print_line("cause", text(event["cause"]));
	std::string evidence;
	for (const json &fact : event["evidence"])
		evidence += (evidence.empty() ? "" : ", ") + text(fact);
	print_line("evidence", evidence.empty() ? "-" : evidence);
	print_line("remedy", text(event["remedy"]));
	std::string process = event["pid"].is_null()
	                          ? "unknown (the kernel sent it for no process)"
	                          : text(event["comm"]) + " (pid " + text(event["pid"]) +
	                                ", known as " + text(event["owner_source"]) + ")";
	print_line("process", process);
	if (event.value("exiting", false))
		print_line("exiting", "yes, signal " + text(event["exit_signal"]));
	print_line("state", text(event["state"]));
	print_line("reason", text(event["kernel_reason"]));
	// The kernel reads these from a full tcp_sock only; elsewhere the
	// zeros in the JSON are not measurements.
	const bool full = event.value("full_socket", false);
	const std::string unknown = "unknown (" + unread_unknown_because(event) + ")";
	print_line("unread", full ? text(event["unread_bytes"]) + " bytes" : unknown);
	print_line("unsent", full ? text(event["unsent_bytes"]) + " bytes" : unknown);
	if (event.value("linger_on", false))
		print_line("linger", text(event["linger_seconds"]) + " s");
	const std::string state = text(event["state"]);
	if (!full)
		print_line("idle", unknown);
	else if (state == "SYN_SENT" || state == "SYN_RECV")
		print_line("idle", "unknown (the handshake never completed)");
	else
		print_line("idle", "sent " + text(event["idle_since_send_ms"]) +
		                       " ms ago, received " + text(event["idle_since_receive_ms"]) +
		                       " ms ago");
	if (!event["cgroup_path"].is_null() && !text(event["cgroup_path"]).empty())
		print_line("cgroup", text(event["cgroup_path"]));
	print_workload(event);
	if (!event["peer_event_id"].is_null())
		print_line("peer", "reset " + text(event["peer_event_id"]) + " (" +
		                       text(event["peer_cause"]) + ") by " +
		                       text(event["peer_comm"]) + " (pid " +
		                       text(event["peer_pid"]) + ")");
	return kSuccess;
}

} // namespace rstwatch::cli
