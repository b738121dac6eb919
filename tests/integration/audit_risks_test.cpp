// rstwatch audit against the real daemon and real sockets: each risk made to
// happen and listed with its process, then the socket made to do what the
// audit said it would, and the reset it predicted seen with the cause it
// predicted. Sockets that are safe (keepalive probing, data flowing) are not
// listed.
#include "support/audit_support.h"
#include "support/operator_fixture.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace rstwatch::test
{
namespace
{

using nlohmann::json;
using std::chrono::seconds;

class AuditRisks : public OperatorTest
{
protected:
	static void SetUpTestSuite()
	{
		start_suite_daemon("audit", {.args = {"--audit-interval", "1s", "--store-events",
		                                      "262144", "--hostname", "audit-node"}});
	}

	// Prediction -> outcome: `actor` is told to do what the audit said
	// the socket of `row` is headed for, and the one reset of `direction`
	// at `local_port` comes with the cause predicted, naming the process
	// the row named.
	static void expect_predicted_reset(const Child &actor, const json &row, uint16_t local_port,
	                                   const std::string &direction)
	{
		actor.channel().send(1);
		actor.channel().receive();
		std::vector<json> events = daemon_->query_events(
		    {"--local-port", std::to_string(local_port), "--direction", direction}, 1);
		ASSERT_EQ(events.size(), 1u) << direction << " resets on port " << local_port;
		EXPECT_EQ(events[0]["cause"], row["predicted_cause"]);
		EXPECT_EQ(events[0]["pid"], row["pid"]);
		EXPECT_EQ(events[0]["comm"], row["comm"]);
	}
};

// The process's cgroup v2 path, as /proc/PID/cgroup gives it ("0::/...").
std::string cgroup_of(pid_t pid)
{
	std::ifstream file("/proc/" + std::to_string(pid) + "/cgroup");
	for (std::string line; std::getline(file, line);) {
		if (line.rfind("0::", 0) == 0)
			return line.substr(3);
	}
	ADD_FAILURE() << "no cgroup v2 line in /proc/" << pid << "/cgroup";
	return "";
}

std::string loopback(uint16_t port)
{
	return "127.0.0.1:" + std::to_string(port);
}

// A server named `comm` on a port of its own: it accepts one connection and
// never reads from it; on its first message it runs `act` on the connection,
// then answers and waits to be let go.
Child quiet_server(const std::string &comm, void (*act)(int fd))
{
	return Child(comm, [act](const Channel &channel) {
		uint16_t port = 0;
		int listener = listening_socket(AF_INET, port);
		channel.send(port);
		int fd = accept_one(listener);
		channel.receive(seconds(60));
		act(fd);
		channel.send(1);
		channel.receive(seconds(60));
	});
}

TEST_F(AuditRisks, LingerZeroSocketIsListedAndItsCloseSendsThePredictedReset)
{
	uint16_t port = 0;
	int listener = listening_socket(AF_INET, port);
	Child client("aud-linger", [port](const Channel &channel) {
		uint16_t client_port = 0;
		int fd = connect_from_known_port(AF_INET, port, client_port);
		if (fd < 0)
			throw std::runtime_error("connect failed");
		set_linger(fd, true, 0);
		channel.send(client_port);
		channel.receive(seconds(60));
		close(fd);
		channel.send(1);
		channel.receive(seconds(60));
	});
	const uint16_t client_port = static_cast<uint16_t>(client.channel().receive());
	int accepted = accept_one(listener);
	const std::string pid = std::to_string(client.pid());

	AuditRows rows = rows_of(audit_rows(*daemon_, {"--pid", pid}), client.pid());
	ASSERT_EQ(rows.size(), 1u);
	const json &row = rows[0];
	EXPECT_EQ(row["risk"], "linger_zero");
	EXPECT_EQ(row["pid"], client.pid());
	EXPECT_EQ(row["comm"], "aud-linger");
	EXPECT_EQ(row["owner_source"], "socket_owner");
	EXPECT_TRUE(row["holders"].is_null());
	EXPECT_EQ(row["local"], loopback(client_port));
	EXPECT_EQ(row["remote"], loopback(port));
	EXPECT_EQ(row["state"], "ESTABLISHED");
	EXPECT_EQ(row["linger_on"], true);
	EXPECT_EQ(row["linger_seconds"], 0);
	EXPECT_EQ(row["unread_bytes"], 0);
	EXPECT_EQ(row["keepalive_on"], false);
	EXPECT_EQ(row["netns"], namespace_inode("/proc/self/ns/net"));
	EXPECT_EQ(row["predicted_cause"], "linger_zero_close");
	EXPECT_FALSE(row["remedy"].get<std::string>().empty());
	// The workload fields, as the events carry them: the client's cgroup.
	EXPECT_EQ(row["hostname"], "audit-node");
	EXPECT_EQ(row["cgroup_path"], cgroup_of(client.pid()));
	EXPECT_EQ(row["pod_name"], "");

	// The workload filters select by the socket's namespace and cgroup.
	const std::string netns = std::to_string(namespace_inode("/proc/self/ns/net"));
	EXPECT_EQ(
	    rows_of(audit_rows(*daemon_, {"--pid", pid, "--netns", netns}), client.pid()).size(),
	    1u);
	EXPECT_TRUE(audit_rows(*daemon_, {"--pid", pid, "--unit", "no-such-unit.service"}).empty());
	EXPECT_TRUE(audit_rows(*daemon_, {"--pid", pid, "--pod", "no-such-pod"}).empty());

	// The table, and the remedy under it.
	CommandResult table = daemon_->rstwatch({"audit", "--pid", pid});
	ASSERT_EQ(table.exit_code, 0) << table.err;
	std::istringstream lines(table.out);
	std::string header, first;
	std::getline(lines, header);
	std::getline(lines, first);
	EXPECT_EQ(header.rfind("RISK", 0), 0u) << table.out;
	EXPECT_EQ(first.rfind("linger_zero", 0), 0u) << table.out;
	EXPECT_NE(first.find(loopback(client_port)), std::string::npos) << table.out;
	EXPECT_NE(table.out.find("linger_zero: Drop SO_LINGER"), std::string::npos) << table.out;

	// The periodic audit (every second here) counts it in the gauge.
	std::optional<double> gauge;
	for (int attempt = 0; attempt < 100 && gauge.value_or(0) < 1; attempt++) {
		gauge =
		    metric(daemon_->scrape(), R"(rstwatch_sockets_at_risk{risk="linger_zero"})");
		if (gauge.value_or(0) < 1)
			usleep(100000);
	}
	EXPECT_GE(gauge.value_or(0), 1);

	expect_predicted_reset(client, row, client_port, "sent");
	client.channel().send(1);
	EXPECT_EQ(client.wait(), 0);
	close(accepted);
	close(listener);
}

TEST_F(AuditRisks, CloseWaitWithUnreadBytesIsBothRisksAndItsCloseSendsThePredictedReset)
{
	Child server = quiet_server("aud-unread", [](int fd) { close(fd); });
	const uint16_t port = static_cast<uint16_t>(server.channel().receive());
	uint16_t client_port = 0;
	int client = connect_from_known_port(AF_INET, port, client_port);
	ASSERT_GE(client, 0);
	const char request[100] = {};
	write_all(client, request, sizeof(request));
	close(client);

	const std::string pid = std::to_string(server.pid());
	AuditRows rows = rows_of(audit_until(*daemon_, {"--pid", pid},
	                                     [&](const AuditRows &all) {
		                                     return rows_of(all, server.pid()).size() == 2;
	                                     }),
	                         server.pid());
	ASSERT_EQ(rows.size(), 2u) << "after a second of silence";
	json unread = row_with_risk(rows, "unread_data");
	json closed = row_with_risk(rows, "peer_closed");
	for (const json &row : {unread, closed}) {
		EXPECT_EQ(row["pid"], server.pid());
		EXPECT_EQ(row["comm"], "aud-unread");
		EXPECT_EQ(row["local"], loopback(port));
		EXPECT_EQ(row["remote"], loopback(client_port));
		EXPECT_EQ(row["state"], "CLOSE_WAIT");
		EXPECT_EQ(row["unread_bytes"], 100) << "the FIN is not data";
		EXPECT_GE(row["idle_since_receive_ms"].get<uint64_t>(), 1000u);
	}
	EXPECT_EQ(unread["predicted_cause"], "close_with_unread_data");
	EXPECT_EQ(closed["predicted_cause"], "stale_connection_reuse");

	expect_predicted_reset(server, unread, port, "sent");
	server.channel().send(1);
	EXPECT_EQ(server.wait(), 0);
}

TEST_F(AuditRisks, PeerClosedSocketAnswersItsNextWriteWithThePredictedReset)
{
	Child server = quiet_server("aud-closed", [](int fd) { write_all(fd, "late", 4); });
	const uint16_t port = static_cast<uint16_t>(server.channel().receive());
	uint16_t client_port = 0;
	int client = connect_from_known_port(AF_INET, port, client_port);
	ASSERT_GE(client, 0);
	close(client);

	AuditRows rows = rows_of(
	    audit_until(*daemon_, {"--pid", std::to_string(server.pid())},
	                [&](const AuditRows &all) { return !rows_of(all, server.pid()).empty(); }),
	    server.pid());
	ASSERT_EQ(rows.size(), 1u) << "nothing unread: peer_closed only";
	const json &row = rows[0];
	EXPECT_EQ(row["risk"], "peer_closed");
	EXPECT_EQ(row["comm"], "aud-closed");
	EXPECT_EQ(row["state"], "CLOSE_WAIT");
	EXPECT_EQ(row["unread_bytes"], 0);
	EXPECT_EQ(row["local"], loopback(port));

	// The next write goes to a peer that has closed: it answers with a
	// reset, which arrives at this socket.
	expect_predicted_reset(server, row, port, "received");
	server.channel().send(1);
	EXPECT_EQ(server.wait(), 0);
}

// Connects to `port` and reports its own port; `setup` runs on the socket
// first. Waits for a message, then for another after `after` runs.
Child client_of(const std::string &comm, uint16_t port, void (*setup)(int fd),
                void (*after)(int fd, const Channel &channel))
{
	return Child(comm, [=](const Channel &channel) {
		uint16_t client_port = 0;
		int fd = connect_from_known_port(AF_INET, port, client_port);
		if (fd < 0)
			throw std::runtime_error("connect failed");
		setup(fd);
		channel.send(client_port);
		after(fd, channel);
		channel.receive(seconds(60));
	});
}

void keep_alive_every_second(int fd)
{
	int on = 1, one = 1, count = 5;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
}

// A byte out and its echo back every 100 ms, until told to stop.
void exchange_until_told(int fd, const Channel &channel)
{
	for (;;) {
		char byte = 'x';
		write_all(fd, &byte, 1);
		if (recv(fd, &byte, 1, MSG_WAITALL) != 1)
			throw std::runtime_error("the echo stopped");
		pollfd told{channel.fd(), POLLIN, 0};
		if (poll(&told, 1, 100) == 1)
			return;
	}
}

// Told the reset came: reports what a read then says.
void read_after_reset(int fd, const Channel &channel)
{
	channel.receive(seconds(60));
	char byte = 0;
	channel.send(recv(fd, &byte, 1, 0) < 0 ? static_cast<uint32_t>(errno) : 0);
}

// An intermediary with an idle timeout: accepts three connections, echoes
// the second, and resets the third when told to (SO_LINGER 0 and close),
// as a firewall or load balancer drops an idle flow.
Child intermediary()
{
	return Child("aud-mbox", [](const Channel &channel) {
		uint16_t port = 0;
		int listener = listening_socket(AF_INET, port);
		channel.send(port);
		int fds[3];
		for (int &fd : fds) {
			fd = accept_one(listener);
			channel.send(1);
		}
		pollfd ready[2] = {{fds[1], POLLIN, 0}, {channel.fd(), POLLIN, 0}};
		for (;;) {
			poll(ready, 2, -1);
			char buffer[64];
			if (ready[0].revents) {
				ssize_t n = recv(fds[1], buffer, sizeof(buffer), 0);
				if (n > 0)
					write_all(fds[1], buffer, static_cast<size_t>(n));
				else
					ready[0].fd = -1;
			}
			if (ready[1].revents) {
				if (channel.receive() != 1)
					return;
				set_linger(fds[2], true, 0);
				close(fds[2]);
				channel.send(1);
			}
		}
	});
}

TEST_F(AuditRisks, IdleConnectionWithoutKeepaliveIsListedAndTheIntermediaryResetsIt)
{
	Child server = intermediary();
	const uint16_t port = static_cast<uint16_t>(server.channel().receive());
	// The keepalive connection is the oldest: it has been idle, as far as
	// data goes, longer than the one listed.
	Child probing =
	    client_of("aud-keepalive", port, keep_alive_every_second, [](int, const Channel &) {});
	probing.channel().receive();
	server.channel().receive();
	Child busy = client_of(
	    "aud-busy", port, [](int) {}, exchange_until_told);
	busy.channel().receive();
	server.channel().receive();
	Child idle = client_of(
	    "aud-idle", port, [](int) {}, read_after_reset);
	const uint16_t idle_port = static_cast<uint16_t>(idle.channel().receive());
	server.channel().receive();

	AuditRows rows = audit_until(*daemon_, {"--idle-over", "2s"}, [&](const AuditRows &all) {
		return !rows_of(all, idle.pid()).empty();
	});
	AuditRows listed = rows_of(rows, idle.pid());
	ASSERT_EQ(listed.size(), 1u);
	const json &row = listed[0];
	EXPECT_EQ(row["risk"], "idle_without_keepalive");
	EXPECT_EQ(row["comm"], "aud-idle");
	EXPECT_EQ(row["local"], loopback(idle_port));
	EXPECT_EQ(row["remote"], loopback(port));
	EXPECT_EQ(row["state"], "ESTABLISHED");
	EXPECT_EQ(row["keepalive_on"], false);
	EXPECT_GT(row["idle_ms"].get<uint64_t>(), 2000u);
	EXPECT_EQ(row["predicted_cause"], "peer_idle_timeout");
	EXPECT_TRUE(rows_of(rows, probing.pid()).empty()) << "its probes go out every second";
	EXPECT_TRUE(rows_of(rows, busy.pid()).empty()) << "data flows both ways";
	// At the default of 300 s it is not idle for long.
	EXPECT_TRUE(rows_of(audit_rows(*daemon_, {}), idle.pid()).empty());

	// The intermediary gives up on it.
	expect_predicted_reset(server, row, idle_port, "received");
	idle.channel().send(1);
	EXPECT_EQ(idle.channel().receive(), static_cast<uint32_t>(ECONNRESET));

	// That reset came after seconds of silence: the audit now offers the
	// idle time it showed.
	CommandResult table = daemon_->rstwatch({"audit", "--idle-over", "2s"});
	EXPECT_NE(table.out.find("idle timeout seen in resets: ~"), std::string::npos) << table.out;
	EXPECT_NE(table.out.find("use --idle-over "), std::string::npos) << table.out;

	for (Child *child : {&probing, &busy, &idle})
		child->channel().send(1);
	server.channel().send(2);
	for (Child *child : {&probing, &busy, &idle, &server})
		EXPECT_EQ(child->wait(), 0);
}

} // namespace
} // namespace rstwatch::test
