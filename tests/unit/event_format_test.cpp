#include "common/json_text.h"
#include "core/event_format.h"
#include "support/event_builder.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

namespace rstwatch
{
namespace
{

// The human line the daemon writes to stdout for an event.
std::string text_line(const ResetEvent &event, const OutputContext &context)
{
	std::string line;
	{
		JsonAppender out(line);
		append_event_text(out, event, context);
	}
	return line;
}

using nlohmann::json;

constexpr uint32_t kAbortOnClose = 11;

::testing::AssertionResult contains(const std::string &text, const std::string &part)
{
	if (text.find(part) != std::string::npos)
		return ::testing::AssertionSuccess();
	return ::testing::AssertionFailure() << "\"" << part << "\" not in \"" << text << "\"";
}

::testing::AssertionResult lacks(const std::string &text, const std::string &part)
{
	if (text.find(part) == std::string::npos)
		return ::testing::AssertionSuccess();
	return ::testing::AssertionFailure() << "\"" << part << "\" in \"" << text << "\"";
}

OutputContext make_reasons()
{
	std::vector<std::string> names(kAbortOnClose + 1);
	names[0] = "NOT_SPECIFIED";
	names[1] = "NO_SOCKET";
	names[kAbortOnClose] = "TCP_ABORT_ON_CLOSE";
	OutputContext context;
	context.classify = make_classify_config(names, 1000);
	context.reasons = ReasonNames(std::move(names));
	return context;
}

// A reset sent by a process closing a socket with SO_LINGER {1, 0} and
// unread data: 127.0.0.1:8080 -> 10.0.0.2:443.
ResetEvent make_sent_event()
{
	ResetEvent event = test::EventBuilder()
	                       .id(77)
	                       .realtime_ns(1700000000123456789LL)
	                       .version(RSTWATCH_EVENT_VERSION)
	                       .local("127.0.0.1", 8080)
	                       .remote("10.0.0.2", 443)
	                       .direction(RSTWATCH_DIR_SENT)
	                       .kernel_reason(kAbortOnClose)
	                       .flags(RSTWATCH_F_HAS_SOCKET | RSTWATCH_F_FULL_SOCKET |
	                              RSTWATCH_F_LINGER_ON | RSTWATCH_F_CURRENT_IS_OWNER)
	                       .state(7) // TCP_CLOSE
	                       .owner(RSTWATCH_OWNER_CURRENT, 1234, 1235, "srv")
	                       .current_task(1234, 1235, "srv")
	                       .event();
	rstwatch_event &raw = event.raw;
	raw.timestamp_ns = 5'000'000'000ULL;
	raw.socket_id = 0xffff888012345678ULL;
	raw.cgroup_id = 4242;
	raw.bytes_sent = 1000;
	raw.bytes_received = 2000;
	raw.netns = 4026531840u;
	raw.unread_bytes = 42;
	raw.unsent_bytes = 3;
	raw.unacked_bytes = 5;
	raw.linger_seconds = 0;
	raw.keepalive_idle_seconds = 7200;
	raw.keepalive_interval_seconds = 75;
	raw.keepalive_count = 9;
	raw.user_timeout_ms = 30000;
	raw.segment_ttl = 0;
	return event;
}

// A reset sent in reply to a SYN for a port nobody listens on: no socket,
// no owner, the task on the CPU is whatever softirq interrupted.
ResetEvent make_no_socket_event(bool reply_to_syn)
{
	ResetEvent event =
	    test::EventBuilder()
	        .id(78)
	        .realtime_ns(1700000000000000000LL)
	        .version(RSTWATCH_EVENT_VERSION)
	        .local("127.0.0.1", 9)
	        .remote("127.0.0.1", 55000)
	        .direction(RSTWATCH_DIR_SENT)
	        .kernel_reason(1) // NO_SOCKET
	        .flags(RSTWATCH_F_HAS_SKB | (reply_to_syn ? uint32_t{RSTWATCH_F_REPLY_TO_SYN} : 0u))
	        .state(0)
	        // The pid must not be reported without an owner.
	        .owner(RSTWATCH_OWNER_NONE, 999, 0, "stale")
	        .current_task(0, 0, "swapper/0")
	        .event();
	event.raw.segment_ttl = 64;
	return event;
}

TEST(EventToJson, SentEventFields)
{
	const json j = event_to_json(make_sent_event(), make_reasons());
	EXPECT_EQ(j.at("id"), 77);
	EXPECT_EQ(j.at("timestamp"), "2023-11-14T22:13:20.123456789Z");
	EXPECT_EQ(j.at("timestamp_ns"), 1700000000123456789LL);
	EXPECT_EQ(j.at("direction"), "sent");
	EXPECT_EQ(j.at("kernel_reason"), "TCP_ABORT_ON_CLOSE");
	EXPECT_EQ(j.at("kernel_reason_code"), 11);
	EXPECT_EQ(j.at("state"), "CLOSE");
	EXPECT_EQ(j.at("family"), "ipv4");
	EXPECT_EQ(j.at("local"), "127.0.0.1:8080");
	EXPECT_EQ(j.at("remote"), "10.0.0.2:443");
	EXPECT_EQ(j.at("local_addr"), "127.0.0.1");
	EXPECT_EQ(j.at("local_port"), 8080);
	EXPECT_EQ(j.at("remote_addr"), "10.0.0.2");
	EXPECT_EQ(j.at("remote_port"), 443);
	EXPECT_EQ(j.at("netns"), 4026531840u);
	EXPECT_EQ(j.at("has_socket"), true);
	EXPECT_EQ(j.at("reply_to_segment"), false);
	EXPECT_EQ(j.at("reply_to_syn"), false);
	EXPECT_EQ(j.at("segment_ttl"), 0);
	EXPECT_EQ(j.at("owner_source"), "current");
	EXPECT_EQ(j.at("pid"), 1234);
	EXPECT_EQ(j.at("tid"), 1235);
	EXPECT_EQ(j.at("comm"), "srv");
	EXPECT_EQ(j.at("exiting"), false);
	EXPECT_EQ(j.at("exit_signal"), 0);
	EXPECT_EQ(j.at("current_pid"), 1234);
	EXPECT_EQ(j.at("current_tid"), 1235);
	EXPECT_EQ(j.at("current_comm"), "srv");
	EXPECT_EQ(j.at("current_is_owner"), true);
	EXPECT_EQ(j.at("current_exiting"), false);
	EXPECT_EQ(j.at("current_exit_signal"), 0);
	EXPECT_EQ(j.at("full_socket"), true);
	EXPECT_EQ(j.at("orphan"), false);
	EXPECT_EQ(j.at("cgroup_id"), 4242);
	EXPECT_EQ(j.at("unread_bytes"), 42);
	EXPECT_EQ(j.at("unsent_bytes"), 3);
	EXPECT_EQ(j.at("unacked_bytes"), 5);
	EXPECT_EQ(j.at("bytes_sent"), 1000);
	EXPECT_EQ(j.at("bytes_received"), 2000);
	EXPECT_EQ(j.at("linger_on"), true);
	EXPECT_EQ(j.at("linger_seconds"), 0);
	EXPECT_EQ(j.at("keepalive_on"), false);
	EXPECT_EQ(j.at("keepalive_idle_seconds"), 7200);
	EXPECT_EQ(j.at("keepalive_interval_seconds"), 75);
	EXPECT_EQ(j.at("keepalive_count"), 9);
	EXPECT_EQ(j.at("user_timeout_ms"), 30000);
}

TEST(EventToJson, KeySetIsTheContract)
{
	// Tools outside rstwatch read these names: fields may be added freely,
	// but none of these may be renamed or dropped.
	const std::set<std::string> expected = {
	    "id",
	    "timestamp",
	    "timestamp_ns",
	    "direction",
	    "kernel_reason",
	    "kernel_reason_code",
	    "state",
	    "family",
	    "local",
	    "remote",
	    "local_addr",
	    "local_port",
	    "remote_addr",
	    "remote_port",
	    "netns",
	    "has_socket",
	    "reply_to_segment",
	    "reply_to_syn",
	    "segment_ttl",
	    "owner_source",
	    "pid",
	    "tid",
	    "comm",
	    "exiting",
	    "exit_signal",
	    "current_pid",
	    "current_tid",
	    "current_comm",
	    "current_is_owner",
	    "current_exiting",
	    "current_exit_signal",
	    "full_socket",
	    "orphan",
	    "cgroup_id",
	    "unread_bytes",
	    "unsent_bytes",
	    "unacked_bytes",
	    "bytes_sent",
	    "bytes_received",
	    "linger_on",
	    "linger_seconds",
	    "keepalive_on",
	    "keepalive_idle_seconds",
	    "keepalive_interval_seconds",
	    "keepalive_count",
	    "user_timeout_ms",
	    "cgroup_path",
	    "systemd_unit",
	    "container_id",
	    "pod_namespace",
	    "pod_name",
	    "pod_uid",
	};
	for (const json &j : {event_to_json(make_sent_event(), make_reasons()),
	                      event_to_json(make_no_socket_event(true), make_reasons())}) {
		ASSERT_TRUE(j.is_object());
		for (const std::string &key : expected)
			EXPECT_TRUE(j.contains(key)) << "missing contract field " << key;
	}
}

TEST(EventToJson, NoSocketEventHasNoOwner)
{
	const json j = event_to_json(make_no_socket_event(true), make_reasons());
	EXPECT_EQ(j.at("kernel_reason"), "NO_SOCKET");
	EXPECT_EQ(j.at("kernel_reason_code"), 1);
	EXPECT_EQ(j.at("state"), "NONE");
	EXPECT_EQ(j.at("has_socket"), false);
	EXPECT_EQ(j.at("full_socket"), false);
	EXPECT_EQ(j.at("reply_to_segment"), true);
	EXPECT_EQ(j.at("reply_to_syn"), true);
	EXPECT_EQ(j.at("segment_ttl"), 64);
	EXPECT_EQ(j.at("owner_source"), "none");
	EXPECT_TRUE(j.at("pid").is_null());
	EXPECT_TRUE(j.at("tid").is_null());
	EXPECT_TRUE(j.at("comm").is_null());
	EXPECT_EQ(j.at("exiting"), false);
	EXPECT_EQ(j.at("exit_signal"), 0);
	EXPECT_EQ(j.at("current_pid"), 0);
	EXPECT_EQ(j.at("current_comm"), "swapper/0");
	EXPECT_EQ(j.at("current_is_owner"), false);
	EXPECT_EQ(j.at("local"), "127.0.0.1:9");
	EXPECT_EQ(j.at("remote"), "127.0.0.1:55000");
}

TEST(EventToJson, ReplyToSynFollowsTheFlag)
{
	const json j = event_to_json(make_no_socket_event(false), make_reasons());
	EXPECT_EQ(j.at("reply_to_syn"), false);
	EXPECT_EQ(j.at("reply_to_segment"), true);
}

TEST(EventToJson, UnavailableReason)
{
	ResetEvent event = make_sent_event();
	event.raw.kernel_reason = RSTWATCH_REASON_UNAVAILABLE;
	const json j = event_to_json(event, make_reasons());
	EXPECT_EQ(j.at("kernel_reason"), "unavailable");
	EXPECT_TRUE(j.at("kernel_reason_code").is_null());
}

TEST(EventToJson, UnnamedReasonKeepsItsCode)
{
	ResetEvent event = make_sent_event();
	event.raw.kernel_reason = 40;
	const json j = event_to_json(event, make_reasons());
	EXPECT_EQ(j.at("kernel_reason"), "REASON_40");
	EXPECT_EQ(j.at("kernel_reason_code"), 40);
}

TEST(EventToJson, OwnerExitingGivesExitSignal)
{
	ResetEvent event = make_sent_event();
	event.raw.flags |= RSTWATCH_F_OWNER_EXITING;
	event.raw.owner_exit_code = 9; // SIGKILL
	json j = event_to_json(event, make_reasons());
	EXPECT_EQ(j.at("exiting"), true);
	EXPECT_EQ(j.at("exit_signal"), 9);

	// A core dump sets 0x80 on top of the signal number.
	event.raw.owner_exit_code = 0x80 | 11; // SIGSEGV, core dumped
	j = event_to_json(event, make_reasons());
	EXPECT_EQ(j.at("exit_signal"), 11);
}

TEST(EventToJson, NoExitSignalWithoutExitingFlag)
{
	ResetEvent event = make_sent_event();
	event.raw.owner_exit_code = 9;
	const json j = event_to_json(event, make_reasons());
	EXPECT_EQ(j.at("exiting"), false);
	EXPECT_EQ(j.at("exit_signal"), 0);
}

TEST(EventToJson, NoExitSignalWithoutOwner)
{
	ResetEvent event = make_no_socket_event(false);
	event.raw.flags |= RSTWATCH_F_OWNER_EXITING;
	event.raw.owner_exit_code = 9;
	const json j = event_to_json(event, make_reasons());
	EXPECT_EQ(j.at("exiting"), false);
	EXPECT_EQ(j.at("exit_signal"), 0);
}

TEST(EventToJson, CurrentExitingGivesCurrentExitSignal)
{
	ResetEvent event = make_sent_event();
	event.raw.flags |= RSTWATCH_F_CURRENT_EXITING;
	event.raw.current_exit_code = 15; // SIGTERM
	const json j = event_to_json(event, make_reasons());
	EXPECT_EQ(j.at("current_exiting"), true);
	EXPECT_EQ(j.at("current_exit_signal"), 15);
	// The owner's fields are independent of the current task's.
	EXPECT_EQ(j.at("exiting"), false);
	EXPECT_EQ(j.at("exit_signal"), 0);
}

TEST(EventToJson, CommWithoutNulIsReadAsSixteenChars)
{
	ResetEvent event = make_sent_event();
	// current_comm is directly followed by owner_comm in the struct: a
	// reader that runs past 16 bytes would pick up "srv" too.
	std::memcpy(event.raw.current_comm, "abcdefghijklmnop", RSTWATCH_COMM_LEN);
	std::memcpy(event.raw.owner_comm, "ponmlkjihgfedcba", RSTWATCH_COMM_LEN);
	const json j = event_to_json(event, make_reasons());
	EXPECT_EQ(j.at("current_comm"), "abcdefghijklmnop");
	EXPECT_EQ(j.at("comm"), "ponmlkjihgfedcba");
}

TEST(EventToJson, Ipv6Endpoints)
{
	ResetEvent event = make_sent_event();
	event.raw.family = RSTWATCH_AF_INET6;
	std::memset(event.raw.local_addr, 0, sizeof(event.raw.local_addr));
	std::memset(event.raw.remote_addr, 0, sizeof(event.raw.remote_addr));
	event.raw.local_addr[15] = 1;
	event.raw.remote_addr[15] = 1;
	const json j = event_to_json(event, make_reasons());
	EXPECT_EQ(j.at("family"), "ipv6");
	EXPECT_EQ(j.at("local"), "[::1]:8080");
	EXPECT_EQ(j.at("remote"), "[::1]:443");
	EXPECT_EQ(j.at("local_addr"), "::1");
	EXPECT_EQ(j.at("remote_addr"), "::1");
}

TEST(EventToText, SentEvent)
{
	const std::string text = text_line(make_sent_event(), make_reasons());
	EXPECT_TRUE(contains(text, "2023-11-14T22:13:20.123456789Z"));
	EXPECT_TRUE(contains(text, " sent "));
	EXPECT_TRUE(contains(text, "127.0.0.1:8080 -> 10.0.0.2:443"));
	EXPECT_TRUE(contains(text, "reason=TCP_ABORT_ON_CLOSE"));
	EXPECT_TRUE(contains(text, "state=CLOSE"));
	EXPECT_TRUE(contains(text, "pid=1234 comm=srv"));
	EXPECT_TRUE(contains(text, "unread=42"));
	EXPECT_TRUE(contains(text, "linger=0s"));
	EXPECT_TRUE(lacks(text, "no owner"));
	EXPECT_TRUE(lacks(text, "\n"));
	EXPECT_TRUE(lacks(text, " syn"));
}

TEST(EventToText, ReceivedEventPointsInward)
{
	ResetEvent event = make_sent_event();
	event.raw.direction = RSTWATCH_DIR_RECEIVED;
	const std::string text = text_line(event, make_reasons());
	EXPECT_TRUE(contains(text, " received "));
	EXPECT_TRUE(contains(text, "127.0.0.1:8080 <- 10.0.0.2:443"));
}

TEST(EventToText, NoOwner)
{
	const std::string text = text_line(make_no_socket_event(true), make_reasons());
	EXPECT_TRUE(contains(text, "reason=NO_SOCKET"));
	EXPECT_TRUE(contains(text, "state=NONE"));
	EXPECT_TRUE(contains(text, "pid=- (no owner)"));
	EXPECT_TRUE(lacks(text, "pid=999"));
	EXPECT_TRUE(lacks(text, "stale"));
	EXPECT_TRUE(contains(text, " syn"));
}

} // namespace
} // namespace rstwatch

namespace rstwatch
{
namespace
{

// The text writer and the object builder share one field list; the text must
// parse back to exactly the object.
TEST(AppendEventJson, ParsesToTheSameObjectAsEventToJson)
{
	ResetEvent event = make_sent_event();
	std::strcpy(event.raw.owner_comm, "we\"ird\\\x01");
	event.raw.owner_comm[15] = '\xff'; // not UTF-8: replaced, never thrown on
	event.peer.event_id = 9;
	event.peer.owner_source = RSTWATCH_OWNER_SOCKET;
	event.peer.pid = 4321;
	std::strcpy(event.peer.comm, "peer");
	CgroupInfo cgroup{"/system.slice/x.service", "x.service", ""};
	event.cgroup = &cgroup;
	for (const ResetEvent &e : {event, make_no_socket_event(true)}) {
		std::string text = "prefix";
		append_event_json(text, e, make_reasons());
		ASSERT_EQ(text.rfind("prefix", 0), 0u);
		json parsed = json::parse(text.substr(6));
		json expected = event_to_json(e, make_reasons());
		if (e.raw.owner_source != RSTWATCH_OWNER_NONE) {
			// The object holds the raw bytes; text output replaces the
			// invalid byte with U+FFFD.
			EXPECT_EQ(parsed["comm"].get<std::string>().substr(0, 8), "we\"ird\\\x01");
			parsed.erase("comm");
			expected.erase("comm");
		}
		EXPECT_EQ(parsed, expected);
	}
}

} // namespace
} // namespace rstwatch

namespace rstwatch
{
namespace
{

using nlohmann::json;

TEST(SplitArrayMember, FindsTheElementsOfOneTopLevelArray)
{
	const std::string text =
	    R"({"ok":true,"nested":{"events":[9]},"note":"a \"events\":[1] b",)"
	    R"("events":[{"id":1,"s":"x]y,{"},{"id":2,"list":[1,2]} , 3],"n":4})";
	auto split = split_array_member(text, "events");
	ASSERT_TRUE(split.has_value());
	ASSERT_EQ(split->elements.size(), 3u);
	EXPECT_EQ(split->elements[0], R"({"id":1,"s":"x]y,{"})");
	EXPECT_EQ(split->elements[1], R"({"id":2,"list":[1,2]})");
	EXPECT_EQ(split->elements[2], "3");
	const json rest = json::parse(split->rest);
	EXPECT_EQ(rest["events"], json::array());
	EXPECT_EQ(rest["nested"]["events"], json::array({9}));
	EXPECT_EQ(rest["n"], 4);
	for (std::string_view element : split->elements)
		EXPECT_TRUE(json::accept(element));
}

TEST(SplitArrayMember, EmptyArrayAndMissingMember)
{
	auto empty = split_array_member(R"({"ok":true,"events":[ ]})", "events");
	ASSERT_TRUE(empty.has_value());
	EXPECT_TRUE(empty->elements.empty());
	EXPECT_EQ(empty->rest, R"({"ok":true,"events":[]})");
	EXPECT_FALSE(split_array_member(R"({"ok":false,"error":{"code":"x"}})", "events"));
	EXPECT_FALSE(split_array_member(R"({"events":3})", "events"));
}

} // namespace
} // namespace rstwatch

namespace rstwatch
{
namespace
{

TEST(SplitArrayMember, EscapedQuotesAndBackslashesInStrings)
{
	const std::string text =
	    R"({"events":[{"c":"a\"],[b"},{"c":"ends with \\"},{"c":"\\\"}"}]})";
	auto split = split_array_member(text, "events");
	ASSERT_TRUE(split.has_value());
	ASSERT_EQ(split->elements.size(), 3u);
	EXPECT_EQ(split->elements[0], R"({"c":"a\"],[b"})");
	EXPECT_EQ(split->elements[1], R"({"c":"ends with \\"})");
	EXPECT_EQ(split->elements[2], R"({"c":"\\\"}"})");
	EXPECT_EQ(split->rest, R"({"events":[]})");

	// The same past the first bytes of a long string.
	const std::string padding(40, 'x');
	const std::string long_text =
	    R"({"events":[{"c":")" + padding + R"(\"],[\\"},{"c":")" + padding + R"(\\\\"}]})";
	auto long_split = split_array_member(long_text, "events");
	ASSERT_TRUE(long_split.has_value());
	ASSERT_EQ(long_split->elements.size(), 2u);
	EXPECT_EQ(long_split->elements[0], R"({"c":")" + padding + R"(\"],[\\"})");
	EXPECT_EQ(long_split->elements[1], R"({"c":")" + padding + R"(\\\\"})");
}

} // namespace
} // namespace rstwatch
