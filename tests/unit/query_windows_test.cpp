// Query windows that end: until bounds what recent and top select, and
// follow, which has no end, refuses it.
#include "daemon/query/execute.h"
#include "daemon/query/request.h"
#include "support/event_builder.h"
#include "support/request_parsing.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

namespace rstwatch::query
{
namespace
{

using test::refused_connect_event;

constexpr int64_t kStart = 1'700'000'000'000'000'000;
constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kNow = kStart + 3600 * kSecond;

// Resets `first` to `last`, one a second from kStart (id 1 at kStart).
void fill(EventStore &store, uint64_t first, uint64_t last)
{
	for (uint64_t id = first; id <= last; id++)
		store.append(refused_connect_event(
		    {.id = id,
		     .realtime_ns = kStart + static_cast<int64_t>(id - 1) * kSecond,
		     .local_port = static_cast<uint16_t>(id % 2 ? 8080 : 9090)}));
}

Request parse_ok(const std::string &line)
{
	return test::parse_ok(line, kNow);
}

std::string parse_error(const std::string &line)
{
	return test::parse_error(line, kNow).message;
}

TEST(QueryWindows, UntilEndsTheWindowAndFollowRefusesIt)
{
	Request request = parse_ok(R"({"command":"recent","since":"1h","until":"30m"})");
	EXPECT_EQ(request.filter.since_ns, kNow - 3600 * kSecond);
	EXPECT_EQ(request.filter.until_ns, kNow - 1800 * kSecond);
	EXPECT_EQ(parse_ok(R"({"command":"top","until":1700000100})").filter.until_ns,
	          kStart + 100 * kSecond);
	EXPECT_EQ(parse_error(R"({"command":"follow","until":"5m"})"),
	          "follow streams resets as they happen: until is for recent and top");
	EXPECT_EQ(parse_error(R"({"command":"recent","since":"5m","until":"10m"})"),
	          "since must be before until");
	EXPECT_NE(parse_error(R"({"command":"recent","until":"soon"})").find("until \"soon\""),
	          std::string::npos);

	EventStore store(100);
	fill(store, 1, 10);
	EventFilter window;
	window.since_ns = kStart + 2 * kSecond;
	window.until_ns = kStart + 5 * kSecond; // ids 3, 4 and 5
	auto selected = select_recent(store, window, 100, make_classify_config({}, 1000));
	ASSERT_EQ(selected.size(), 3u);
	EXPECT_EQ(selected.front()->id, 3u);
	EXPECT_EQ(selected.back()->id, 5u);
}

} // namespace
} // namespace rstwatch::query
