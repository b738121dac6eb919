// The response lines of the query protocol: one JSON object per line, "ok"
// true with the answer's fields, or false with an error code and message.
#pragma once

#include "core/classifier.h"
#include "daemon/query/execute.h"
#include "daemon/query/request.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rstwatch::query
{

inline constexpr int kProtocolVersion = 1;

// {"ok":false,"error":{"code":...,"message":...}} and a newline.
std::string error_line(ErrorCode code, std::string_view message);
std::string error_line(const RequestError &error);
// `body` with "ok":true added, and a newline.
std::string ok_line(nlohmann::json body);
// A recent response is written in pieces so a large one never sits in
// memory as one string: head, events separated by commas, tail.
std::string recent_response_head(size_t count, const Coverage &coverage);
inline constexpr std::string_view kRecentResponseTail = "]}\n";

nlohmann::json top_to_json(const TopResult &result, const Coverage &coverage);
// {"oldest_id":..., "window_complete":..., "older_resets":..., ...}
nlohmann::json coverage_to_json(const Coverage &coverage);

// What `stats` reports; the daemon fills it in from its parts.
struct DaemonStats {
	std::string version;
	int64_t started_ns = 0;
	int64_t now_ns = 0;
	uint64_t events = 0;
	uint64_t decode_errors = 0;
	uint64_t lost_events = 0;
	uint64_t sent = 0;
	uint64_t received = 0;
	// [0] sent, [1] received, indexed by Cause.
	std::array<std::array<uint64_t, kCauseCount>, 2> by_cause{};
	size_t store_size = 0;
	size_t store_capacity = 0;
	uint64_t store_oldest_id = 0;
	uint64_t store_newest_id = 0;
	size_t clients = 0;
	size_t followers = 0;
	std::map<std::string, uint64_t> clients_dropped;        // by reason
	std::vector<std::pair<std::string, std::string>> hooks; // tracepoint, variant
};
nlohmann::json stats_to_json(const DaemonStats &stats);

} // namespace rstwatch::query
