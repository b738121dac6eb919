#include "json_text.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace rstwatch
{

namespace
{

bool plain_json_byte(char c)
{
	auto byte = static_cast<unsigned char>(c);
	return byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\';
}

// Escaped by the library: control bytes, quotes, and anything that may be
// invalid UTF-8 (a comm can hold any bytes), which is replaced, not thrown.
std::string escaped_by_library(std::string_view text)
{
	std::string quoted = nlohmann::json(std::string(text))
	                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
	return quoted.substr(1, quoted.size() - 2);
}

} // namespace

void JsonAppender::grow(size_t bytes)
{
	out_.resize(std::max(2 * out_.size(), used_ + bytes + 4096));
}

void JsonAppender::string_contents(std::string_view text)
{
	// Plain ASCII, the usual case, is copied as it is.
	if (std::all_of(text.begin(), text.end(), plain_json_byte))
		raw(text);
	else
		raw(escaped_by_library(text));
}

void append_json_string_contents(std::string &out, std::string_view text)
{
	if (std::all_of(text.begin(), text.end(), plain_json_byte))
		out.append(text);
	else
		out.append(escaped_by_library(text));
}

void append_json_string(std::string &out, std::string_view text)
{
	out.push_back('"');
	append_json_string_contents(out, text);
	out.push_back('"');
}

} // namespace rstwatch
