// --address takes what the tables print: IPv6 in brackets, and an address
// with a port, which the same end must have.
#include "daemon/query/request.h"
#include "support/event_builder.h"
#include "support/request_parsing.h"

#include <gtest/gtest.h>

#include <optional>

namespace rstwatch::query
{
namespace
{

using test::refused_connect_event;

TEST(QueryAddress, TakesTheFormsTheTablesPrint)
{
	ResetEvent v4 = refused_connect_event(
	    {.local = "127.0.0.1", .local_port = 52779, .remote = "10.0.0.7", .remote_port = 443});
	ResetEvent v6 = refused_connect_event(
	    {.local = "::1", .local_port = 8080, .remote = "::1", .remote_port = 40000});
	auto prefix = [](const char *text) {
		std::optional<AddressPrefix> parsed = AddressPrefix::parse(text);
		EXPECT_TRUE(parsed) << text;
		return parsed.value_or(AddressPrefix{});
	};
	EXPECT_TRUE(prefix("[::1]").matches(v6.raw, true));
	EXPECT_TRUE(prefix("[::1]:8080").matches(v6.raw, true));
	EXPECT_FALSE(prefix("[::1]:8080").matches(v6.raw, false)) << "the port is that end's";
	EXPECT_TRUE(prefix("[::1]:40000").matches(v6.raw, false));
	EXPECT_TRUE(prefix("127.0.0.1:52779").matches(v4.raw, true));
	EXPECT_FALSE(prefix("127.0.0.1:52778").matches(v4.raw, true));
	EXPECT_FALSE(prefix("127.0.0.1:52779").matches(v6.raw, true));
	EXPECT_TRUE(prefix("10.0.0.0/8:443").matches(v4.raw, false));
	EXPECT_TRUE(prefix("[::ffff:10.0.0.7]:443").matches(v4.raw, false));
	for (const char *bad : {"[10.0.0.1]", "[::1", "[::1]8080", "[::1]:", "127.0.0.1:",
	                        "127.0.0.1:65536", "127.0.0.1:-1", "::1]:80", "host:80"})
		EXPECT_FALSE(AddressPrefix::parse(bad)) << bad;

	Request request = test::parse_ok(R"({"command":"recent","address":"[::1]:8080"})", 0);
	ASSERT_TRUE(request.filter.address);
	EXPECT_EQ(request.filter.address->port, 8080);
	EXPECT_TRUE(request.filter.matches(v6, make_classify_config({}, 1000)));
}

} // namespace
} // namespace rstwatch::query
