#include "daemon/query/time.h"

#include "daemon/query/digits.h"

#include <ctime>

namespace rstwatch::query
{

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

} // namespace rstwatch::query
