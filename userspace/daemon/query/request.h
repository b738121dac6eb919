// A query request: one JSON object per line, turned into a Request or a
// RequestError. Pure (no sockets, no clocks): the caller passes the wall
// clock that relative times count back from. The README's "Querying"
// section is the specification.
#pragma once

#include "core/classifier.h"
#include "core/reset_event.h"
#include "daemon/query/workload_filter.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace rstwatch::query
{

inline constexpr size_t kDefaultRecentLimit = 100;
// A response is built in memory before it is sent: the cap bounds what one
// client can make the daemon hold.
inline constexpr size_t kMaxRecentLimit = 10000;
inline constexpr size_t kDefaultTopLimit = 10;
inline constexpr size_t kMaxTopLimit = 1000;

enum class Command { Recent, Top, Stats, Follow, Explain };
enum class GroupBy { RemoteAddress, Process, LocalPort, Cause, Unit, Container, Pod, Netns };

std::string_view command_name(Command command);
std::string_view group_by_name(GroupBy by);
std::optional<GroupBy> parse_group_by(std::string_view name);

// An address, or a prefix of one ("10.0.0.0/8", "fd00::/8"), in the forms
// the tables print too: IPv6 in brackets ("[::1]"), and either followed by a
// port ("127.0.0.1:52779", "[::1]:8080") that the same end must have. IPv4
// is kept as v4 even when the event carries it v4-mapped in IPv6.
struct AddressPrefix {
	bool v4 = true;
	std::array<uint8_t, 16> bytes{};
	unsigned prefix_bits = 32;
	std::optional<uint16_t> port;

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
	WorkloadFilter workload;
	std::optional<int64_t> until_ns; // wall clock, exclusive

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

} // namespace rstwatch::query
