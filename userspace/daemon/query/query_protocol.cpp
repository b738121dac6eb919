#include "daemon/query/query_protocol.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>
#include <limits>
#include <unordered_map>

namespace rstwatch::query
{

namespace
{

using nlohmann::json;

constexpr int64_t kNsPerSecond = 1'000'000'000;

constexpr std::string_view kFilterFields[] = {"since", "after_id",   "direction",   "cause",  "pid",
                                              "comm",  "local_port", "remote_port", "address"};

bool is_filter_field(std::string_view field)
{
	return std::find(std::begin(kFilterFields), std::end(kFilterFields), field) !=
	       std::end(kFilterFields);
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
    {Command::Recent, "recent", true, true, false, false},
    {Command::Top, "top", true, true, true, false},
    {Command::Stats, "stats", false, false, false, false},
    {Command::Follow, "follow", true, false, false, false},
    {Command::Explain, "explain", false, false, false, true},
};

constexpr std::pair<GroupBy, std::string_view> kGroupBy[] = {
    {GroupBy::RemoteAddress, "remote_address"},
    {GroupBy::Process, "process"},
    {GroupBy::LocalPort, "local_port"},
    {GroupBy::Cause, "cause"},
};

constexpr std::pair<ErrorCode, std::string_view> kErrorCodes[] = {
    {ErrorCode::BadRequest, "bad_request"},
    {ErrorCode::UnknownCommand, "unknown_command"},
    {ErrorCode::NotFound, "not_found"},
    {ErrorCode::RequestTooLarge, "request_too_large"},
    {ErrorCode::PermissionDenied, "permission_denied"},
    {ErrorCode::TooManyClients, "too_many_clients"},
    {ErrorCode::Timeout, "timeout"},
    {ErrorCode::Internal, "internal"},
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

std::optional<RequestError> read_since(const json &value, int64_t now_ns, int64_t &out)
{
	if (value.is_number_unsigned()) {
		uint64_t seconds = value.get<uint64_t>();
		if (seconds >
		    static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / kNsPerSecond))
			return bad("since out of range");
		out = static_cast<int64_t>(seconds) * kNsPerSecond;
		return std::nullopt;
	}
	if (!value.is_string())
		return bad("since must be a duration (\"5m\"), an RFC 3339 time or Unix seconds");
	std::string text = value.get<std::string>();
	if (auto duration = parse_duration(text)) {
		out = now_ns - *duration;
		return std::nullopt;
	}
	if (auto time = parse_rfc3339(text)) {
		out = *time;
		return std::nullopt;
	}
	return bad("since " + echoed(text) +
	           " is neither a duration (\"90s\", \"5m\", \"1h30m\", \"2d\") nor an RFC 3339 "
	           "time (\"2026-11-23T20:25:00Z\")");
}

std::optional<RequestError> read_filter_field(std::string_view field, const json &value,
                                              int64_t now_ns, EventFilter &filter)
{
	std::string text;
	uint64_t number = 0;
	if (field == "since") {
		int64_t since = 0;
		if (auto error = read_since(value, now_ns, since))
			return error;
		filter.since_ns = since;
	} else if (field == "after_id") {
		if (auto error =
		        read_uint(value, field, 0, std::numeric_limits<uint64_t>::max(), number))
			return error;
		filter.after_id = number;
	} else if (field == "direction") {
		if (auto error = read_string(value, field, text))
			return error;
		if (text == "sent")
			filter.direction = RSTWATCH_DIR_SENT;
		else if (text == "received")
			filter.direction = RSTWATCH_DIR_RECEIVED;
		else
			return bad("direction must be \"sent\" or \"received\", not " +
			           echoed(text));
	} else if (field == "cause") {
		if (auto error = read_string(value, field, text))
			return error;
		std::optional<Cause> cause = parse_cause(text);
		if (!cause)
			return bad("unknown cause " + echoed(text));
		filter.cause = *cause;
	} else if (field == "pid") {
		if (auto error =
		        read_uint(value, field, 1, std::numeric_limits<uint32_t>::max(), number))
			return error;
		filter.pid = static_cast<uint32_t>(number);
	} else if (field == "comm") {
		if (auto error = read_string(value, field, text))
			return error;
		if (text.empty() || text.size() >= RSTWATCH_COMM_LEN)
			return bad("comm must be 1 to 15 bytes, as the kernel keeps it");
		filter.comm = std::move(text);
	} else if (field == "local_port" || field == "remote_port") {
		if (auto error = read_uint(value, field, 0, 65535, number))
			return error;
		(field == "local_port" ? filter.local_port : filter.remote_port) =
		    static_cast<uint16_t>(number);
	} else if (field == "address") {
		if (auto error = read_string(value, field, text))
			return error;
		filter.address = AddressPrefix::parse(text);
		if (!filter.address)
			return bad("address " + echoed(text) +
			           " is not an IPv4 or IPv6 address or prefix");
	}
	return std::nullopt;
}

ParseResult parse_object(const json &request, int64_t now_ns)
{
	if (!request.is_object())
		return bad("a request is one JSON object per line");
	auto command_field = request.find("command");
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
		if (field == "command")
			continue;
		if (spec->filters && is_filter_field(field)) {
			if (auto error = read_filter_field(field, value, now_ns, out.filter))
				return *error;
		} else if (spec->limit && field == "limit") {
			uint64_t limit = 0;
			size_t max = spec->command == Command::Top ? kMaxTopLimit : kMaxRecentLimit;
			if (auto error = read_uint(value, field, 1, max, limit))
				return *error;
			out.limit = static_cast<size_t>(limit);
		} else if (spec->by && field == "by") {
			std::string text;
			if (auto error = read_string(value, field, text))
				return *error;
			std::optional<GroupBy> by = parse_group_by(text);
			if (!by)
				return bad("by must be remote_address, process, local_port or "
				           "cause, not " +
				           echoed(text));
			out.by = *by;
		} else if (spec->id && field == "id") {
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
	return out;
}

// Digits only, no sign: "007" is 7, "" and "7x" are not numbers.
template <typename T> std::optional<T> parse_digits(std::string_view text)
{
	T value{};
	if (text.empty())
		return std::nullopt;
	auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
	if (error != std::errc() || end != text.data() + text.size())
		return std::nullopt;
	return value;
}

bool address_bits_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8;
	if (std::memcmp(a, b, whole) != 0)
		return false;
	unsigned rest = bits % 8;
	if (rest == 0)
		return true;
	uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
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
	return "internal";
}

std::optional<AddressPrefix> AddressPrefix::parse(std::string_view text)
{
	if (text.size() > INET6_ADDRSTRLEN + 4)
		return std::nullopt;
	std::string address(text);
	std::optional<unsigned> bits;
	if (size_t slash = address.find('/'); slash != std::string::npos) {
		bits = parse_digits<unsigned>(std::string_view(address).substr(slash + 1));
		if (!bits)
			return std::nullopt;
		address.resize(slash);
	}
	AddressPrefix prefix;
	if (inet_pton(AF_INET, address.c_str(), prefix.bytes.data()) == 1) {
		prefix.v4 = true;
		prefix.prefix_bits = bits.value_or(32);
		if (prefix.prefix_bits > 32)
			return std::nullopt;
		return prefix;
	}
	if (inet_pton(AF_INET6, address.c_str(), prefix.bytes.data()) == 1) {
		prefix.prefix_bits = bits.value_or(128);
		if (prefix.prefix_bits > 128)
			return std::nullopt;
		// A v4-mapped address is the IPv4 host it maps.
		if (is_v4_mapped(prefix.bytes.data()) && prefix.prefix_bits >= 96) {
			std::array<uint8_t, 16> v4{};
			std::memcpy(v4.data(), prefix.bytes.data() + 12, 4);
			prefix.bytes = v4;
			prefix.prefix_bits -= 96;
			prefix.v4 = true;
			return prefix;
		}
		prefix.v4 = false;
		return prefix;
	}
	return std::nullopt;
}

bool AddressPrefix::matches(const rstwatch_event &event, bool local) const
{
	const uint8_t *address = local ? event.local_addr : event.remote_addr;
	bool event_v4 = event.family == RSTWATCH_AF_INET || is_v4_mapped(address);
	if (event_v4 != v4)
		return false;
	if (event_v4 && event.family == RSTWATCH_AF_INET6)
		address += 12;
	return address_bits_match(address, bytes.data(), prefix_bits);
}

bool EventFilter::matches(const ResetEvent &event, const rstwatch_classify_config &classify) const
{
	const rstwatch_event &raw = event.raw;
	if (after_id && event.id <= *after_id)
		return false;
	if (since_ns && event.realtime_ns < *since_ns)
		return false;
	if (direction && raw.direction != *direction)
		return false;
	if (local_port && raw.local_port != *local_port)
		return false;
	if (remote_port && raw.remote_port != *remote_port)
		return false;
	if (pid || comm) {
		if (raw.owner_source == RSTWATCH_OWNER_NONE)
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
	return true;
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

std::optional<int64_t> parse_duration(std::string_view text)
{
	if (text.empty() || text.size() > 32)
		return std::nullopt;
	int64_t total = 0;
	size_t i = 0;
	while (i < text.size()) {
		size_t digits_end = i;
		while (digits_end < text.size() && text[digits_end] >= '0' &&
		       text[digits_end] <= '9')
			digits_end++;
		if (digits_end == i || digits_end == text.size())
			return std::nullopt;
		std::optional<int64_t> count =
		    parse_digits<int64_t>(text.substr(i, digits_end - i));
		if (!count)
			return std::nullopt;
		int64_t unit = 0;
		switch (text[digits_end]) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		default:
			return std::nullopt;
		}
		// Ten years is more than any store holds; anything longer is a typo.
		constexpr int64_t kMaxSeconds = 10ll * 366 * 86400;
		if (*count > kMaxSeconds / unit)
			return std::nullopt;
		total += *count * unit;
		if (total > kMaxSeconds)
			return std::nullopt;
		i = digits_end + 1;
	}
	return total * kNsPerSecond;
}

std::optional<int64_t> parse_rfc3339(std::string_view text)
{
	// YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
	if (text.size() < 20 || text.size() > 40)
		return std::nullopt;
	auto field = [&](size_t at, size_t length) {
		return parse_digits<int>(text.substr(at, length));
	};
	auto year = field(0, 4), month = field(5, 2), day = field(8, 2);
	auto hour = field(11, 2), minute = field(14, 2), second = field(17, 2);
	if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' ||
	    text[7] != '-' || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
	    text[13] != ':' || text[16] != ':')
		return std::nullopt;
	if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
	    *second > 60)
		return std::nullopt;
	size_t at = 19;
	int64_t fraction_ns = 0;
	if (at < text.size() && text[at] == '.') {
		size_t start = ++at;
		int64_t scale = 100'000'000;
		while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
			fraction_ns += (text[at] - '0') * scale;
			scale /= 10;
			at++;
		}
		if (at == start)
			return std::nullopt;
	}
	int64_t offset_seconds = 0;
	std::string_view zone = text.substr(at);
	if (zone == "Z" || zone == "z") {
		offset_seconds = 0;
	} else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
		auto hours = parse_digits<int>(zone.substr(1, 2));
		auto minutes = parse_digits<int>(zone.substr(4, 2));
		if (!hours || !minutes || *hours > 23 || *minutes > 59)
			return std::nullopt;
		offset_seconds = (*hours * 3600 + *minutes * 60) * (zone[0] == '-' ? -1 : 1);
	} else {
		return std::nullopt;
	}
	tm parts{};
	parts.tm_year = *year - 1900;
	parts.tm_mon = *month - 1;
	parts.tm_mday = *day;
	parts.tm_hour = *hour;
	parts.tm_min = *minute;
	parts.tm_sec = *second;
	time_t seconds = timegm(&parts);
	if (parts.tm_mday != *day) // 31 February and the like
		return std::nullopt;
	return (static_cast<int64_t>(seconds) - offset_seconds) * kNsPerSecond + fraction_ns;
}

std::string error_line(ErrorCode code, std::string_view message)
{
	json body;
	body["ok"] = false;
	body["error"] = {{"code", error_code_name(code)}, {"message", message}};
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
	body["ok"] = true;
	std::string line = body.dump(-1, ' ', false, json::error_handler_t::replace);
	line.push_back('\n');
	return line;
}

std::string recent_response_head(size_t count)
{
	return "{\"ok\":true,\"command\":\"recent\",\"count\":" + std::to_string(count) +
	       ",\"events\":[";
}

std::vector<const ResetEvent *> select_recent(const EventStore &store, const EventFilter &filter,
                                              size_t limit,
                                              const rstwatch_classify_config &classify)
{
	std::vector<const ResetEvent *> selected;
	if (limit == 0)
		return selected;
	store.visit_newest_first([&](const ResetEvent &event) {
		// Older events cannot match a lower bound the newer ones failed.
		if (filter.after_id && event.id <= *filter.after_id)
			return false;
		if (filter.matches(event, classify))
			selected.push_back(&event);
		return selected.size() < limit;
	});
	std::reverse(selected.begin(), selected.end());
	return selected;
}

TopResult aggregate_top(const EventStore &store, const EventFilter &filter, GroupBy by,
                        size_t limit, const rstwatch_classify_config &classify)
{
	TopResult result;
	result.by = by;
	std::unordered_map<std::string, TopGroup> groups;
	store.visit_newest_first([&](const ResetEvent &event) {
		if (filter.after_id && event.id <= *filter.after_id)
			return false;
		if (!filter.matches(event, classify))
			return true;
		const rstwatch_event &raw = event.raw;
		Cause cause = classify_cause(raw, classify);
		std::string key;
		switch (by) {
		case GroupBy::RemoteAddress:
			key = format_address(raw, false);
			break;
		case GroupBy::Process:
			key = raw.owner_source == RSTWATCH_OWNER_NONE
			          ? "(unattributed)"
			          : std::string(comm_text(raw.owner_comm)) + "[" +
			                std::to_string(raw.owner_pid) + "]";
			break;
		case GroupBy::LocalPort:
			key = std::to_string(raw.local_port);
			break;
		case GroupBy::Cause:
			key = cause_name(cause);
			break;
		}
		auto [it, inserted] = groups.try_emplace(key);
		TopGroup &group = it->second;
		if (inserted) {
			// Visited newest first: the first event seen is the last one.
			group.key = std::move(key);
			group.last_seen_ns = event.realtime_ns;
			group.last_id = event.id;
			switch (by) {
			case GroupBy::RemoteAddress:
				group.remote_address = group.key;
				break;
			case GroupBy::Process:
				if (raw.owner_source != RSTWATCH_OWNER_NONE) {
					group.pid = raw.owner_pid;
					group.comm = comm_text(raw.owner_comm);
				}
				break;
			case GroupBy::LocalPort:
				group.local_port = raw.local_port;
				break;
			case GroupBy::Cause:
				group.cause = cause;
				break;
			}
		}
		group.count++;
		(raw.direction == RSTWATCH_DIR_SENT ? group.sent : group.received)++;
		group.by_cause[static_cast<size_t>(cause)]++;
		result.matched++;
		return true;
	});
	result.group_count = groups.size();
	result.groups.reserve(groups.size());
	for (auto &[key, group] : groups)
		result.groups.push_back(std::move(group));
	std::sort(result.groups.begin(), result.groups.end(),
	          [](const TopGroup &a, const TopGroup &b) {
		          if (a.count != b.count)
			          return a.count > b.count;
		          if (a.last_id != b.last_id)
			          return a.last_id > b.last_id;
		          return a.key < b.key;
	          });
	if (result.groups.size() > limit)
		result.groups.resize(limit);
	return result;
}

json top_to_json(const TopResult &result)
{
	json body;
	body["command"] = "top";
	body["by"] = group_by_name(result.by);
	body["matched"] = result.matched;
	body["group_count"] = result.group_count;
	json groups = json::array();
	for (const TopGroup &group : result.groups) {
		json row;
		row["key"] = group.key;
		row["count"] = group.count;
		row["sent"] = group.sent;
		row["received"] = group.received;
		json causes = json::object();
		size_t top_cause = 0;
		for (size_t i = 0; i < group.by_cause.size(); i++) {
			if (!group.by_cause[i])
				continue;
			causes[std::string(cause_name(static_cast<Cause>(i)))] = group.by_cause[i];
			if (group.by_cause[i] > group.by_cause[top_cause] ||
			    !group.by_cause[top_cause])
				top_cause = i;
		}
		row["causes"] = std::move(causes);
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
		groups.push_back(std::move(row));
	}
	body["groups"] = std::move(groups);
	return body;
}

json stats_to_json(const DaemonStats &stats)
{
	json body;
	body["command"] = "stats";
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
	for (size_t direction = 0; direction < 2; direction++) {
		json causes = json::object();
		for (Cause cause : all_causes()) {
			uint64_t count = stats.by_cause[direction][static_cast<size_t>(cause)];
			if (count)
				causes[std::string(cause_name(cause))] = count;
		}
		by_cause[direction == 0 ? "sent" : "received"] = std::move(causes);
	}
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
