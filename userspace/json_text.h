// Writing JSON text directly into a reused buffer: the hot path of every
// surface that prints events (stdout, recent, follow), where building a
// nlohmann::json tree per event costs more than everything else together.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace rstwatch
{

// A JSON string literal; invalid UTF-8 is replaced, never thrown on.
void append_json_string(std::string &out, std::string_view text);

template <typename Integer> void append_json_integer(std::string &out, Integer value)
{
	char digits[24];
	auto result = std::to_chars(digits, digits + sizeof(digits), value);
	out.append(digits, result.ptr);
}

} // namespace rstwatch
