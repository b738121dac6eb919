// Query filters against the real rstwatchd and client: the forms the tables
// print are accepted back as filters.
#include "support/operator_fixture.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

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

} // namespace
} // namespace rstwatch::test
