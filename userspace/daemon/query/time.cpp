#include "daemon/query/time.h"

#include "common/digits.h"

#include <ctime>

namespace rstwatch::query
{

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
