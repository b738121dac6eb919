// The query socket and the rstwatch client against the real rstwatchd: the
// rows people read, the errors hostile or careless clients get, who may ask,
// and clients too slow to keep up, which are dropped while ingestion goes on.
#include "support/operator_fixture.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace rstwatch::test
{
namespace
{

using nlohmann::json;

constexpr const char *kGroup = "nogroup"; // gid 65534 on Debian
constexpr gid_t kGroupId = 65534;
constexpr const char *kReadTimeoutMs = "1000";
constexpr const char *kWriteTimeoutMs = "1000";

class OperatorQuery : public OperatorTest
{
protected:
	static void SetUpTestSuite()
	{
		start_suite_daemon(
		    "query",
		    {.args = {"--socket-group", kGroup, "--client-read-timeout-ms", kReadTimeoutMs,
		              "--client-write-timeout-ms", kWriteTimeoutMs,
		              "--follower-buffer-bytes", "65536", "--max-clients-per-uid", "4",
		              // Room for the scenarios' events even while
		              // a benchmark storms the same machine.
		              "--store-events", "262144"}});
	}

	static json stats()
	{
		CommandResult result = daemon_->rstwatch({"stats", "--json"});
		EXPECT_EQ(result.exit_code, 0) << result.err;
		return json::parse(result.out, nullptr, false);
	}
	static double dropped(const std::string &reason)
	{
		return metric(daemon_->scrape(),
		              R"(rstwatch_query_clients_dropped_total{reason=")" + reason + "\"}")
		    .value_or(-1);
	}
	// Events for `count` refused connects to `port` are in the store.
	static void wait_for_stored(uint16_t port, int count)
	{
		for (int attempt = 0; attempt < 200; attempt++) {
			CommandResult result =
			    daemon_->rstwatch({"recent", "--json", "--remote-port",
			                       std::to_string(port), "-n", "10000"});
			if (static_cast<int>(lines_of(result.out).size()) >= count)
				return;
			usleep(50000);
		}
		ADD_FAILURE() << "the resets on port " << port << " never reached the store";
	}
};

class OperatorQueryRuntimeDirectory : public OperatorTest
{
};

TEST_F(OperatorQuery, RecentTopAndExplainShowTheResetsCaused)
{
	constexpr int kResets = 4;
	uint16_t port = 0;
	int bound = bound_socket(AF_INET, port);
	pid_t client = refused_connects("opq-client", port, kResets);
	close(bound);
	wait_for_stored(port, kResets);
	const std::string port_text = std::to_string(port);

	// The JSON rows are the same events rstwatchd --json prints.
	CommandResult recent = daemon_->rstwatch(
	    {"recent", "--json", "--remote-port", port_text, "--cause", "peer_refused"});
	ASSERT_EQ(recent.exit_code, 0) << recent.err;
	std::vector<std::string> rows = lines_of(recent.out);
	ASSERT_EQ(rows.size(), static_cast<size_t>(kResets)) << recent.out;
	uint64_t last_id = 0;
	for (const std::string &row : rows) {
		json event = json::parse(row);
		EXPECT_EQ(event["direction"], "received");
		EXPECT_EQ(event["cause"], "peer_refused");
		EXPECT_EQ(event["comm"], "opq-client");
		EXPECT_EQ(event["pid"], client);
		EXPECT_EQ(event["remote"], "127.0.0.1:" + port_text);
		EXPECT_GT(event["id"].get<uint64_t>(), last_id) << "oldest first";
		EXPECT_TRUE(event.contains("evidence"));
		EXPECT_TRUE(event.contains("remedy"));
		last_id = event["id"];
	}

	// The table: a header and one aligned row per reset.
	CommandResult table =
	    daemon_->rstwatch({"recent", "--local-port", port_text, "--direction", "sent"});
	ASSERT_EQ(table.exit_code, 0) << table.err;
	rows = lines_of(table.out);
	ASSERT_EQ(rows.size(), static_cast<size_t>(kResets) + 1) << table.out;
	EXPECT_EQ(columns(rows[0]), (std::vector<std::string>{"ID", "TIME", "DIR", "LOCAL",
	                                                      "REMOTE", "CAUSE", "PID", "COMM"}));
	size_t cause_at = rows[0].find("CAUSE");
	for (size_t i = 1; i < rows.size(); i++) {
		std::vector<std::string> row = columns(rows[i]);
		ASSERT_EQ(row.size(), 8u) << rows[i];
		EXPECT_EQ(row[2], "sent");
		EXPECT_EQ(row[3], "127.0.0.1:" + port_text);
		EXPECT_EQ(row[5], "refused");
		EXPECT_EQ(row[6], "-") << "the kernel refused it for no process";
		EXPECT_EQ(rows[i].find("refused"), cause_at) << "columns are aligned";
	}

	// "Who is sending the RSTs": one command, grouped by process.
	CommandResult top = daemon_->rstwatch({"top", "--remote-port", port_text});
	ASSERT_EQ(top.exit_code, 0) << top.err;
	rows = lines_of(top.out);
	ASSERT_GE(rows.size(), 2u) << top.out;
	EXPECT_EQ(columns(rows[0]),
	          (std::vector<std::string>{"COMM", "PID", "COUNT", "SENT", "RECEIVED", "TOP",
	                                    "CAUSE", "LAST", "SEEN"}));
	std::vector<std::string> first = columns(rows[1]);
	ASSERT_GE(first.size(), 6u);
	EXPECT_EQ(first[0], "opq-client");
	EXPECT_EQ(first[1], std::to_string(client));
	EXPECT_EQ(first[2], std::to_string(kResets));
	EXPECT_EQ(first[3], "0");
	EXPECT_EQ(first[4], std::to_string(kResets));
	EXPECT_EQ(first[5], "peer_refused");

	CommandResult by_port =
	    daemon_->rstwatch({"top", "--json", "--by", "local_port", "--direction", "sent",
	                       "--local-port", port_text});
	ASSERT_EQ(by_port.exit_code, 0) << by_port.err;
	json grouped = json::parse(by_port.out);
	ASSERT_EQ(grouped["groups"].size(), 1u);
	EXPECT_EQ(grouped["groups"][0]["local_port"], port);
	EXPECT_EQ(grouped["groups"][0]["count"], kResets);
	EXPECT_EQ(grouped["groups"][0]["causes"]["refused"], kResets);

	// explain: everything about one reset, in words.
	CommandResult explain = daemon_->rstwatch({"explain", std::to_string(last_id)});
	ASSERT_EQ(explain.exit_code, 0) << explain.err;
	EXPECT_NE(explain.out.find("reset " + std::to_string(last_id)), std::string::npos)
	    << explain.out;
	EXPECT_NE(explain.out.find("cause:       peer_refused"), std::string::npos) << explain.out;
	EXPECT_NE(explain.out.find("process:     opq-client (pid " + std::to_string(client)),
	          std::string::npos)
	    << explain.out;
	EXPECT_NE(explain.out.find("remedy:      Nothing listens at the destination"),
	          std::string::npos)
	    << explain.out;
	CommandResult explain_json =
	    daemon_->rstwatch({"explain", std::to_string(last_id), "--json"});
	json explained = json::parse(explain_json.out);
	EXPECT_EQ(explained["event"]["id"], last_id);
	EXPECT_EQ(explained["event"]["state"], "SYN_SENT");
}

TEST_F(OperatorQuery, FollowStreamsNewResetsAsTheyHappen)
{
	constexpr int kResets = 3;
	uint16_t port = 0;
	int bound = bound_socket(AF_INET, port);
	BackgroundCommand follow({rstwatch_client_path(), "--socket", daemon_->socket_path(),
	                          "follow", "--json", "--remote-port", std::to_string(port)});
	// The resets must happen after the follower is registered.
	bool following = false;
	for (int attempt = 0; attempt < 200 && !following; attempt++) {
		following = stats()["followers"] == 1;
		if (!following)
			usleep(20000);
	}
	ASSERT_TRUE(following);
	pid_t client = refused_connects("opq-follow", port, kResets);
	close(bound);
	for (int i = 0; i < kResets; i++) {
		std::optional<std::string> line = follow.read_line();
		ASSERT_TRUE(line) << "follower got " << i << " of " << kResets << " resets";
		json event = json::parse(*line);
		EXPECT_EQ(event["direction"], "received");
		EXPECT_EQ(event["cause"], "peer_refused");
		EXPECT_EQ(event["comm"], "opq-follow");
		EXPECT_EQ(event["pid"], client);
		EXPECT_EQ(event["remote_port"], port);
	}
	EXPECT_FALSE(follow.read_line(std::chrono::milliseconds(300)))
	    << "the filter lets only this port's received resets through";
}

TEST_F(OperatorQuery, MalformedRequestsGetJsonErrors)
{
	RawQueryClient client(daemon_->socket_path());
	ASSERT_GE(client.fd(), 0) << strerror(client.error());
	struct Case {
		std::string request;
		std::string code;
	};
	for (const Case &c : std::vector<Case>{
	         {"this is not json", "bad_request"},
	         {"[1,2,3]", "bad_request"},
	         {R"({"command":"recent","limit":"ten"})", "bad_request"},
	         {R"({"command":"recent","pid":-1})", "bad_request"},
	         {R"({"command":"recent","cuase":"refused"})", "bad_request"},
	         {R"({"command":"rm -rf /"})", "unknown_command"},
	         {R"({"command":"explain","id":18446744073709551615})", "not_found"},
	         {std::string("{\"command\":\"recent\",\"comm\":\"\xff\xfe\"}"), "bad_request"},
	     }) {
		ASSERT_TRUE(client.send(c.request + "\n"));
		std::optional<std::string> line = client.read_line();
		ASSERT_TRUE(line) << c.request;
		json response = json::parse(*line, nullptr, false);
		ASSERT_FALSE(response.is_discarded()) << *line;
		EXPECT_EQ(response["ok"], false) << *line;
		EXPECT_EQ(response["error"]["code"], c.code) << c.request << " -> " << *line;
		EXPECT_FALSE(response["error"]["message"].get<std::string>().empty());
	}
	// The connection survives bad requests: a good one still works.
	ASSERT_TRUE(client.send("{\"command\":\"stats\"}\n"));
	std::optional<std::string> line = client.read_line();
	ASSERT_TRUE(line);
	EXPECT_EQ(json::parse(*line)["ok"], true);

	// A request longer than the limit is refused and the connection closed.
	double too_large = dropped("request_too_large");
	RawQueryClient flood(daemon_->socket_path());
	ASSERT_TRUE(flood.send(std::string(8192, '{')));
	line = flood.read_line();
	ASSERT_TRUE(line);
	EXPECT_EQ(json::parse(*line)["error"]["code"], "request_too_large");
	EXPECT_TRUE(flood.wait_closed());
	EXPECT_EQ(dropped("request_too_large"), too_large + 1);
}

TEST_F(OperatorQuery, ClientExitCodesTellOutcomesApart)
{
	EXPECT_EQ(daemon_->rstwatch({"stats"}).exit_code, 0);
	CommandResult bad = daemon_->rstwatch({"recent", "--cause", "gremlins"});
	EXPECT_EQ(bad.exit_code, 2) << bad.err;
	EXPECT_NE(bad.err.find("bad_request"), std::string::npos) << bad.err;
	EXPECT_EQ(daemon_->rstwatch({"recent", "--direction", "sideways"}).exit_code, 2);
	EXPECT_EQ(daemon_->rstwatch({"frobnicate"}).exit_code, 2);
	CommandResult missing = daemon_->rstwatch({"explain", "18446744073709551615"});
	EXPECT_EQ(missing.exit_code, 1) << missing.err;
	EXPECT_NE(missing.err.find("not_found"), std::string::npos) << missing.err;
	CommandResult no_daemon = run_command(
	    {rstwatch_client_path(), "--socket", daemon_->directory() + "/absent.sock", "stats"});
	EXPECT_EQ(no_daemon.exit_code, 3) << no_daemon.err;
	EXPECT_NE(no_daemon.err.find("no rstwatchd is answering"), std::string::npos);
}

TEST_F(OperatorQuery, SocketIsCreatedWithSafePermissions)
{
	struct stat socket_info {
	}, directory_info{};
	ASSERT_EQ(stat(daemon_->socket_path().c_str(), &socket_info), 0);
	ASSERT_EQ(stat((daemon_->directory() + "/run").c_str(), &directory_info), 0);
	EXPECT_TRUE(S_ISSOCK(socket_info.st_mode));
	EXPECT_EQ(socket_info.st_mode & 07777, 0660u);
	EXPECT_EQ(socket_info.st_gid, kGroupId);
	EXPECT_EQ(directory_info.st_mode & 07777, 0750u);
	EXPECT_EQ(directory_info.st_gid, kGroupId);
}

// systemd's RuntimeDirectory= makes /run/rstwatch root:root 0750 before the
// daemon starts: rstwatchd hands it to the socket group, or group members
// could not reach the socket.
TEST_F(OperatorQueryRuntimeDirectory, ExistingPrivateDirectoryGoesToTheGroup)
{
	OperatorDaemon daemon("rundir");
	const std::string directory = daemon.directory() + "/run";
	ASSERT_EQ(mkdir(directory.c_str(), 0700), 0);
	ASSERT_TRUE(daemon.start({.args = {"--socket-group", kGroup}})) << daemon.error();
	struct stat info {
	};
	ASSERT_EQ(stat(directory.c_str(), &info), 0);
	EXPECT_EQ(info.st_gid, kGroupId);
	EXPECT_EQ(info.st_mode & 07777, 0750u);
	CommandResult member =
	    daemon.rstwatch({"stats"}, {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
	                                "--clear-groups", "--"});
	EXPECT_EQ(member.exit_code, 0) << member.err;
	EXPECT_EQ(daemon.stop().exit_code, 0);
}

// setpriv runs the client as nobody, in or out of the socket's group.
std::vector<std::string> as_nobody(const std::string &gid, const std::string &groups = "")
{
	std::vector<std::string> prefix = {"/usr/bin/setpriv", "--reuid=65534", "--regid=" + gid};
	prefix.push_back(groups.empty() ? "--clear-groups" : "--groups=" + groups);
	prefix.push_back("--");
	return prefix;
}

TEST_F(OperatorQuery, OnlyRootAndTheSocketGroupMayQuery)
{
	// Outside the group the filesystem already says no.
	CommandResult outsider = daemon_->rstwatch({"stats"}, as_nobody("1"));
	EXPECT_EQ(outsider.exit_code, 4) << outsider.err;
	EXPECT_NE(outsider.err.find("permission denied"), std::string::npos) << outsider.err;
	// In the group, as primary or supplementary group (SO_PEERGROUPS).
	CommandResult member = daemon_->rstwatch({"stats", "--json"}, as_nobody("65534"));
	EXPECT_EQ(member.exit_code, 0) << member.err;
	EXPECT_EQ(json::parse(member.out, nullptr, false)["ok"], true);
	CommandResult supplementary = daemon_->rstwatch({"stats"}, as_nobody("1", "65534"));
	EXPECT_EQ(supplementary.exit_code, 0) << supplementary.err;
}

TEST_F(OperatorQuery, PeerCredentialsAreCheckedEvenWhenTheFileIsOpen)
{
	// An operator (or a mistake) opens the socket to everyone: rstwatchd
	// still checks who connected.
	const std::string directory = daemon_->directory() + "/run";
	ASSERT_EQ(chmod(directory.c_str(), 0755), 0);
	ASSERT_EQ(chmod(daemon_->socket_path().c_str(), 0666), 0);
	double before = dropped("permission_denied");
	CommandResult outsider = daemon_->rstwatch({"stats"}, as_nobody("1"));
	chmod(daemon_->socket_path().c_str(), 0660);
	chmod(directory.c_str(), 0750);
	EXPECT_EQ(outsider.exit_code, 4) << outsider.err;
	EXPECT_NE(outsider.err.find("permission_denied: uid 65534 may not query"),
	          std::string::npos)
	    << outsider.err;
	EXPECT_EQ(dropped("permission_denied"), before + 1);
}

TEST_F(OperatorQuery, ClientsPerUserAreLimited)
{
	// Followers hold their connections without any read deadline.
	std::vector<std::unique_ptr<RawQueryClient>> held;
	for (int i = 0; i < 4; i++) {
		held.push_back(std::make_unique<RawQueryClient>(daemon_->socket_path()));
		ASSERT_TRUE(held.back()->send("{\"command\":\"follow\",\"remote_port\":1}\n"));
		ASSERT_TRUE(held.back()->read_line()) << "follow acknowledged";
	}
	double before = dropped("too_many_clients_per_uid");
	RawQueryClient extra(daemon_->socket_path());
	std::optional<std::string> line = extra.read_line();
	ASSERT_TRUE(line);
	json response = json::parse(*line);
	EXPECT_EQ(response["error"]["code"], "too_many_clients");
	EXPECT_TRUE(extra.wait_closed());
	EXPECT_EQ(dropped("too_many_clients_per_uid"), before + 1);
	// Another user has a budget of its own.
	EXPECT_EQ(daemon_->rstwatch({"stats"}, as_nobody("65534")).exit_code, 0);
	held.clear();
	bool served = false;
	for (int attempt = 0; attempt < 100 && !served; attempt++) {
		served = daemon_->rstwatch({"stats"}).exit_code == 0;
		if (!served)
			usleep(20000);
	}
	EXPECT_TRUE(served) << "slots come back when clients leave";
}

TEST_F(OperatorQuery, ClientThatNeverFinishesItsRequestIsDropped)
{
	double before = dropped("read_timeout");
	RawQueryClient slow(daemon_->socket_path());
	ASSERT_TRUE(slow.send("{\"command\":\"rec"));
	// While it dawdles, resets are still ingested and queries answered.
	uint16_t port = 0;
	int bound = bound_socket(AF_INET, port);
	refused_connects("opq-meanwhile", port, 2);
	close(bound);
	wait_for_stored(port, 2);
	std::optional<std::string> line = slow.read_line();
	ASSERT_TRUE(line) << "the daemon says why before it hangs up";
	EXPECT_EQ(json::parse(*line)["error"]["code"], "timeout");
	EXPECT_TRUE(slow.wait_closed());
	EXPECT_EQ(dropped("read_timeout"), before + 1);
}

TEST_F(OperatorQuery, ResponseLeftUnreadIsDropped)
{
	// A response far larger than the socket buffers: 300 refused connects
	// are 600 events, about 1.3 KiB of JSON each.
	uint16_t port = 0;
	int bound = bound_socket(AF_INET, port);
	refused_connects("opq-bulk", port, 300);
	close(bound);
	wait_for_stored(port, 300);
	double before = dropped("write_timeout");
	RawQueryClient reader(daemon_->socket_path());
	int small = 4096;
	setsockopt(reader.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	ASSERT_TRUE(reader.send("{\"command\":\"recent\",\"limit\":10000}\n"));
	// It reads nothing; the daemon gives up on it after the write timeout
	// and keeps answering everyone else.
	bool gone = false;
	for (int attempt = 0; attempt < 200 && !gone; attempt++) {
		gone = dropped("write_timeout") == before + 1;
		if (!gone)
			usleep(50000);
	}
	EXPECT_TRUE(gone);
	EXPECT_EQ(daemon_->rstwatch({"stats"}).exit_code, 0);
	EXPECT_TRUE(reader.wait_closed());
}

TEST_F(OperatorQuery, FollowerThatFallsBehindIsDroppedWithAReason)
{
	double before = dropped("slow_follower");
	RawQueryClient follower(daemon_->socket_path());
	ASSERT_TRUE(follower.send("{\"command\":\"follow\"}\n"));
	ASSERT_TRUE(follower.read_line());
	// It never reads again. 300 refused connects are 600 events: far more
	// than the socket buffer and the 64 KiB follower buffer hold.
	uint16_t port = 0;
	int bound = bound_socket(AF_INET, port);
	refused_connects("opq-storm", port, 300);
	close(bound);
	bool dropped_it = false;
	for (int attempt = 0; attempt < 200 && !dropped_it; attempt++) {
		dropped_it = dropped("slow_follower") >= before + 1;
		if (!dropped_it)
			usleep(50000);
	}
	EXPECT_TRUE(dropped_it);
	EXPECT_TRUE(follower.wait_closed());
	// Ingestion never waited for it: every one of those resets is stored.
	wait_for_stored(port, 300);
	CommandResult sent = daemon_->rstwatch(
	    {"recent", "--json", "-n", "10000", "--local-port", std::to_string(port)});
	EXPECT_EQ(lines_of(sent.out).size(), 300u);
}

} // namespace
} // namespace rstwatch::test
