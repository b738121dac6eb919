// Strict decimal numbers inside request values (prefix lengths, dates,
// durations), where a sign or trailing text would hide a typo.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>

namespace rstwatch
{

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

} // namespace rstwatch
