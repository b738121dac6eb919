// rstwatch audit at scale: 20,000 sockets held in a network namespace of the
// test's own (both ends of 10,000 connections), every one of them found and
// attributed, while a reset storm goes on in the host namespace and every
// one of its resets is ingested.
#include "support/audit_support.h"
#include "support/operator_fixture.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace rstwatch::test
{
namespace
{

using nlohmann::json;

constexpr int kConnections = 10000;  // two sockets each, both held
constexpr int kStormConnects = 5000; // a reset sent and one received each

class AuditScale : public OperatorTest
{
protected:
	static void SetUpTestSuite()
	{
		start_suite_daemon("audit-scale", {.args = {"--store-events", "262144"}});
	}

	static json stats()
	{
		CommandResult result = daemon_->rstwatch({"stats", "--json"});
		EXPECT_EQ(result.exit_code, 0) << result.err;
		return json::parse(result.out, nullptr, false);
	}

	// One audit over the protocol: {"command":"audit", ...}.
	static json audit(const std::string &request)
	{
		RawQueryClient client(daemon_->socket_path());
		EXPECT_TRUE(client.send(request + "\n"));
		std::optional<std::string> line = client.read_line(std::chrono::seconds(60));
		EXPECT_TRUE(line) << "no answer to " << request;
		return line ? json::parse(*line, nullptr, false) : json::object();
	}
};

// Raises the soft limit on descriptors to what `needed` takes, and the hard
// limit too where it is lower (root may: a minimal init, as in the kernel
// matrix's guests, leaves it at 4096); throws when that is refused.
void allow_descriptors(rlim_t needed)
{
	rlimit files{};
	getrlimit(RLIMIT_NOFILE, &files);
	if (files.rlim_max < needed)
		files.rlim_max = needed;
	files.rlim_cur = files.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &files) != 0)
		throw std::runtime_error("cannot raise RLIMIT_NOFILE to " +
		                         std::to_string(files.rlim_cur) + ": " + strerror(errno));
}

// Inside `ns`, one end of each of kConnections connections: the accepting
// end (listening on a port it reports) or the connecting end. Two processes,
// since the hard limit on descriptors may be as low as 20,000.
Child connection_ends(const std::string &comm, const NetNamespace &ns, uint16_t connect_to)
{
	return Child(comm, [&ns, connect_to](const Channel &channel) {
		ns.enter();
		allow_descriptors(kConnections + 64);
		std::vector<int> fds;
		if (connect_to) {
			for (int i = 0; i < kConnections; i++) {
				uint16_t client_port = 0;
				int fd = connect_ipv4("127.0.0.1", connect_to, client_port);
				if (fd < 0)
					throw std::runtime_error("connect " + std::to_string(i) +
					                         " failed");
				fds.push_back(fd);
			}
		} else {
			uint16_t port = 0;
			int listener = listening_socket(AF_INET, port);
			listen(listener, 4096);
			channel.send(port);
			for (int i = 0; i < kConnections; i++)
				fds.push_back(accept_one(listener));
		}
		channel.send(static_cast<uint32_t>(fds.size()));
		channel.receive(std::chrono::seconds(300));
	});
}

// The group of this process in an audit summary, or an empty object.
json group_of(const json &summary, pid_t pid)
{
	for (const json &group : summary["groups"]) {
		if (group["pid"] == pid)
			return group;
	}
	return json::object();
}

TEST_F(AuditScale, TwentyThousandSocketsInANamespaceWhileAResetStormIsIngested)
{
	NetNamespace ns("audit");
	Child acceptor = connection_ends("aud-accept", ns, 0);
	const uint16_t listen_port = static_cast<uint16_t>(acceptor.channel().receive());
	Child connector = connection_ends("aud-connect", ns, listen_port);
	for (Child *ends : {&acceptor, &connector})
		ASSERT_EQ(ends->channel().receive(std::chrono::seconds(120)),
		          static_cast<uint32_t>(kConnections));
	const json before = stats();

	uint16_t port = 0;
	int bound = bound_socket(AF_INET, port);
	std::atomic<bool> storming = true;
	std::thread storm([&] {
		refused_connects("aud-storm", port, kStormConnects);
		storming = false;
	});
	// Audits, one after the other, for as long as the storm lasts: every
	// socket of the two is idle past a second without keepalive.
	const std::string request = R"({"command":"audit","summary":true,"idle_over_ms":1000})";
	int audits = 0;
	json last;
	do {
		last = audit(request);
		ASSERT_EQ(last["ok"], true) << last.dump();
		audits++;
	} while (storming);
	storm.join();
	close(bound);
	EXPECT_GE(audits, 1);
	auto all_found = [&](const json &summary) {
		return group_of(summary, acceptor.pid()).value("count", 0) == kConnections &&
		       group_of(summary, connector.pid()).value("count", 0) == kConnections;
	};
	// Every socket has been idle for a second by now, or soon.
	for (int attempt = 0; attempt < 50 && !all_found(last); attempt++) {
		usleep(100000);
		last = audit(request);
	}
	EXPECT_GE(last["sockets"].get<uint64_t>(), static_cast<uint64_t>(2 * kConnections));
	for (auto [ends, comm] :
	     {std::pair{&acceptor, "aud-accept"}, {&connector, "aud-connect"}}) {
		json group = group_of(last, ends->pid());
		EXPECT_EQ(group["comm"], comm);
		EXPECT_EQ(group["risk"], "idle_without_keepalive");
		EXPECT_EQ(group["count"], kConnections);
	}

	// They live in the test's namespace, not the host's.
	json one = audit(R"({"command":"audit","idle_over_ms":1000,"limit":1,"pid":)" +
	                 std::to_string(connector.pid()) + "}");
	ASSERT_EQ(one["rows"].size(), 1u) << one.dump();
	EXPECT_EQ(one["rows"][0]["netns"], namespace_inode("/run/netns/" + ns.name()));
	EXPECT_EQ(one["rows"][0]["remote"], "127.0.0.1:" + std::to_string(listen_port));

	// Ingestion went on meanwhile: every reset of the storm is stored, none
	// was lost.
	std::vector<json> sent =
	    daemon_->query_events({"--local-port", std::to_string(port)}, kStormConnects);
	std::vector<json> received =
	    daemon_->query_events({"--remote-port", std::to_string(port)}, kStormConnects);
	EXPECT_EQ(sent.size(), static_cast<size_t>(kStormConnects));
	EXPECT_EQ(received.size(), static_cast<size_t>(kStormConnects));
	EXPECT_EQ(stats()["lost_events"], before["lost_events"]);

	for (Child *ends : {&acceptor, &connector}) {
		ends->channel().send(1);
		EXPECT_EQ(ends->wait(), 0);
	}
}

} // namespace
} // namespace rstwatch::test
