#include "daemon/query/request.h"

#include "core/owner.h"

#include "common/wire.h"
#include "daemon/query/digits.h"
#include "daemon/query/time.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

namespace rstwatch::query
{

namespace
{

using nlohmann::json;

bool is_filter_field(std::string_view field)
{
	return std::find(std::begin(wire::field::kFilters), std::end(wire::field::kFilters),
	                 field) != std::end(wire::field::kFilters);
}

// The fields each command accepts besides "command"; anything else is a bad
// request, so a misspelt filter never silently selects everything.
struct CommandSpec {
	Command command;
	std::string_view name;
	bool filters;
	bool limit;
	bool by;
	bool id;
};

constexpr CommandSpec kCommands[] = {
    {Command::Recent, wire::command::kRecent, true, true, false, false},
    {Command::Top, wire::command::kTop, true, true, true, false},
    {Command::Stats, wire::command::kStats, false, false, false, false},
    {Command::Follow, wire::command::kFollow, true, false, false, false},
    {Command::Explain, wire::command::kExplain, false, false, false, true},
};

constexpr std::pair<GroupBy, std::string_view> kGroupBy[] = {
    {GroupBy::RemoteAddress, wire::group_by::kRemoteAddress},
    {GroupBy::Process, wire::group_by::kProcess},
    {GroupBy::LocalPort, wire::group_by::kLocalPort},
    {GroupBy::Cause, wire::group_by::kCause},
    {GroupBy::Unit, wire::group_by::kUnit},
    {GroupBy::Container, wire::group_by::kContainer},
    {GroupBy::Pod, wire::group_by::kPod},
    {GroupBy::Netns, wire::group_by::kNetns},
};

constexpr std::pair<ErrorCode, std::string_view> kErrorCodes[] = {
    {ErrorCode::BadRequest, wire::error::kBadRequest},
    {ErrorCode::UnknownCommand, wire::error::kUnknownCommand},
    {ErrorCode::NotFound, wire::error::kNotFound},
    {ErrorCode::RequestTooLarge, wire::error::kRequestTooLarge},
    {ErrorCode::PermissionDenied, wire::error::kPermissionDenied},
    {ErrorCode::TooManyClients, wire::error::kTooManyClients},
    {ErrorCode::Timeout, wire::error::kTimeout},
    {ErrorCode::Internal, wire::error::kInternal},
};

// What a client sent, quoted back in an error: bounded, and made valid
// UTF-8 by the serializer's replace mode.
std::string echoed(std::string_view text)
{
	constexpr size_t kMax = 64;
	std::string shown(text.substr(0, kMax));
	if (text.size() > kMax)
		shown += "...";
	return json(shown).dump(-1, ' ', false, json::error_handler_t::replace);
}

RequestError bad(std::string message)
{
	return RequestError{ErrorCode::BadRequest, std::move(message)};
}

// Reads a non-negative integer field; floats, negatives, strings and values
// above `max` are errors.
std::optional<RequestError> read_uint(const json &value, std::string_view name, uint64_t min,
                                      uint64_t max, uint64_t &out)
{
	std::string range = " (" + std::to_string(min) + ".." + std::to_string(max) + ")";
	// The parser keeps non-negative integers unsigned; anything else here
	// is negative, fractional or not a number.
	if (!value.is_number_unsigned())
		return bad(std::string(name) + " must be an integer" + range);
	out = value.get<uint64_t>();
	if (out < min || out > max)
		return bad(std::string(name) + " out of range" + range + ": " +
		           std::to_string(out));
	return std::nullopt;
}

std::optional<RequestError> read_string(const json &value, std::string_view name, std::string &out)
{
	if (!value.is_string())
		return bad(std::string(name) + " must be a string");
	out = value.get<std::string>();
	return std::nullopt;
}

// A point in time: a duration back from `now_ns`, an RFC 3339 time or Unix
// seconds; `name` is the field it came in.
std::optional<RequestError> read_time(const json &value, std::string_view name, int64_t now_ns,
                                      int64_t &out)
{
	const std::string field(name);
	if (value.is_number_unsigned()) {
		uint64_t seconds = value.get<uint64_t>();
		if (seconds >
		    static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / kNsPerSecond))
			return bad(field + " out of range");
		out = static_cast<int64_t>(seconds) * kNsPerSecond;
		return std::nullopt;
	}
	if (!value.is_string())
		return bad(field +
		           " must be a duration (\"5m\"), an RFC 3339 time or Unix seconds");
	std::string text = value.get<std::string>();
	if (auto duration = parse_duration(text)) {
		out = now_ns - *duration;
		return std::nullopt;
	}
	if (auto time = parse_rfc3339(text)) {
		out = *time;
		return std::nullopt;
	}
	return bad(field + " " + echoed(text) +
	           " is neither a duration (\"90s\", \"5m\", \"1h30m\", \"2d\") nor an RFC 3339 "
	           "time (\"2026-11-23T20:25:00Z\")");
}

std::optional<RequestError> read_filter_field(std::string_view field, const json &value,
                                              int64_t now_ns, EventFilter &filter)
{
	std::string text;
	uint64_t number = 0;
	if (field == wire::field::kSince || field == wire::field::kUntil) {
		int64_t time = 0;
		if (auto error = read_time(value, field, now_ns, time))
			return error;
		(field == wire::field::kSince ? filter.since_ns : filter.until_ns) = time;
	} else if (field == wire::field::kAfterId) {
		if (auto error =
		        read_uint(value, field, 0, std::numeric_limits<uint64_t>::max(), number))
			return error;
		filter.after_id = number;
	} else if (field == wire::field::kDirection) {
		if (auto error = read_string(value, field, text))
			return error;
		if (text == wire::direction::kSent)
			filter.direction = RSTWATCH_DIR_SENT;
		else if (text == wire::direction::kReceived)
			filter.direction = RSTWATCH_DIR_RECEIVED;
		else
			return bad("direction must be \"sent\" or \"received\", not " +
			           echoed(text));
	} else if (field == wire::field::kCause) {
		if (auto error = read_string(value, field, text))
			return error;
		std::optional<Cause> cause = parse_cause(text);
		if (!cause)
			return bad("unknown cause " + echoed(text));
		filter.cause = *cause;
	} else if (field == wire::field::kPid) {
		if (auto error =
		        read_uint(value, field, 1, std::numeric_limits<uint32_t>::max(), number))
			return error;
		filter.pid = static_cast<uint32_t>(number);
	} else if (field == wire::field::kComm) {
		if (auto error = read_string(value, field, text))
			return error;
		if (text.empty() || text.size() >= RSTWATCH_COMM_LEN)
			return bad("comm must be 1 to 15 bytes, as the kernel keeps it");
		filter.comm = std::move(text);
	} else if (field == wire::field::kLocalPort || field == wire::field::kRemotePort) {
		if (auto error = read_uint(value, field, 0, 65535, number))
			return error;
		(field == wire::field::kLocalPort ? filter.local_port : filter.remote_port) =
		    static_cast<uint16_t>(number);
	} else if (field == wire::field::kAddress) {
		if (auto error = read_string(value, field, text))
			return error;
		filter.address = AddressPrefix::parse(text);
		if (!filter.address)
			return bad(
			    "address " + echoed(text) +
			    " is not an IPv4 or IPv6 address or prefix, with or without a port "
			    "(10.0.0.0/8, ::1, [::1]:8080, 127.0.0.1:52779)");
	} else if (field == wire::field::kNetns) {
		if (auto error =
		        read_uint(value, field, 1, std::numeric_limits<uint32_t>::max(), number))
			return error;
		filter.workload.netns = static_cast<uint32_t>(number);
	} else if (is_workload_field(field)) {
		if (auto error = read_string(value, field, text))
			return error;
		std::string shown = echoed(text);
		if (auto problem = set_workload_filter(field, std::move(text), filter.workload))
			return bad(*problem + ", not " + shown);
	}
	return std::nullopt;
}

// What no field can tell alone: the combinations a command refuses.
std::optional<RequestError> check_combination(const Request &request)
{
	const EventFilter &filter = request.filter;
	if (request.command == Command::Follow && filter.until_ns)
		return bad("follow streams resets as they happen: until is for recent and top");
	if (filter.since_ns && filter.until_ns && *filter.since_ns >= *filter.until_ns)
		return bad("since must be before until");
	return std::nullopt;
}

ParseResult parse_object(const json &request, int64_t now_ns)
{
	if (!request.is_object())
		return bad("a request is one JSON object per line");
	auto command_field = request.find(wire::field::kCommand);
	if (command_field == request.end())
		return bad("the request has no \"command\"");
	if (!command_field->is_string())
		return bad("\"command\" must be a string");
	const std::string &name = command_field->get_ref<const std::string &>();
	const CommandSpec *spec = nullptr;
	for (const CommandSpec &candidate : kCommands) {
		if (candidate.name == name)
			spec = &candidate;
	}
	if (!spec)
		return RequestError{ErrorCode::UnknownCommand,
		                    "unknown command " + echoed(name) +
		                        " (recent, top, stats, follow, explain)"};

	Request out;
	out.command = spec->command;
	out.limit = spec->command == Command::Top ? kDefaultTopLimit : kDefaultRecentLimit;
	bool have_id = false;
	for (const auto &[field, value] : request.items()) {
		if (field == wire::field::kCommand)
			continue;
		if (spec->filters && is_filter_field(field)) {
			if (auto error = read_filter_field(field, value, now_ns, out.filter))
				return *error;
		} else if (spec->limit && field == wire::field::kLimit) {
			uint64_t limit = 0;
			size_t max = spec->command == Command::Top ? kMaxTopLimit : kMaxRecentLimit;
			if (auto error = read_uint(value, field, 1, max, limit))
				return *error;
			out.limit = static_cast<size_t>(limit);
		} else if (spec->by && field == wire::field::kBy) {
			std::string text;
			if (auto error = read_string(value, field, text))
				return *error;
			std::optional<GroupBy> by = parse_group_by(text);
			if (!by)
				return bad("by must be remote_address, process, local_port, "
				           "cause, unit, container, pod or netns, not " +
				           echoed(text));
			out.by = *by;
		} else if (spec->id && field == wire::field::kId) {
			if (auto error = read_uint(value, field, 1,
			                           std::numeric_limits<uint64_t>::max(), out.id))
				return *error;
			have_id = true;
		} else {
			return bad("unknown field " + echoed(field) + " for " + std::string(name));
		}
	}
	if (spec->id && !have_id)
		return bad("explain needs the \"id\" of an event");
	if (auto error = check_combination(out))
		return *error;
	return out;
}

} // namespace

std::string_view command_name(Command command)
{
	for (const CommandSpec &spec : kCommands) {
		if (spec.command == command)
			return spec.name;
	}
	return "unknown";
}

std::string_view group_by_name(GroupBy by)
{
	for (const auto &[value, name] : kGroupBy) {
		if (value == by)
			return name;
	}
	return "unknown";
}

std::optional<GroupBy> parse_group_by(std::string_view name)
{
	for (const auto &[value, known] : kGroupBy) {
		if (known == name)
			return value;
	}
	return std::nullopt;
}

std::string_view error_code_name(ErrorCode code)
{
	for (const auto &[value, name] : kErrorCodes) {
		if (value == code)
			return name;
	}
	return wire::error::kInternal;
}

bool EventFilter::matches(const ResetEvent &event, const rstwatch_classify_config &classify) const
{
	const rstwatch_event &raw = event.raw;
	if (after_id && event.id <= *after_id)
		return false;
	if (since_ns && event.realtime_ns < *since_ns)
		return false;
	if (until_ns && event.realtime_ns >= *until_ns)
		return false;
	if (direction && raw.direction != *direction)
		return false;
	if (local_port && raw.local_port != *local_port)
		return false;
	if (remote_port && raw.remote_port != *remote_port)
		return false;
	if (pid || comm) {
		if (!owner_named(raw.owner_source))
			return false;
		if (pid && raw.owner_pid != *pid)
			return false;
		if (comm && std::string_view(raw.owner_comm,
		                             strnlen(raw.owner_comm, RSTWATCH_COMM_LEN)) != *comm)
			return false;
	}
	if (address && !address->matches(raw, true) && !address->matches(raw, false))
		return false;
	if (cause && classify_cause(raw, classify) != *cause)
		return false;
	return workload.matches(event);
}

ParseResult parse_request(std::string_view line, int64_t now_ns)
{
	try {
		json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
		if (request.is_discarded())
			return bad("the request is not valid JSON");
		return parse_object(request, now_ns);
	} catch (const std::exception &e) {
		// Only allocation failures get here; the parser itself does not
		// throw with exceptions disabled.
		return RequestError{ErrorCode::Internal, e.what()};
	}
}

} // namespace rstwatch::query
