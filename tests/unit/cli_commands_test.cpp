// rstwatch's options become the request it sends: the same filter names and
// values the daemon's parser takes (README, "Protocol").
#include "cli/commands.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rstwatch::cli
{
namespace
{

// The request `rstwatch <args>` sends, as compact JSON (keys sorted).
std::string request_for(const std::vector<std::string> &args)
{
	CommandLine command_line;
	std::vector<const char *> argv = {"rstwatch"};
	for (const std::string &arg : args)
		argv.push_back(arg.c_str());
	command_line.parse(static_cast<int>(argv.size()), argv.data());
	return command_line.request().dump();
}

TEST(CliRequests, EveryFilterGoesOutUnderItsProtocolName)
{
	EXPECT_EQ(request_for({"recent"}), R"({"command":"recent"})");
	EXPECT_EQ(request_for({"recent",  "--since",      "5m",         "--after-id",
	                       "7",       "--direction",  "sent",       "--cause",
	                       "refused", "--pid",        "42",         "--comm",
	                       "nginx",   "--local-port", "80",         "--remote-port",
	                       "5555",    "--address",    "10.0.0.0/8", "-n",
	                       "20"}),
	          R"({"address":"10.0.0.0/8","after_id":7,"cause":"refused","comm":"nginx",)"
	          R"("command":"recent","direction":"sent","limit":20,"local_port":80,"pid":42,)"
	          R"("remote_port":5555,"since":"5m"})");
	EXPECT_EQ(request_for({"follow", "--direction", "received", "--cause", "peer_reset"}),
	          R"({"cause":"peer_reset","command":"follow","direction":"received"})");
}

TEST(CliRequests, SinceInPlainDigitsIsUnixSecondsAndAnythingElseAString)
{
	EXPECT_EQ(request_for({"recent", "--since", "1795465500"}),
	          R"({"command":"recent","since":1795465500})");
	EXPECT_EQ(request_for({"recent", "--since", "2026-11-23T20:25:00Z"}),
	          R"({"command":"recent","since":"2026-11-23T20:25:00Z"})");
	EXPECT_EQ(request_for({"recent", "--since", "1h30m"}),
	          R"({"command":"recent","since":"1h30m"})");
	// Past 12 digits it is no plausible time: the daemon rejects the string.
	EXPECT_EQ(request_for({"recent", "--since", "1234567890123"}),
	          R"({"command":"recent","since":"1234567890123"})");
}

TEST(CliRequests, TopGroupsByProcessUnlessToldAndTakesShortNames)
{
	EXPECT_EQ(request_for({"top"}), R"({"by":"process","command":"top"})");
	EXPECT_EQ(request_for({"top", "--by", "remote", "-n", "5"}),
	          R"({"by":"remote_address","command":"top","limit":5})");
	EXPECT_EQ(request_for({"top", "--by", "port"}), R"({"by":"local_port","command":"top"})");
	EXPECT_EQ(request_for({"top", "--by", "remote_address"}),
	          R"({"by":"remote_address","command":"top"})");
	EXPECT_EQ(request_for({"top", "--by", "cause", "--pid", "9"}),
	          R"({"by":"cause","command":"top","pid":9})");
}

TEST(CliRequests, StatsAndExplainCarryOnlyWhatTheyTake)
{
	EXPECT_EQ(request_for({"stats"}), R"({"command":"stats"})");
	EXPECT_EQ(request_for({"explain", "12"}), R"({"command":"explain","id":12})");
	// Global options go anywhere and are not part of the request.
	EXPECT_EQ(request_for({"--json", "recent", "--timeout-ms", "50"}),
	          R"({"command":"recent"})");
}

TEST(CliRequests, SocketOptionWinsOverTheDefault)
{
	CommandLine command_line;
	const char *argv[] = {"rstwatch", "stats", "--socket", "/tmp/other.sock"};
	command_line.parse(4, argv);
	EXPECT_EQ(command_line.socket_path(), "/tmp/other.sock");
	EXPECT_EQ(command_line.timeout_ms(), 10000);
}

TEST(CliRequests, WorkloadFiltersAndGroups)
{
	EXPECT_EQ(
	    request_for({"recent", "--unit", "nginx.service", "--container", "3f1c2d4e5a6b",
	                 "--pod", "web-7f9c", "--namespace", "team-a", "--netns", "4026531840"}),
	    R"({"command":"recent","container":"3f1c2d4e5a6b","namespace":"team-a",)"
	    R"("netns":4026531840,"pod":"web-7f9c","unit":"nginx.service"})");
	EXPECT_EQ(request_for({"follow", "--pod", "team-a/web-7f9c"}),
	          R"({"command":"follow","pod":"team-a/web-7f9c"})");
	for (const char *by : {"unit", "container", "pod", "netns"})
		EXPECT_EQ(request_for({"top", "--by", by}),
		          std::string(R"({"by":")") + by + R"(","command":"top"})");
	EXPECT_THROW(request_for({"recent", "--netns", "-1"}), CLI::ParseError);
	EXPECT_THROW(request_for({"top", "--by", "namespace"}), CLI::ParseError);
}

TEST(CliRequests, ValuesTheDaemonWouldRejectAreUsageErrors)
{
	EXPECT_THROW(request_for({}), CLI::ParseError);
	EXPECT_THROW(request_for({"recent", "--direction", "sideways"}), CLI::ParseError);
	EXPECT_THROW(request_for({"top", "--by", "pid"}), CLI::ParseError);
	EXPECT_THROW(request_for({"recent", "--local-port", "70000"}), CLI::ParseError);
	EXPECT_THROW(request_for({"explain"}), CLI::ParseError);
	EXPECT_THROW(request_for({"stats", "--cause", "refused"}), CLI::ParseError);
	EXPECT_THROW(request_for({"recent", "--timeout-ms", "0"}), CLI::ParseError);
}

TEST(CliRequests, ZeroLimitGoesOutAndNegativeIdsAreRefusedNotWrapped)
{
	// -n 0 goes out as asked (the daemon refuses it), never as the default.
	EXPECT_EQ(request_for({"recent", "-n", "0"}), R"({"command":"recent","limit":0})");
	EXPECT_THROW(request_for({"explain", "-1"}), CLI::ParseError);
	EXPECT_THROW(request_for({"explain", "--", "-1"}), CLI::ParseError);
	EXPECT_THROW(request_for({"recent", "--after-id", "-1"}), CLI::ParseError);
	EXPECT_THROW(request_for({"explain", "1e3"}), CLI::ParseError);
	EXPECT_EQ(request_for({"explain", "18446744073709551615"}),
	          R"({"command":"explain","id":18446744073709551615})");
}

TEST(CliRequests, UntilGoesOutForRecentAndTopOnly)
{
	EXPECT_EQ(request_for({"recent", "--since", "1h", "--until", "30m"}),
	          R"({"command":"recent","since":"1h","until":"30m"})");
	EXPECT_EQ(request_for({"top", "--until", "1795465500"}),
	          R"({"by":"process","command":"top","until":1795465500})");
	EXPECT_THROW(request_for({"follow", "--until", "5m"}), CLI::ParseError);
}

} // namespace
} // namespace rstwatch::cli
