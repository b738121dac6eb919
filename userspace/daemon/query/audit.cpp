#include "daemon/query/audit.h"

#include "common/wire.h"
#include "core/reset_event.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace rstwatch::query
{

using nlohmann::json;

bool socket_matches(const EventFilter &filter, const LiveSocket &socket)
{
	const rstwatch_event &raw = *socket.raw;
	if (filter.local_port && raw.local_port != *filter.local_port)
		return false;
	if (filter.remote_port && raw.remote_port != *filter.remote_port)
		return false;
	if (filter.address && !filter.address->matches(raw, true) &&
	    !filter.address->matches(raw, false))
		return false;
	if (!filter.workload.matches(raw.netns, socket.cgroup))
		return false;
	if (!filter.pid && !filter.comm)
		return true;
	return std::any_of(socket.holders.begin(), socket.holders.end(),
	                   [&](const SocketHolder &holder) {
		                   return (!filter.pid || holder.pid == *filter.pid) &&
		                          (!filter.comm || comm_text(holder.comm) == *filter.comm);
	                   });
}

AuditResult run_audit(std::span<const LiveSocket> sockets, size_t total, const Request &request)
{
	const AuditOptions &options = request.audit;
	AuditResult result;
	result.sockets = total;
	std::vector<AuditRow> rows;
	std::map<std::tuple<uint32_t, std::string, Risk>, uint64_t> groups;
	for (const LiveSocket &socket : sockets) {
		uint8_t risks = socket_risks(*socket.raw, options.idle_over_ms);
		if (options.risk)
			risks &= risk_bit(*options.risk);
		if (!risks || !socket_matches(request.filter, socket))
			continue;
		for (Risk risk : all_risks()) {
			if (!(risks & risk_bit(risk)))
				continue;
			result.matched++;
			result.by_risk[static_cast<size_t>(risk)]++;
			if (options.summary)
				groups[{socket.raw->owner_pid,
				        std::string(comm_text(socket.raw->owner_comm)), risk}]++;
			else if (request.limit)
				rows.push_back({&socket, risk});
		}
	}
	auto order = [](const AuditRow &row) {
		const rstwatch_event &raw = *row.socket->raw;
		return std::make_tuple(row.risk, raw.owner_pid, raw.local_port, raw.socket_inode);
	};
	size_t kept = std::min(rows.size(), request.limit);
	std::partial_sort(
	    rows.begin(), rows.begin() + kept, rows.end(),
	    [&](const AuditRow &a, const AuditRow &b) { return order(a) < order(b); });
	rows.resize(kept);
	result.rows = std::move(rows);
	for (const auto &[key, count] : groups)
		result.groups.push_back(
		    {std::get<0>(key), std::get<1>(key), std::get<2>(key), count});
	std::stable_sort(
	    result.groups.begin(), result.groups.end(),
	    [](const AuditGroup &a, const AuditGroup &b) { return a.count > b.count; });
	return result;
}

json audit_row_to_json(const LiveSocket &socket, Risk risk, const std::string &hostname)
{
	const rstwatch_event &raw = *socket.raw;
	const CgroupInfo *cgroup = socket.cgroup;
	TextBuffer text;
	json row;
	row["hostname"] = hostname;
	row["risk"] = risk_name(risk);
	row["predicted_cause"] = cause_name(predicted_cause(risk));
	row["pid"] = raw.owner_pid;
	row["comm"] = comm_text(raw.owner_comm);
	row["owner_source"] = owner_source_name(raw.owner_source);
	// Every process holding the socket, when more than one does (as in
	// the events).
	if (socket.holders.size() > 1) {
		json holders = json::array();
		for (const SocketHolder &holder : socket.holders)
			holders.push_back({{"pid", holder.pid}, {"comm", comm_text(holder.comm)}});
		row["holders"] = std::move(holders);
	} else {
		row["holders"] = nullptr;
	}
	row["local"] = endpoint_text(raw, true, text);
	row["remote"] = endpoint_text(raw, false, text);
	row["family"] = family_name(raw);
	row["state"] = tcp_state_name(raw.state);
	row["idle_ms"] = socket_idle_ms(raw);
	row["idle_since_send_ms"] = raw.idle_since_send_ms;
	row["idle_since_receive_ms"] = raw.idle_since_receive_ms;
	row["unread_bytes"] = raw.unread_bytes;
	row["unsent_bytes"] = raw.unsent_bytes;
	row["linger_on"] = has_flag(raw, RSTWATCH_F_LINGER_ON);
	row["linger_seconds"] = raw.linger_seconds;
	row["keepalive_on"] = has_flag(raw, RSTWATCH_F_KEEPALIVE_ON);
	row["keepalive_idle_seconds"] = raw.keepalive_idle_seconds;
	row["keepalive_interval_seconds"] = raw.keepalive_interval_seconds;
	row["keepalive_count"] = raw.keepalive_count;
	row["netns"] = raw.netns;
	row["socket_inode"] = raw.socket_inode;
	row["socket_uid"] = raw.socket_uid;
	row["cgroup_id"] = raw.cgroup_id;
	row["cgroup_path"] = cgroup ? cgroup->path : "";
	row["systemd_unit"] = cgroup ? cgroup->unit : "";
	row["container_id"] = cgroup ? cgroup->container : "";
	row["pod_namespace"] = cgroup ? cgroup->pod_namespace : "";
	row["pod_name"] = cgroup ? cgroup->pod_name : "";
	row["pod_uid"] = cgroup ? cgroup->pod_uid : "";
	row["remedy"] = risk_remedy(risk);
	return row;
}

json audit_to_json(const AuditResult &result, const AuditContext &context)
{
	json body;
	body[wire::response::kCommand] = wire::command::kAudit;
	body[wire::field::kIdleOverMs] = context.idle_over_ms;
	body["sockets"] = result.sockets;
	body["matched"] = result.matched;
	json at_risk = json::object();
	for (Risk risk : all_risks())
		at_risk[std::string(risk_name(risk))] = result.by_risk[static_cast<size_t>(risk)];
	body["at_risk"] = std::move(at_risk);
	body["elapsed_ms"] = context.elapsed_ms;
	if (context.idle_timeout_seen) {
		body["idle_timeout_seen_seconds"] = context.idle_timeout_seen->seconds;
		body["idle_timeout_seen_resets"] = context.idle_timeout_seen->resets;
	} else {
		body["idle_timeout_seen_seconds"] = nullptr;
		body["idle_timeout_seen_resets"] = 0;
	}
	if (context.summary) {
		json groups = json::array();
		for (const AuditGroup &group : result.groups)
			groups.push_back({{"pid", group.pid},
			                  {"comm", group.comm},
			                  {"risk", risk_name(group.risk)},
			                  {"count", group.count}});
		body[wire::response::kGroups] = std::move(groups);
		return body;
	}
	json rows = json::array();
	for (const AuditRow &row : result.rows)
		rows.push_back(audit_row_to_json(*row.socket, row.risk, context.hostname));
	body["count"] = rows.size();
	body[wire::response::kRows] = std::move(rows);
	return body;
}

} // namespace rstwatch::query
