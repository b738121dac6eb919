// The query socket's protocol: one JSON object per line each way. This file
// is pure (no sockets, no clocks): it turns a request line into a Request or
// an error, decides which stored events a request selects, and builds the
// response lines. The README's "Querying" section is its specification.
#pragma once

#include "core/classifier.h"
#include "core/event_format.h"
#include "core/event_store.h"
#include "core/reset_event.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rstwatch::query
{

inline constexpr int kProtocolVersion = 1;
inline constexpr size_t kDefaultRecentLimit = 100;
// A response is built in memory before it is sent: the cap bounds what one
// client can make the daemon hold.
inline constexpr size_t kMaxRecentLimit = 10000;
inline constexpr size_t kDefaultTopLimit = 10;
inline constexpr size_t kMaxTopLimit = 1000;

enum class Command { Recent, Top, Stats, Follow, Explain };
enum class GroupBy { RemoteAddress, Process, LocalPort, Cause };

std::string_view command_name(Command command);
std::string_view group_by_name(GroupBy by);
std::optional<GroupBy> parse_group_by(std::string_view name);

// An address, or a prefix of one ("10.0.0.0/8", "fd00::/8"). IPv4 is kept as
// v4 even when the event carries it v4-mapped in IPv6.
struct AddressPrefix {
	bool v4 = true;
	std::array<uint8_t, 16> bytes{};
	unsigned prefix_bits = 32;

	static std::optional<AddressPrefix> parse(std::string_view text);
	bool matches(const rstwatch_event &event, bool local) const;
};

struct EventFilter {
	std::optional<int64_t> since_ns; // wall clock, inclusive
	std::optional<uint64_t> after_id;
	std::optional<uint8_t> direction; // enum rstwatch_direction
	std::optional<Cause> cause;
	std::optional<uint32_t> pid;
	std::optional<std::string> comm;
	std::optional<uint16_t> local_port;
	std::optional<uint16_t> remote_port;
	std::optional<AddressPrefix> address; // either end

	// Causes are compared as classify_cause() decides them, which is what
	// every output shows as "cause".
	bool matches(const ResetEvent &event, const rstwatch_classify_config &classify) const;
};

struct Request {
	Command command = Command::Stats;
	EventFilter filter;
	size_t limit = 0;
	GroupBy by = GroupBy::Process;
	uint64_t id = 0; // explain
};

// Stable identifiers, like the cause names: clients switch on them.
enum class ErrorCode {
	BadRequest,
	UnknownCommand,
	NotFound,
	RequestTooLarge,
	PermissionDenied,
	TooManyClients,
	Timeout,
	Internal,
};
std::string_view error_code_name(ErrorCode code);

struct RequestError {
	ErrorCode code = ErrorCode::BadRequest;
	std::string message;
};

using ParseResult = std::variant<Request, RequestError>;

// Parses one request line (without its newline). `now_ns` is the wall clock
// that relative "since" values count back from. Never throws.
ParseResult parse_request(std::string_view line, int64_t now_ns);

// "90s", "5m", "1h30m", "2d" -> nanoseconds.
std::optional<int64_t> parse_duration(std::string_view text);
// "2026-11-23T20:25:00Z", "2026-11-23T20:25:00.5+01:00" -> ns since the epoch.
std::optional<int64_t> parse_rfc3339(std::string_view text);

// {"ok":false,"error":{"code":...,"message":...}} and a newline.
std::string error_line(ErrorCode code, std::string_view message);
std::string error_line(const RequestError &error);
// `body` with "ok":true added, and a newline.
std::string ok_line(nlohmann::json body);
// A recent response is written in pieces so a large one never sits in
// memory as one string: head, events separated by commas, tail.
std::string recent_response_head(size_t count);
inline constexpr std::string_view kRecentResponseTail = "]}\n";

// The newest `limit` events the filter selects, oldest first.
std::vector<const ResetEvent *> select_recent(const EventStore &store, const EventFilter &filter,
                                              size_t limit,
                                              const rstwatch_classify_config &classify);

struct TopGroup {
	std::string key;
	uint64_t count = 0;
	uint64_t sent = 0;
	uint64_t received = 0;
	std::array<uint64_t, kCauseCount> by_cause{};
	int64_t last_seen_ns = 0;
	uint64_t last_id = 0;
	// What the key is made of, for clients that want the parts.
	std::optional<uint32_t> pid;
	std::optional<std::string> comm;
	std::optional<uint16_t> local_port;
	std::optional<std::string> remote_address;
	std::optional<Cause> cause;
};

struct TopResult {
	GroupBy by = GroupBy::Process;
	uint64_t matched = 0; // events the filter selected, in every group
	size_t group_count = 0;
	std::vector<TopGroup> groups; // largest first, at most `limit`
};

TopResult aggregate_top(const EventStore &store, const EventFilter &filter, GroupBy by,
                        size_t limit, const rstwatch_classify_config &classify);
nlohmann::json top_to_json(const TopResult &result);

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
