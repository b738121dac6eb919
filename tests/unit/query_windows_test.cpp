// Query windows: until bounds what recent and top select, and follow replays
// the window it was given before going live.
#include "core/event_format.h"
#include "daemon/query/client.h"
#include "daemon/query/dispatch.h"
#include "daemon/query/execute.h"
#include "daemon/query/request.h"
#include "support/event_builder.h"
#include "support/request_parsing.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <variant>
#include <vector>

namespace rstwatch::query
{
namespace
{

using nlohmann::json;
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

// The JSON values of a stream of lines, in order.
std::vector<json> values_of(const std::string &text)
{
	std::vector<json> values;
	std::istringstream stream(text);
	for (json value; stream >> std::ws && !stream.eof() && stream >> value;)
		values.push_back(std::move(value));
	return values;
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

// Everything the dispatcher has for the client, as the socket would take it
// (each chunk once the previous one is out), as JSON values; `turns` counts
// the chunks asked for.
std::vector<json> drain(const Dispatcher &dispatcher, Client &client, int *turns = nullptr)
{
	std::string all;
	for (;;) {
		all += client.output.substr(client.sent);
		client.output.clear();
		client.sent = 0;
		if (!client.busy())
			break;
		EXPECT_TRUE(dispatcher.continue_answer(client));
		if (turns)
			++*turns;
	}
	return values_of(all);
}

class Follow : public ::testing::Test
{
protected:
	Follow() : store_(100), dispatcher_(store_, output_, nullptr)
	{
		output_.classify = make_classify_config({}, 1000);
	}

	EventStore store_;
	OutputContext output_;
	Dispatcher dispatcher_;
};

TEST_F(Follow, ReplaysTheStoredWindowThenGoesLive)
{
	fill(store_, 1, 10);
	Client client;
	std::string request = R"({"command":"follow","local_port":8080,"since":")" +
	                      format_timestamp(kStart + 2 * kSecond) + "\"}";
	dispatcher_.answer(client, request);
	EXPECT_TRUE(client.follower);
	std::vector<json> lines = drain(dispatcher_, client);
	ASSERT_EQ(lines.size(), 5u) << "the acknowledgement and ids 3, 5, 7 and 9";
	EXPECT_EQ(lines[0]["command"], "follow");
	std::vector<uint64_t> ids;
	for (size_t i = 1; i < lines.size(); i++)
		ids.push_back(lines[i]["id"]);
	EXPECT_EQ(ids, (std::vector<uint64_t>{3, 5, 7, 9}));
	EXPECT_FALSE(client.replaying()) << "caught up: live from here";
}

TEST_F(Follow, ReplayWalksAStoreLargerThanOneTurn)
{
	EventStore large(20000);
	Dispatcher dispatcher(large, output_, nullptr);
	fill(large, 1, 20000);
	Client client;
	// Only the last six match: the turns before find nothing to send.
	dispatcher.answer(client, R"({"command":"follow","since":")" +
	                              format_timestamp(kStart + 19994 * kSecond) + "\"}");
	int turns = 0;
	std::vector<json> lines = drain(dispatcher, client, &turns);
	EXPECT_GT(turns, 1);
	ASSERT_EQ(lines.size(), 7u) << "the acknowledgement and ids 19995 to 20000";
	EXPECT_EQ(lines[1]["id"], 19995);
	EXPECT_EQ(lines[6]["id"], 20000);
}

TEST_F(Follow, WithoutAWindowBackThereIsNothingToReplay)
{
	fill(store_, 1, 10);
	Client client;
	dispatcher_.answer(client, R"({"command":"follow"})");
	EXPECT_FALSE(client.replaying());
	EXPECT_EQ(drain(dispatcher_, client).size(), 1u);
	Client caught_up;
	dispatcher_.answer(caught_up, R"({"command":"follow","after_id":10})");
	EXPECT_FALSE(caught_up.replaying());
}

TEST_F(Follow, ReplayOvertakenByTheStoreFails)
{
	EventStore small(4);
	Dispatcher dispatcher(small, output_, nullptr);
	fill(small, 1, 4);
	Client client;
	// A client that has not read its first chunk yet: the replay waits.
	client.replay_next_id = 2;
	client.follower = true;
	fill(small, 5, 10);
	EXPECT_FALSE(dispatcher.continue_answer(client));
}

} // namespace
} // namespace rstwatch::query
