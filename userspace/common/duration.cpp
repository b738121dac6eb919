#include "common/duration.h"

#include "common/digits.h"

namespace rstwatch
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

} // namespace rstwatch
