#include "core/event_format.h"
#include "daemon/query/execute.h"
#include "daemon/query/request.h"
#include "daemon/query/response.h"
#include "daemon/query/time.h"
#include "support/event_builder.h"
#include "support/request_parsing.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace rstwatch::query
{
namespace
{

using nlohmann::json;
using test::refused_connect_event;

constexpr int64_t kNow = 1'800'000'000'000'000'000;
constexpr int64_t kSecond = 1'000'000'000;

Request parse_ok(const std::string &line)
{
	return test::parse_ok(line, kNow);
}

RequestError parse_error(const std::string &line)
{
	return test::parse_error(line, kNow);
}

rstwatch_classify_config classify_config()
{
	return make_classify_config({}, 1000);
}

TEST(QueryProtocol, RecentWithEveryFilter)
{
	Request request = parse_ok(R"({"command":"recent","limit":25,"since":"5m","after_id":7,)"
	                           R"("direction":"received","cause":"peer_refused","pid":42,)"
	                           R"("comm":"curl","local_port":8080,"remote_port":0,)"
	                           R"("address":"10.0.0.0/8"})");
	EXPECT_EQ(request.command, Command::Recent);
	EXPECT_EQ(request.limit, 25u);
	EXPECT_EQ(request.filter.since_ns, kNow - 300 * kSecond);
	EXPECT_EQ(request.filter.after_id, 7u);
	EXPECT_EQ(request.filter.direction, RSTWATCH_DIR_RECEIVED);
	EXPECT_EQ(request.filter.cause, Cause::PeerRefused);
	EXPECT_EQ(request.filter.pid, 42u);
	EXPECT_EQ(request.filter.comm, "curl");
	EXPECT_EQ(request.filter.local_port, 8080);
	EXPECT_EQ(request.filter.remote_port, 0);
	ASSERT_TRUE(request.filter.address);
	EXPECT_TRUE(request.filter.address->v4);
	EXPECT_EQ(request.filter.address->prefix_bits, 8u);
}

TEST(QueryProtocol, DefaultsPerCommand)
{
	EXPECT_EQ(parse_ok(R"({"command":"recent"})").limit, kDefaultRecentLimit);
	Request top = parse_ok(R"({"command":"top"})");
	EXPECT_EQ(top.limit, kDefaultTopLimit);
	EXPECT_EQ(top.by, GroupBy::Process);
	EXPECT_EQ(parse_ok(R"({"command":"top","by":"remote_address"})").by,
	          GroupBy::RemoteAddress);
	EXPECT_EQ(parse_ok(R"({"command":"top","by":"local_port"})").by, GroupBy::LocalPort);
	EXPECT_EQ(parse_ok(R"({"command":"top","by":"cause"})").by, GroupBy::Cause);
	EXPECT_EQ(parse_ok(R"({"command":"stats"})").command, Command::Stats);
	EXPECT_EQ(parse_ok(R"({"command":"follow","cause":"refused"})").command, Command::Follow);
	EXPECT_EQ(parse_ok(R"({"command":"explain","id":12})").id, 12u);
}

TEST(QueryProtocol, SinceTakesDurationsTimesAndUnixSeconds)
{
	EXPECT_EQ(parse_ok(R"({"command":"recent","since":"1h30m"})").filter.since_ns,
	          kNow - 5400 * kSecond);
	EXPECT_EQ(
	    parse_ok(R"({"command":"recent","since":"2026-11-23T20:25:00Z"})").filter.since_ns,
	    1795465500 * kSecond);
	EXPECT_EQ(parse_ok(R"({"command":"recent","since":1795465500})").filter.since_ns,
	          1795465500 * kSecond);
	EXPECT_EQ(parse_duration("90s"), 90 * kSecond);
	EXPECT_EQ(parse_duration("2d"), 2 * 86400 * kSecond);
	EXPECT_FALSE(parse_duration(""));
	EXPECT_FALSE(parse_duration("5"));
	EXPECT_FALSE(parse_duration("m"));
	EXPECT_FALSE(parse_duration("5w"));
	EXPECT_FALSE(parse_duration("-5m"));
	EXPECT_FALSE(parse_duration("99999999999999999999d"));
	EXPECT_EQ(parse_rfc3339("2026-11-23T20:25:00.5+01:00"),
	          (1795465500 - 3600) * kSecond + kSecond / 2);
	EXPECT_EQ(parse_rfc3339("2026-11-23T20:25:00.123456789Z"),
	          1795465500 * kSecond + 123456789);
	EXPECT_FALSE(parse_rfc3339("2026-02-31T00:00:00Z"));
	EXPECT_FALSE(parse_rfc3339("2026-11-23T20:25:00"));
	EXPECT_FALSE(parse_rfc3339("2026-11-23T25:25:00Z"));
	EXPECT_FALSE(parse_rfc3339("2026-11-23T20:25:00.Z"));
}

TEST(QueryProtocol, MalformedRequestsAreBadRequests)
{
	const char *cases[] = {
	    "",
	    "not json",
	    "[]",
	    "42",
	    R"({"command":"recent")",
	    R"({})",
	    R"({"command":7})",
	    R"({"command":"recent","limit":0})",
	    R"({"command":"recent","limit":10001})",
	    R"({"command":"recent","limit":-1})",
	    R"({"command":"recent","limit":2.5})",
	    R"({"command":"recent","limit":"5"})",
	    R"({"command":"recent","pid":0})",
	    R"({"command":"recent","pid":4294967296})",
	    R"({"command":"recent","local_port":65536})",
	    R"({"command":"recent","direction":"up"})",
	    R"({"command":"recent","cause":"gremlins"})",
	    R"({"command":"recent","comm":""})",
	    R"({"command":"recent","comm":"a-name-longer-than-15"})",
	    R"({"command":"recent","address":"10.0.0.0/33"})",
	    R"({"command":"recent","address":"host.example"})",
	    R"({"command":"recent","since":"yesterday"})",
	    R"({"command":"recent","since":-5})",
	    R"({"command":"recent","by":"cause"})",
	    R"({"command":"recent","lmit":5})",
	    R"({"command":"top","by":"pid"})",
	    R"({"command":"top","limit":1001})",
	    R"({"command":"stats","limit":5})",
	    R"({"command":"follow","limit":5})",
	    R"({"command":"explain"})",
	    R"({"command":"explain","id":0})",
	    R"({"command":"explain","id":"12"})",
	    R"({"command":"explain","id":12,"cause":"refused"})",
	};
	for (const char *line : cases) {
		RequestError error = parse_error(line);
		EXPECT_EQ(error.code, ErrorCode::BadRequest) << line;
		EXPECT_FALSE(error.message.empty()) << line;
	}
	RequestError unknown = parse_error(R"({"command":"delete"})");
	EXPECT_EQ(unknown.code, ErrorCode::UnknownCommand);
	EXPECT_NE(unknown.message.find("\"delete\""), std::string::npos) << unknown.message;
}

TEST(QueryProtocol, ErrorLinesAreJsonEvenForHostileInput)
{
	// Invalid UTF-8 in an unknown field name cannot reach a message (the
	// parser rejects it), but a long field name is cut short.
	std::string line = R"({"command":"recent",")" + std::string(5000, 'x') + R"(":1})";
	RequestError error = parse_error(line);
	EXPECT_LT(error.message.size(), 200u);
	std::string text = error_line(error);
	ASSERT_EQ(text.back(), '\n');
	json parsed = json::parse(text);
	EXPECT_EQ(parsed["ok"], false);
	EXPECT_EQ(parsed["error"]["code"], "bad_request");
	EXPECT_EQ(json::parse(error_line(ErrorCode::NotFound, "bad \xff byte"))["error"]["code"],
	          "not_found");
}

TEST(QueryProtocol, AddressPrefixesMatchEitherFamilyForm)
{
	ResetEvent v4 = refused_connect_event({.local = "10.1.2.3", .remote = "192.168.7.9"});
	ResetEvent mapped =
	    refused_connect_event({.local = "::ffff:10.1.2.3", .remote = "::ffff:192.168.7.9"});
	ResetEvent v6 = refused_connect_event({.local = "fd00::1", .remote = "2001:db8::42"});
	auto prefix = [](const char *text) { return *AddressPrefix::parse(text); };
	for (const ResetEvent *event : {&v4, &mapped}) {
		EXPECT_TRUE(prefix("10.1.2.3").matches(event->raw, true));
		EXPECT_TRUE(prefix("10.0.0.0/8").matches(event->raw, true));
		EXPECT_FALSE(prefix("10.0.0.0/16").matches(event->raw, true));
		EXPECT_TRUE(prefix("192.168.7.9").matches(event->raw, false));
		EXPECT_TRUE(prefix("::ffff:192.168.7.9").matches(event->raw, false));
		EXPECT_FALSE(prefix("::1").matches(event->raw, true));
	}
	EXPECT_TRUE(prefix("2001:db8::/32").matches(v6.raw, false));
	EXPECT_FALSE(prefix("2001:db9::/32").matches(v6.raw, false));
	EXPECT_TRUE(prefix("fd00::1").matches(v6.raw, true));
	EXPECT_FALSE(prefix("10.1.2.3").matches(v6.raw, true));
	EXPECT_TRUE(prefix("0.0.0.0/0").matches(v4.raw, true));
}

EventStore sample_store()
{
	EventStore store(100);
	// Ten refused connects from "curl" (pid 100) to port 8080, each seen
	// from both ends, then five from "wget" (pid 200) to port 9090.
	uint64_t id = 0;
	for (int i = 0; i < 15; i++) {
		bool curl = i < 10;
		uint16_t server = curl ? 8080 : 9090;
		uint16_t client = static_cast<uint16_t>(40000 + i);
		int64_t at = 1'700'000'000'000'000'000 + i * kSecond;
		store.append(refused_connect_event({.id = ++id,
		                                    .realtime_ns = at,
		                                    .direction = RSTWATCH_DIR_SENT,
		                                    .local_port = server,
		                                    .remote = "127.0.0.2",
		                                    .remote_port = client}));
		store.append(refused_connect_event({.id = ++id,
		                                    .realtime_ns = at,
		                                    .direction = RSTWATCH_DIR_RECEIVED,
		                                    .comm = curl ? "curl" : "wget",
		                                    .pid = curl ? 100u : 200u,
		                                    .local = "127.0.0.2",
		                                    .local_port = client,
		                                    .remote_port = server}));
	}
	return store;
}

TEST(QueryProtocol, RecentSelectsNewestMatchesOldestFirst)
{
	EventStore store = sample_store();
	EventFilter sent;
	sent.direction = RSTWATCH_DIR_SENT;
	auto events = select_recent(store, sent, 3, classify_config());
	ASSERT_EQ(events.size(), 3u);
	EXPECT_EQ(events[0]->id, 25u);
	EXPECT_EQ(events[1]->id, 27u);
	EXPECT_EQ(events[2]->id, 29u);

	EventFilter wget;
	wget.comm = "wget";
	EXPECT_EQ(select_recent(store, wget, 100, classify_config()).size(), 5u);
	EventFilter pid;
	pid.pid = 100;
	pid.cause = Cause::PeerRefused;
	EXPECT_EQ(select_recent(store, pid, 100, classify_config()).size(), 10u);
	EventFilter refused;
	refused.cause = Cause::Refused;
	refused.local_port = 9090;
	EXPECT_EQ(select_recent(store, refused, 100, classify_config()).size(), 5u);
	EventFilter address;
	address.address = AddressPrefix::parse("127.0.0.2");
	EXPECT_EQ(select_recent(store, address, 100, classify_config()).size(), 30u);
	EventFilter after;
	after.after_id = 26;
	EXPECT_EQ(select_recent(store, after, 100, classify_config()).size(), 4u);
	EventFilter since;
	since.since_ns = 1'700'000'000'000'000'000 + 12 * kSecond;
	EXPECT_EQ(select_recent(store, since, 100, classify_config()).size(), 6u);
	EventFilter nobody;
	nobody.comm = "nobody";
	EXPECT_TRUE(select_recent(store, nobody, 100, classify_config()).empty());
}

TEST(QueryProtocol, RecentResponseIsOneJsonLine)
{
	EventStore store = sample_store();
	auto events = select_recent(store, {}, 4, classify_config());
	OutputContext output{ReasonNames(), classify_config()};
	std::string line = recent_response_head(events.size(), {});
	for (size_t i = 0; i < events.size(); i++) {
		if (i)
			line += ',';
		line += event_to_json(*events[i], output).dump();
	}
	line += kRecentResponseTail;
	ASSERT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
	json response = json::parse(line);
	EXPECT_EQ(response["ok"], true);
	EXPECT_EQ(response["command"], "recent");
	EXPECT_EQ(response["count"], 4);
	ASSERT_EQ(response["events"].size(), 4u);
	EXPECT_EQ(response["events"][3]["id"], 30);
	EXPECT_EQ(response["events"][3]["cause"], "peer_refused");
	EXPECT_EQ(response["events"][3]["comm"], "wget");
}

TEST(QueryProtocol, TopGroupsAndCounts)
{
	EventStore store = sample_store();
	TopResult by_process = aggregate_top(store, {}, GroupBy::Process, 10, classify_config());
	EXPECT_EQ(by_process.matched, 30u);
	ASSERT_EQ(by_process.groups.size(), 3u);
	EXPECT_EQ(by_process.groups[0].key, "(unattributed)");
	EXPECT_EQ(by_process.groups[0].count, 15u);
	EXPECT_EQ(by_process.groups[0].sent, 15u);
	EXPECT_EQ(by_process.groups[1].key, "curl[100]");
	EXPECT_EQ(by_process.groups[1].count, 10u);
	EXPECT_EQ(by_process.groups[1].received, 10u);
	EXPECT_EQ(by_process.groups[1].pid, 100u);
	EXPECT_EQ(by_process.groups[2].comm, "wget");
	EXPECT_EQ(by_process.groups[2].last_id, 30u);

	EventFilter sent;
	sent.direction = RSTWATCH_DIR_SENT;
	TopResult by_port = aggregate_top(store, sent, GroupBy::LocalPort, 1, classify_config());
	EXPECT_EQ(by_port.group_count, 2u);
	ASSERT_EQ(by_port.groups.size(), 1u);
	EXPECT_EQ(by_port.groups[0].local_port, 8080);
	EXPECT_EQ(by_port.groups[0].count, 10u);
	EXPECT_EQ(by_port.groups[0].by_cause[static_cast<size_t>(Cause::Refused)], 10u);

	TopResult by_cause = aggregate_top(store, {}, GroupBy::Cause, 10, classify_config());
	ASSERT_EQ(by_cause.groups.size(), 2u);
	EXPECT_EQ(by_cause.groups[0].count, 15u);

	TopResult by_remote =
	    aggregate_top(store, sent, GroupBy::RemoteAddress, 10, classify_config());
	ASSERT_EQ(by_remote.groups.size(), 1u);
	EXPECT_EQ(by_remote.groups[0].key, "127.0.0.2");

	json body = top_to_json(by_process, {});
	EXPECT_EQ(body["by"], "process");
	EXPECT_EQ(body["groups"][1]["comm"], "curl");
	EXPECT_EQ(body["groups"][1]["top_cause"], "peer_refused");
	EXPECT_EQ(body["groups"][1]["causes"]["peer_refused"], 10);
	EXPECT_TRUE(body["groups"][0]["pid"].is_null());
}

TEST(QueryProtocol, StatsReportsCountersAndDrops)
{
	DaemonStats stats;
	stats.version = "9.9";
	stats.started_ns = kNow - 90 * kSecond;
	stats.now_ns = kNow;
	stats.sent = 5;
	stats.by_cause[0][static_cast<size_t>(Cause::Refused)] = 5;
	stats.clients_dropped["slow_follower"] = 2;
	stats.hooks.emplace_back("tcp:tcp_send_reset", "tp_btf");
	json body = json::parse(ok_line(stats_to_json(stats)));
	EXPECT_EQ(body["ok"], true);
	EXPECT_EQ(body["uptime_seconds"], 90);
	EXPECT_EQ(body["by_cause"]["sent"]["refused"], 5);
	EXPECT_TRUE(body["by_cause"]["received"].empty());
	EXPECT_EQ(body["clients_dropped"]["slow_follower"], 2);
	EXPECT_EQ(body["hooks"][0]["variant"], "tp_btf");
}

} // namespace
} // namespace rstwatch::query
