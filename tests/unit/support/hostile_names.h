// Process names as hostile as prctl(PR_SET_NAME) lets any unprivileged
// process make them: every byte value, invalid UTF-8, multibyte names the
// kernel cut at 15 bytes, terminal escape sequences, newlines, names that read
// like series or fields rstwatch writes itself, and random bytes from a fixed
// seed (a failure names its input and happens again on the next run).
#pragma once

#include "common/text_escape.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace rstwatch::test
{

// A name as a test failure shows it: readable whatever its bytes.
inline std::string shown(const std::string &name)
{
	return nlohmann::json(name).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

// Text fit for a terminal line: valid UTF-8 without a control byte.
inline ::testing::AssertionResult shows_no_control_byte(const std::string &text)
{
	for (char c : text) {
		auto byte = static_cast<unsigned char>(c);
		if (byte < 0x20 || byte == 0x7f)
			return ::testing::AssertionFailure()
			       << "byte " << int(byte) << " in " << shown(text);
	}
	if (!is_valid_utf8(text))
		return ::testing::AssertionFailure() << "not UTF-8: " << shown(text);
	return ::testing::AssertionSuccess();
}

// What the kernel keeps of a name: 15 bytes and the NUL (TASK_COMM_LEN).
inline std::string kernel_cut(std::string_view name)
{
	return std::string(name.substr(0, 15));
}

// Every name is 1 to 16 bytes without a NUL: a comm field may also be
// full, 16 bytes with no NUL, which readers must bound themselves.
inline std::vector<std::string> hostile_names(uint32_t seed = 13, size_t random_names = 600)
{
	std::vector<std::string> names;
	for (int byte = 1; byte < 256; byte++) {
		names.emplace_back(1, static_cast<char>(byte));
		names.push_back("a" + std::string(1, static_cast<char>(byte)) + "b");
	}
	const char *fixed[] = {
	    // invalid UTF-8: stray continuations, overlong forms, surrogates,
	    // past U+10FFFF, bytes no sequence starts with, cut sequences
	    "\x80", "\xbf\xbf", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80",
	    "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xfe\xff", "\xe2\x82", "ok\xe2\x82(",
	    "\xf0\x9f\x98", "\xc3", "x\xc3", "\xef\xbf\xbd", "\xef\xbf\xbd\xff",
	    // terminal escapes: colours, a window title, clear screen, 8-bit
	    // CSI raw and as UTF-8, a bidi override
	    "\x1b[31mred\x1b[0m", "\x1b]0;pwned\x07", "\x1b[2J\x1b[H",
	    "\x9b"
	    "31m",
	    "\xc2\x9b"
	    "31m",
	    "\xe2\x80\xae"
	    "gnp.exe",
	    "\xe2\x80\xa8"
	    "x",
	    // lines: a forged log or journal line, a forged scrape line
	    "a\nb", "\r\n", "x\nrstwatchd: ok", "\n# TYPE x", "}\nfake 1", "tab\there",
	    // quoting: what JSON, labels and the text line quote or split on
	    "\"", "\\", "a\\nb", "\\x1b", "comm=\"x\"", "{a=\"b\"}", "x y z", "\x7f",
	    // names that read like values rstwatch writes itself
	    "other", "unattributed", "-", "null", "(unattributed)",
	    // valid multibyte names, whole and cut at 15 bytes by the kernel
	    "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80"};
	for (const char *name : fixed)
		names.emplace_back(name);
	for (std::string_view longer :
	     {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	      "a\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe5\x90\x8d\xe5\x89\x8d",
	      "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"})
		names.push_back(kernel_cut(longer));
	// Full: 16 bytes, no NUL, a sequence cut at the end.
	names.emplace_back("abcdefghijklmn\xe2\x82");

	std::mt19937 random(seed);
	std::uniform_int_distribution<int> length(1, 16);
	std::uniform_int_distribution<int> any_byte(1, 255);
	std::uniform_int_distribution<int> high_byte(0x80, 0xff);
	std::uniform_int_distribution<int> coin(0, 1);
	for (size_t i = 0; i < random_names; i++) {
		std::string name(static_cast<size_t>(length(random)), ' ');
		// Half of them mostly high bytes: more near-valid sequences.
		const bool high = coin(random) == 1;
		for (char &c : name)
			c = static_cast<char>(high && coin(random) ? high_byte(random)
			                                           : any_byte(random));
		names.push_back(std::move(name));
	}
	return names;
}

} // namespace rstwatch::test
