// Text from outside the program (process names, which any process sets to any
// bytes with prctl(PR_SET_NAME); cgroup paths; kernel names; requests) made
// safe for where it goes: valid UTF-8 for Prometheus labels, and for people
// text that cannot move the cursor, recolour the terminal or split a line.
#pragma once

#include <string>
#include <string_view>

namespace rstwatch
{

// U+FFFD, what an invalid sequence turns into.
inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

bool is_valid_utf8(std::string_view text);

// `text` with each maximal invalid subpart (a byte that cannot start a
// sequence, or a sequence cut short) replaced by U+FFFD: the same text
// nlohmann::json's error_handler_t::replace writes, so a name reads the same
// in a label and in JSON.
std::string valid_utf8(std::string_view text);

// The text every human-facing output shows, with C-style escapes:
// backslash as \\, newline, tab and carriage return as \n, \t, \r, other C0
// controls and DEL as \xNN, each byte of an invalid UTF-8 sequence as \xNN,
// and C1 controls and the characters that reorder or break lines (bidi
// overrides and isolates, U+2028/U+2029) as \uNNNN. The result is valid
// UTF-8 holding no byte below 0x20 and no 0x7f; printable ASCII without a
// backslash comes out as it went in.
void append_escaped_text(std::string &out, std::string_view text);
std::string escaped_text(std::string_view text);
// Printable ASCII without a backslash: text that escaping leaves as it is,
// told without a copy (the usual name is one).
bool needs_no_escaping(std::string_view text);

} // namespace rstwatch
