#include "daemon/query/response.h"

#include "common/wire.h"
#include "core/reset_event.h"
#include "daemon/query/time.h"

#include <algorithm>

namespace rstwatch::query
{

using nlohmann::json;

namespace
{

// The counts that are not zero, keyed by cause name.
json cause_counts(const std::array<uint64_t, kCauseCount> &counts)
{
	json causes = json::object();
	for (Cause cause : all_causes()) {
		if (uint64_t count = counts[static_cast<size_t>(cause)])
			causes[std::string(cause_name(cause))] = count;
	}
	return causes;
}

} // namespace

std::string error_line(ErrorCode code, std::string_view message)
{
	json body;
	body[wire::response::kOk] = false;
	body[wire::response::kError] = {{wire::response::kCode, error_code_name(code)},
	                                {wire::response::kMessage, message}};
	std::string line = body.dump(-1, ' ', false, json::error_handler_t::replace);
	line.push_back('\n');
	return line;
}

std::string error_line(const RequestError &error)
{
	return error_line(error.code, error.message);
}

std::string ok_line(json body)
{
	body[wire::response::kOk] = true;
	std::string line = body.dump(-1, ' ', false, json::error_handler_t::replace);
	line.push_back('\n');
	return line;
}

std::string recent_response_head(size_t count, const Coverage &coverage)
{
	// {"ok":true,"command":"recent","count":N,"coverage":{...},"events":[
	return std::string("{\"") + wire::response::kOk + "\":true,\"" + wire::response::kCommand +
	       "\":\"" + wire::command::kRecent + "\",\"count\":" + std::to_string(count) + ",\"" +
	       wire::response::kCoverage + "\":" + coverage_to_json(coverage).dump() + ",\"" +
	       wire::response::kEvents + "\":[";
}

json coverage_to_json(const Coverage &coverage)
{
	json body;
	body["oldest_id"] = coverage.oldest_id;
	body["oldest_timestamp"] =
	    coverage.oldest_id ? json(format_timestamp(coverage.oldest_ns)) : json(nullptr);
	body["newest_id"] = coverage.newest_id;
	body["forgotten"] = coverage.forgotten;
	body["window_complete"] = coverage.window_complete;
	body["older_resets"] = coverage.older_resets;
	body["older_by_cause"] = cause_counts(coverage.older_by_cause);
	body["older_filtered"] = coverage.older_filtered;
	return body;
}

json top_to_json(const TopResult &result, const Coverage &coverage)
{
	json body;
	body[wire::response::kCoverage] = coverage_to_json(coverage);
	body[wire::response::kCommand] = wire::command::kTop;
	body[wire::field::kBy] = group_by_name(result.by);
	body["matched"] = result.matched;
	body["group_count"] = result.group_count;
	json groups = json::array();
	for (const TopGroup &group : result.groups) {
		json row;
		row["key"] = group.key;
		row["count"] = group.count;
		row["sent"] = group.sent;
		row["received"] = group.received;
		row["causes"] = cause_counts(group.by_cause);
		// The first of the largest, so a tie goes to the earlier cause.
		size_t top_cause = static_cast<size_t>(
		    std::max_element(group.by_cause.begin(), group.by_cause.end()) -
		    group.by_cause.begin());
		row["top_cause"] = cause_name(static_cast<Cause>(top_cause));
		row["last_seen"] = format_timestamp(group.last_seen_ns);
		row["last_id"] = group.last_id;
		if (result.by == GroupBy::Process) {
			row["pid"] = group.pid ? json(*group.pid) : json(nullptr);
			row["comm"] = group.comm ? json(*group.comm) : json(nullptr);
		}
		if (group.local_port)
			row["local_port"] = *group.local_port;
		if (group.remote_address)
			row["remote_address"] = *group.remote_address;
		if (group.cause)
			row["cause"] = cause_name(*group.cause);
		// Named like the event fields; "" for the group of resets with none.
		for (const auto &[name, part] : {std::pair{"systemd_unit", &group.systemd_unit},
		                                 std::pair{"container_id", &group.container_id},
		                                 std::pair{"pod_namespace", &group.pod_namespace},
		                                 std::pair{"pod_name", &group.pod_name},
		                                 std::pair{"pod_uid", &group.pod_uid}}) {
			if (*part)
				row[name] = **part;
		}
		if (group.netns)
			row["netns"] = *group.netns;
		groups.push_back(std::move(row));
	}
	body["groups"] = std::move(groups);
	return body;
}

json stats_to_json(const DaemonStats &stats)
{
	json body;
	body[wire::response::kCommand] = wire::command::kStats;
	body["version"] = stats.version;
	body["protocol"] = kProtocolVersion;
	body["started"] = format_timestamp(stats.started_ns);
	body["uptime_seconds"] = (stats.now_ns - stats.started_ns) / kNsPerSecond;
	body["events"] = stats.events;
	body["decode_errors"] = stats.decode_errors;
	body["lost_events"] = stats.lost_events;
	body["sent"] = stats.sent;
	body["received"] = stats.received;
	json by_cause = json::object();
	by_cause[wire::direction::kSent] = cause_counts(stats.by_cause[0]);
	by_cause[wire::direction::kReceived] = cause_counts(stats.by_cause[1]);
	body["by_cause"] = std::move(by_cause);
	body["store"] = {{"events", stats.store_size},
	                 {"capacity", stats.store_capacity},
	                 {"oldest_id", stats.store_oldest_id},
	                 {"newest_id", stats.store_newest_id}};
	body["clients"] = stats.clients;
	body["followers"] = stats.followers;
	body["clients_dropped"] = stats.clients_dropped;
	json hooks = json::array();
	for (const auto &[tracepoint, variant] : stats.hooks)
		hooks.push_back({{"tracepoint", tracepoint}, {"variant", variant}});
	body["hooks"] = std::move(hooks);
	return body;
}

} // namespace rstwatch::query
