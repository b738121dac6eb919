#include "common/json_text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

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

namespace
{

std::string_view trimmed(std::string_view text)
{
	constexpr std::string_view space = " \t\r\n";
	size_t first = text.find_first_not_of(space);
	if (first == std::string_view::npos)
		return {};
	return text.substr(first, text.find_last_not_of(space) - first + 1);
}

// The index of the quote that ends the string whose text starts at
// `begin` (text.size() when it does not end). Most of a response is inside
// strings and most strings are short names: a few bytes are looked at here,
// longer strings are crossed from quote to quote with memchr, skipping a
// quote that an odd run of backslashes escapes.
size_t closing_quote(std::string_view text, size_t begin)
{
	size_t i = begin;
	for (size_t look = std::min(text.size(), begin + 24); i < look; i++) {
		if (text[i] == '"')
			return i;
		if (text[i] == '\\')
			break;
	}
	for (;;) {
		const void *quote = std::memchr(text.data() + i, '"', text.size() - i);
		if (!quote)
			return text.size();
		i = static_cast<size_t>(static_cast<const char *>(quote) - text.data());
		size_t backslashes = 0;
		while (i - backslashes > begin && text[i - backslashes - 1] == '\\')
			backslashes++;
		if (backslashes % 2 == 0)
			return i;
		i++;
	}
}

} // namespace

std::optional<ArrayMember> split_array_member(std::string_view text, std::string_view key)
{
	ArrayMember result;
	int depth = 0;
	bool key_next = false; // the next string at depth 1 is a member name
	std::string_view member;
	bool in_array = false;
	size_t array_begin = 0, element_begin = 0;
	for (size_t i = 0; i < text.size(); i++) {
		char c = text[i];
		if (c == '"') {
			size_t begin = ++i;
			i = closing_quote(text, begin);
			if (depth == 1 && key_next) {
				member = text.substr(begin, i - begin);
				key_next = false;
			}
			continue;
		}
		switch (c) {
		case '{':
			if (++depth == 1)
				key_next = true;
			break;
		case '[':
			if (++depth == 2 && member == key) {
				in_array = true;
				array_begin = i;
				element_begin = i + 1;
			}
			break;
		case ',':
			if (depth == 1) {
				key_next = true;
			} else if (in_array && depth == 2) {
				result.elements.push_back(
				    trimmed(text.substr(element_begin, i - element_begin)));
				element_begin = i + 1;
			}
			break;
		case ']':
			if (in_array && depth == 2) {
				std::string_view last =
				    trimmed(text.substr(element_begin, i - element_begin));
				if (!last.empty() || !result.elements.empty())
					result.elements.push_back(last);
				result.rest = std::string(text.substr(0, array_begin)) + "[]" +
				              std::string(text.substr(i + 1));
				return result;
			}
			depth--;
			break;
		case '}':
			depth--;
			break;
		default:
			break;
		}
	}
	return std::nullopt;
}

} // namespace rstwatch
