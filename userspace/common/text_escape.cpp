#include "common/text_escape.h"

#include <algorithm>
#include <cstdint>

namespace rstwatch
{

namespace
{

// One step through UTF-8 text: `length` bytes from where it started are
// either one whole code point (`valid`) or one maximal invalid subpart, as
// the Unicode standard ("U+FFFD substitution of maximal subparts") and the
// WHATWG decoder count them: the bytes that could still have begun a valid
// sequence, at least one.
struct Utf8Step {
	size_t length;
	bool valid;
	uint32_t code_point;
};

Utf8Step next_utf8(std::string_view text, size_t at)
{
	const auto lead = static_cast<unsigned char>(text[at]);
	if (lead < 0x80)
		return {1, true, lead};
	size_t needed = 0;
	// The second byte's range is narrower after some leads: no overlong
	// forms, no surrogates, nothing above U+10FFFF.
	unsigned char low = 0x80, high = 0xBF;
	uint32_t code_point = 0;
	if (lead >= 0xC2 && lead <= 0xDF) {
		needed = 1;
		code_point = lead & 0x1F;
	} else if (lead >= 0xE0 && lead <= 0xEF) {
		needed = 2;
		code_point = lead & 0x0F;
		low = lead == 0xE0 ? 0xA0 : 0x80;
		high = lead == 0xED ? 0x9F : 0xBF;
	} else if (lead >= 0xF0 && lead <= 0xF4) {
		needed = 3;
		code_point = lead & 0x07;
		low = lead == 0xF0 ? 0x90 : 0x80;
		high = lead == 0xF4 ? 0x8F : 0xBF;
	} else {
		return {1, false, 0};
	}
	for (size_t i = 1; i <= needed; i++) {
		if (at + i >= text.size())
			return {i, false, 0};
		const auto byte = static_cast<unsigned char>(text[at + i]);
		if (byte < low || byte > high)
			return {i, false, 0};
		code_point = (code_point << 6) | (byte & 0x3F);
		low = 0x80;
		high = 0xBF;
	}
	return {needed + 1, true, code_point};
}

bool plain_byte(char c)
{
	const auto byte = static_cast<unsigned char>(c);
	return byte >= 0x20 && byte < 0x7f && c != '\\';
}

// Valid characters a terminal acts on instead of showing: C1 controls (an
// 8-bit CSI among them), the bidi marks, embeddings, overrides and isolates
// that reorder what follows, and the line and paragraph separators.
bool shown_as_code_point(uint32_t code_point)
{
	return (code_point >= 0x80 && code_point <= 0x9F) || code_point == 0x061C ||
	       code_point == 0x200E || code_point == 0x200F ||
	       (code_point >= 0x2028 && code_point <= 0x202E) ||
	       (code_point >= 0x2066 && code_point <= 0x2069);
}

constexpr char kHex[] = "0123456789abcdef";

void append_byte_escape(std::string &out, unsigned char byte)
{
	out += "\\x";
	out += kHex[byte >> 4];
	out += kHex[byte & 0xF];
}

void append_code_point_escape(std::string &out, uint32_t code_point)
{
	out += "\\u";
	for (int shift = 12; shift >= 0; shift -= 4)
		out += kHex[(code_point >> shift) & 0xF];
}

void append_ascii_escape(std::string &out, char c)
{
	switch (c) {
	case '\\':
		out += "\\\\";
		break;
	case '\n':
		out += "\\n";
		break;
	case '\t':
		out += "\\t";
		break;
	case '\r':
		out += "\\r";
		break;
	default:
		append_byte_escape(out, static_cast<unsigned char>(c));
		break;
	}
}

} // namespace

bool is_valid_utf8(std::string_view text)
{
	for (size_t at = 0; at < text.size();) {
		Utf8Step step = next_utf8(text, at);
		if (!step.valid)
			return false;
		at += step.length;
	}
	return true;
}

std::string valid_utf8(std::string_view text)
{
	std::string out;
	out.reserve(text.size());
	for (size_t at = 0; at < text.size();) {
		Utf8Step step = next_utf8(text, at);
		if (step.valid)
			out.append(text.substr(at, step.length));
		else
			out.append(kReplacementCharacter);
		at += step.length;
	}
	return out;
}

bool needs_no_escaping(std::string_view text)
{
	return std::all_of(text.begin(), text.end(), plain_byte);
}

void append_escaped_text(std::string &out, std::string_view text)
{
	for (size_t at = 0; at < text.size();) {
		if (plain_byte(text[at])) {
			out += text[at++];
			continue;
		}
		Utf8Step step = next_utf8(text, at);
		if (!step.valid) {
			for (size_t i = 0; i < step.length; i++)
				append_byte_escape(out, static_cast<unsigned char>(text[at + i]));
		} else if (step.length == 1) {
			append_ascii_escape(out, text[at]);
		} else if (shown_as_code_point(step.code_point)) {
			append_code_point_escape(out, step.code_point);
		} else {
			out.append(text.substr(at, step.length));
		}
		at += step.length;
	}
}

std::string escaped_text(std::string_view text)
{
	if (needs_no_escaping(text))
		return std::string(text);
	std::string out;
	out.reserve(text.size() + 8);
	append_escaped_text(out, text);
	return out;
}

} // namespace rstwatch
