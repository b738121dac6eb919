// The one escaping rstwatch has for text from outside: valid UTF-8 for
// labels (the same replacement nlohmann::json writes), and for people text
// without a control byte.
#include "common/text_escape.h"
#include "support/hostile_names.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace rstwatch
{
namespace
{

using nlohmann::json;

const std::string kFffd(kReplacementCharacter);

// What nlohmann::json makes of the bytes: the replacement the JSON outputs
// use.
std::string json_replaced(const std::string &text)
{
	return json::parse(json(text).dump(-1, ' ', false, json::error_handler_t::replace))
	    .get<std::string>();
}

bool json_accepts(const std::string &text)
{
	try {
		(void)json(text).dump();
		return true;
	} catch (const json::type_error &) {
		return false;
	}
}

TEST(TextEscape, PrintableAsciiComesOutAsItWentIn)
{
	for (const char *name : {"nginx", "kworker/0:1", "x y", "a\"b", "{}=,#", ""}) {
		EXPECT_TRUE(needs_no_escaping(name)) << name;
		EXPECT_EQ(escaped_text(name), name);
	}
	EXPECT_FALSE(needs_no_escaping("a\\b"));
	EXPECT_FALSE(needs_no_escaping("caf\xc3\xa9"));
}

TEST(TextEscape, ControlsShowAsCStyleEscapes)
{
	EXPECT_EQ(escaped_text("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
	EXPECT_EQ(escaped_text("a\nb\tc\rd"), "a\\nb\\tc\\rd");
	EXPECT_EQ(escaped_text("back\\slash"), "back\\\\slash");
	EXPECT_EQ(escaped_text(std::string("\x01\x7f\x1f", 3)), "\\x01\\x7f\\x1f");
	EXPECT_EQ(escaped_text(std::string(1, '\0')), "\\x00");
	// An escape sequence in the name cannot pass for one made here.
	EXPECT_EQ(escaped_text("\\x1b"), "\\\\x1b");
}

TEST(TextEscape, InvalidBytesShowAsHexAndValidTextAsItIs)
{
	EXPECT_EQ(escaped_text("\xff"), "\\xff");
	EXPECT_EQ(escaped_text("ok\xe2\x82("), "ok\\xe2\\x82(");
	EXPECT_EQ(escaped_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	EXPECT_EQ(escaped_text("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80"),
	          "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80");
	// Characters a terminal acts on: C1 controls, bidi overrides, line
	// separators.
	EXPECT_EQ(escaped_text("\xc2\x9b"
	                       "31m"),
	          "\\u009b31m");
	EXPECT_EQ(escaped_text("\xe2\x80\xae"
	                       "cod"),
	          "\\u202ecod");
	EXPECT_EQ(escaped_text("\xe2\x81\xa6x\xe2\x80\xa8"), "\\u2066x\\u2028");
}

TEST(TextEscape, InvalidSubpartsBecomeOneReplacementEach)
{
	EXPECT_TRUE(is_valid_utf8(""));
	EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xf4\x8f\xbf\xbf"));
	EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));
	EXPECT_EQ(valid_utf8("\xff"), kFffd);
	// A sequence cut short is one subpart; the byte that cut it is read
	// again.
	EXPECT_EQ(valid_utf8("\xe2\x82"
	                     "A"),
	          kFffd + "A");
	EXPECT_EQ(valid_utf8("\xe2\x82\xe2\x82\xac"), kFffd + "\xe2\x82\xac");
	// Overlong forms and surrogates fail at their second byte.
	EXPECT_EQ(valid_utf8("\xe0\x80\xaf"), kFffd + kFffd + kFffd);
	EXPECT_EQ(valid_utf8("\xed\xa0\x80"), kFffd + kFffd + kFffd);
	EXPECT_EQ(valid_utf8("x\xf0\x9f\x98"), "x" + kFffd);
	EXPECT_EQ(valid_utf8("caf\xc3\xa9"), "caf\xc3\xa9");
}

// Every hostile name and thousands of random ones: the replacement is the
// one the JSON outputs make, and the escaped text never holds a control byte.
TEST(TextEscape, AgreesWithTheJsonReplacementOnEveryHostileName)
{
	for (const std::string &name : test::hostile_names(13, 5000)) {
		SCOPED_TRACE(test::shown(name));
		const std::string replaced = valid_utf8(name);
		EXPECT_TRUE(is_valid_utf8(replaced));
		EXPECT_EQ(is_valid_utf8(name), json_accepts(name));
		EXPECT_EQ(replaced, json_replaced(name));
		if (is_valid_utf8(name))
			EXPECT_EQ(replaced, name);
		EXPECT_TRUE(test::shows_no_control_byte(escaped_text(name)));
		std::string appended = "x";
		append_escaped_text(appended, name);
		EXPECT_EQ(appended, "x" + escaped_text(name));
	}
}

} // namespace
} // namespace rstwatch
