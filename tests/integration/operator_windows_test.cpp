// Query filters against the real rstwatchd and client: follow replays the
// window it is given, until bounds a window, the forms the tables print are
// accepted back as filters, what cannot be asked is refused, and explain
// says what the kernel could not read.
#include "support/operator_fixture.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace rstwatch::test
{
namespace
{

using nlohmann::json;

class OperatorWindows : public OperatorTest
{
protected:
	static void SetUpTestSuite()
	{
		start_suite_daemon("windows", {.args = {"--store-events", "262144"}});
	}

	// `count` refused connects to a fresh port (each a sent and a received
	// reset), all in the store; returns the port.
	static uint16_t refused_port(const std::string &comm, int count)
	{
		uint16_t port = 0;
		int bound = bound_socket(AF_INET, port);
		refused_connects(comm, port, count);
		close(bound);
		auto events = daemon_->query_events({"--local-port", std::to_string(port)}, count);
		EXPECT_EQ(events.size(), static_cast<size_t>(count));
		return port;
	}
};

TEST_F(OperatorWindows, FollowSinceReplaysTheWindowThenFollows)
{
	uint16_t port = refused_port("opw-backlog", 3);
	BackgroundCommand follow({rstwatch_client_path(), "--socket", daemon_->socket_path(),
	                          "follow", "--json", "--since", "10m", "--local-port",
	                          std::to_string(port)});
	uint64_t last_id = 0;
	for (int i = 0; i < 3; i++) {
		std::optional<std::string> line = follow.read_line();
		ASSERT_TRUE(line) << "replayed " << i << " of 3 stored resets";
		json event = json::parse(*line);
		EXPECT_EQ(event["direction"], "sent");
		EXPECT_EQ(event["local_port"], port);
		EXPECT_GT(event["id"].get<uint64_t>(), last_id) << "oldest first";
		last_id = event["id"];
	}
	// Then live, on the same port.
	int bound = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in address{};
	address.sin_family = AF_INET;
	address.sin_port = htons(port);
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(bind(bound, reinterpret_cast<sockaddr *>(&address), sizeof(address)), 0)
	    << strerror(errno);
	refused_connects("opw-live", port, 2);
	close(bound);
	for (int i = 0; i < 2; i++) {
		std::optional<std::string> line = follow.read_line();
		ASSERT_TRUE(line) << "followed " << i << " of 2 new resets";
		json event = json::parse(*line);
		EXPECT_GT(event["id"].get<uint64_t>(), last_id);
		last_id = event["id"];
	}
	EXPECT_FALSE(follow.read_line(std::chrono::milliseconds(300))) << "each reset once";
}

TEST_F(OperatorWindows, UntilEndsTheWindow)
{
	uint16_t port = refused_port("opw-until", 2);
	auto sent =
	    daemon_->query_events({"--local-port", std::to_string(port), "--direction", "sent"}, 2);
	ASSERT_EQ(sent.size(), 2u);
	const std::string second = sent[1]["timestamp"];
	ASSERT_NE(sent[0]["timestamp"], second);
	CommandResult before = daemon_->rstwatch(
	    {"recent", "--json", "--local-port", std::to_string(port), "--until", second});
	ASSERT_EQ(before.exit_code, 0) << before.err;
	std::vector<std::string> rows = lines_of(before.out);
	ASSERT_EQ(rows.size(), 1u) << before.out;
	EXPECT_EQ(json::parse(rows[0])["id"], sent[0]["id"]);
	CommandResult top =
	    daemon_->rstwatch({"top", "--json", "--by", "local_port", "--local-port",
	                       std::to_string(port), "--since", "10m", "--until", second});
	ASSERT_EQ(top.exit_code, 0) << top.err;
	EXPECT_EQ(json::parse(top.out)["matched"], 1);
	CommandResult follow = daemon_->rstwatch({"follow", "--until", "5m"});
	EXPECT_EQ(follow.exit_code, 2) << follow.err;
}

TEST_F(OperatorWindows, AddressTakesTheFormsTheTablesPrint)
{
	uint16_t port = refused_port("opw-address", 2);
	const std::string port_text = std::to_string(port);
	// The LOCAL column of the sent resets, as printed.
	CommandResult table =
	    daemon_->rstwatch({"recent", "--local-port", port_text, "--direction", "sent"});
	std::vector<std::string> rows = lines_of(table.out);
	ASSERT_EQ(rows.size(), 3u) << table.out;
	std::istringstream columns(rows[1]);
	std::string id, time, direction, local;
	columns >> id >> time >> direction >> local;
	ASSERT_EQ(local, "127.0.0.1:" + port_text);

	CommandResult by_endpoint = daemon_->rstwatch({"recent", "--json", "--address", local});
	ASSERT_EQ(by_endpoint.exit_code, 0) << by_endpoint.err;
	std::vector<std::string> events = lines_of(by_endpoint.out);
	EXPECT_EQ(events.size(), 4u) << "both ends of both resets: " << by_endpoint.out;
	for (const std::string &line : events) {
		json event = json::parse(line);
		EXPECT_TRUE(event["local"] == local || event["remote"] == local) << line;
	}
	CommandResult bracketed = daemon_->rstwatch({"recent", "--json", "--address", "[::1]"});
	EXPECT_EQ(bracketed.exit_code, 0) << bracketed.err;
	CommandResult v6_port =
	    daemon_->rstwatch({"recent", "--json", "--address", "[::1]:" + port_text});
	EXPECT_EQ(v6_port.exit_code, 0) << v6_port.err;
	EXPECT_TRUE(v6_port.out.empty()) << "the resets were over IPv4: " << v6_port.out;
	CommandResult bad = daemon_->rstwatch({"recent", "--address", "127.0.0.1:99999"});
	EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

TEST_F(OperatorWindows, ZeroLimitAndNegativeIdAreRefused)
{
	CommandResult zero = daemon_->rstwatch({"recent", "-n", "0"});
	EXPECT_EQ(zero.exit_code, 2) << zero.err;
	EXPECT_NE(zero.err.find("limit out of range (1..10000): 0"), std::string::npos) << zero.err;
	CommandResult negative = daemon_->rstwatch({"explain", "-1"});
	EXPECT_EQ(negative.exit_code, 2) << negative.err;
	EXPECT_NE(negative.err.find("must be a whole number"), std::string::npos) << negative.err;
	EXPECT_EQ(negative.err.find("18446744073709551615"), std::string::npos) << negative.err;
}

TEST_F(OperatorWindows, ExplainSaysUnknownWhereTheKernelReadNothing)
{
	uint16_t port = refused_port("opw-explain", 1);
	auto sent =
	    daemon_->query_events({"--local-port", std::to_string(port), "--direction", "sent"}, 1);
	auto received = daemon_->query_events(
	    {"--remote-port", std::to_string(port), "--direction", "received"}, 1);
	ASSERT_EQ(sent.size(), 1u);
	ASSERT_EQ(received.size(), 1u);
	// Refused: no socket at all.
	CommandResult none =
	    daemon_->rstwatch({"explain", std::to_string(sent[0]["id"].get<uint64_t>())});
	ASSERT_EQ(none.exit_code, 0) << none.err;
	EXPECT_NE(none.out.find("unread:      unknown (no socket)\n"), std::string::npos)
	    << none.out;
	EXPECT_NE(none.out.find("idle:        unknown (no socket)\n"), std::string::npos)
	    << none.out;
	EXPECT_EQ(none.out.find("0 bytes"), std::string::npos) << none.out;
	// The connecting side: a full socket, but no handshake to be idle after.
	CommandResult syn =
	    daemon_->rstwatch({"explain", std::to_string(received[0]["id"].get<uint64_t>())});
	EXPECT_NE(syn.out.find("unread:      0 bytes\n"), std::string::npos) << syn.out;
	EXPECT_NE(syn.out.find("idle:        unknown (the handshake never completed)\n"),
	          std::string::npos)
	    << syn.out;
}

} // namespace
} // namespace rstwatch::test
