// Processes that name themselves with invalid UTF-8, terminal escapes and
// newlines (prctl(PR_SET_NAME) needs no privilege) cause real resets against
// the real rstwatchd: Prometheus' own promtool still accepts the /metrics
// scrape, and the tables of the real rstwatch client hold no control byte.
#include "support/operator_fixture.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace rstwatch::test
{
namespace
{

using nlohmann::json;

// The names as the kernel keeps them (at most 15 bytes).
const std::vector<std::string> kHostileNames = {
    // invalid UTF-8, a sequence cut at the end
    "\xff\xfe"
    "bad\xc3",
    // colours on, colours off
    "\x1b[31mred\x1b[0m",
    // a forged log line
    "x\nrstwatchd: ok",
    // "ééééééééé" cut at 15 bytes by the kernel, inside the last é
    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3",
};

// What the daemon's JSON shows for a name: invalid sequences replaced the way
// nlohmann::json replaces them, itself the oracle here.
std::string replaced(const std::string &name)
{
	return json::parse(json(name).dump(-1, ' ', false, json::error_handler_t::replace))
	    .get<std::string>();
}

// A label value as the text exposition format writes it.
std::string label_text(const std::string &value)
{
	std::string out;
	for (char c : value) {
		if (c == '\\' || c == '"')
			out += '\\';
		out += c == '\n' ? std::string("\\n") : std::string(1, c);
	}
	return out;
}

// Output for a terminal: lines of valid UTF-8 with no control byte in them.
::testing::AssertionResult terminal_safe(const std::string &output)
{
	for (char c : output) {
		auto byte = static_cast<unsigned char>(c);
		if ((byte < 0x20 && c != '\n') || byte == 0x7f)
			return ::testing::AssertionFailure()
			       << "raw byte " << int(byte) << " in:\n"
			       << json(output).dump(-1, ' ', true, json::error_handler_t::replace);
	}
	try {
		(void)json(output).dump();
	} catch (const json::type_error &) {
		return ::testing::AssertionFailure() << "not UTF-8: " << output;
	}
	return ::testing::AssertionSuccess();
}

size_t line_count(const std::string &text)
{
	size_t lines = 0;
	std::istringstream stream(text);
	for (std::string line; std::getline(stream, line);)
		lines++;
	return lines;
}

// promtool from Debian's prometheus package (scripts/install-deps test), found
// on PATH; "" when it is not there.
std::string promtool_path()
{
	const char *path = getenv("PATH");
	std::istringstream directories(path ? path : "/usr/bin:/bin");
	for (std::string directory; std::getline(directories, directory, ':');) {
		std::string candidate = directory + "/promtool";
		if (!directory.empty() && access(candidate.c_str(), X_OK) == 0)
			return candidate;
	}
	return "";
}

class OperatorNames : public OperatorTest
{
protected:
	static void SetUpTestSuite()
	{
		// A series for every name the test makes, whatever else resets
		// on the machine meanwhile.
		start_suite_daemon("names", {.args = {"--top-series", "100"}});
	}

	struct Reset {
		pid_t pid = 0;
		uint16_t client_port = 0;
	};

	// A child named `name` connects to 127.0.0.1 and, once accepted,
	// closes with SO_LINGER {1, 0}: a reset sent by that process.
	static Reset linger_zero_close(const std::string &name)
	{
		uint16_t port = 0;
		int listener = listening_socket(AF_INET, port);
		Child child(name, [port](const Channel &channel) {
			uint16_t client_port = 0;
			int fd = connect_from_known_port(AF_INET, port, client_port);
			if (fd < 0)
				throw std::runtime_error("connect failed");
			channel.send(client_port);
			channel.receive(); // accepted
			set_linger(fd, true, 0);
			close(fd);
			channel.send(1);
		});
		Reset reset{child.pid(), static_cast<uint16_t>(child.channel().receive())};
		int accepted = accept(listener, nullptr, nullptr);
		child.channel().send(1);
		EXPECT_EQ(child.channel().receive(), 1u);
		EXPECT_EQ(child.wait(), 0);
		close(accepted);
		close(listener);
		return reset;
	}
};

TEST_F(OperatorNames, PromtoolAcceptsTheScrapeAndTablesShowNamesEscaped)
{
	const std::string promtool = promtool_path();
	if (promtool.empty()) {
		if (running_in_ci())
			FAIL() << "promtool not found: scripts/install-deps test installs it";
		GTEST_SKIP() << "skipping: promtool not found (scripts/install-deps test)";
	}

	std::vector<Reset> resets;
	std::vector<json> events;
	for (const std::string &name : kHostileNames) {
		SCOPED_TRACE(json(name).dump(-1, ' ', true, json::error_handler_t::replace));
		Reset reset = linger_zero_close(name);
		auto found = daemon_->query_events(
		    {"--local-port", std::to_string(reset.client_port), "--direction", "sent"}, 1);
		ASSERT_EQ(found.size(), 1u);
		EXPECT_EQ(found[0]["cause"], "linger_zero_close");
		EXPECT_EQ(found[0]["pid"], reset.pid);
		EXPECT_EQ(found[0]["comm"], replaced(name));
		resets.push_back(reset);
		events.push_back(found[0]);
	}

	// Every name has its series, its label the replaced name, and the
	// whole scrape passes Prometheus' own parser and linter.
	const std::string scrape = daemon_->scrape();
	ASSERT_FALSE(scrape.empty());
	for (const std::string &name : kHostileNames) {
		const std::string series = "rstwatch_resets_by_process_total{comm=\"" +
		                           label_text(replaced(name)) + "\",direction=\"sent\"}";
		EXPECT_GE(metric(scrape, series).value_or(0), 1) << series;
	}
	const std::string scrape_file = daemon_->directory() + "/scrape.txt";
	std::ofstream(scrape_file, std::ios::binary) << scrape;
	CommandResult check = run_command(
	    {"/bin/sh", "-c", "exec \"$0\" check metrics < \"$1\"", promtool, scrape_file});
	EXPECT_EQ(check.exit_code, 0) << check.out << check.err;

	// The tables the real client prints: one row per reset, nothing raw.
	for (size_t i = 0; i < resets.size(); i++) {
		SCOPED_TRACE("name " + std::to_string(i));
		CommandResult recent =
		    daemon_->rstwatch({"recent", "--pid", std::to_string(resets[i].pid)});
		EXPECT_EQ(recent.exit_code, 0) << recent.err;
		EXPECT_TRUE(terminal_safe(recent.out));
		EXPECT_EQ(line_count(recent.out), 2u) << recent.out;
		CommandResult explain = daemon_->rstwatch({"explain", events[i]["id"].dump()});
		EXPECT_EQ(explain.exit_code, 0) << explain.err;
		EXPECT_TRUE(terminal_safe(explain.out));
		EXPECT_NE(explain.out.find("process:     "), std::string::npos) << explain.out;
	}
	// The escapes show as text; invalid bytes reach the client already
	// replaced in the daemon's JSON.
	CommandResult recent = daemon_->rstwatch({"recent", "-n", "10000"});
	EXPECT_TRUE(terminal_safe(recent.out));
	for (const std::string shown : {"\\x1b[31mred\\x1b[0m", "x\\nrstwatchd: ok",
	                                "\xef\xbf\xbd\xef\xbf\xbd"
	                                "bad\xef\xbf\xbd"})
		EXPECT_NE(recent.out.find(shown), std::string::npos)
		    << shown << " in " << recent.out;
	CommandResult top = daemon_->rstwatch({"top", "-n", "1000"});
	EXPECT_EQ(top.exit_code, 0) << top.err;
	EXPECT_TRUE(terminal_safe(top.out));
}

} // namespace
} // namespace rstwatch::test
