// rstwatchd's startup against the real system: what it cannot have (a busy
// metrics port, a socket directory without its parent) is one line naming
// it, and what is optional (the TTL hook without CAP_NET_ADMIN) is a warning.
#include "support/daemon_process.h"
#include "support/operator_fixture.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace rstwatch::test
{
namespace
{

using nlohmann::json;

class OperatorStartup : public OperatorTest
{
};

// DaemonProcess passes only what it is given: the option under test is the
// only one of its name on the command line.
TEST_F(OperatorStartup, BusyMetricsPortIsNamed)
{
	uint16_t port = 0;
	int listener = listening_socket(AF_INET, port);
	const std::string address = "127.0.0.1:" + std::to_string(port);
	DaemonProcess daemon;
	EXPECT_FALSE(daemon.start({"--quiet", "--metrics-listen", address}));
	close(listener);
	EXPECT_NE(daemon.error().find("rstwatchd: error: --metrics-listen: cannot listen on " +
	                              address + ": address in use"),
	          std::string::npos)
	    << daemon.error();
	EXPECT_EQ(daemon.error().find("CivetServer"), std::string::npos) << daemon.error();
}

TEST_F(OperatorStartup, SocketDirectoryIsMadeOnlyUnderAnExistingParent)
{
	char pattern[] = "/tmp/rstwatch-startup-socket-XXXXXX";
	ASSERT_NE(mkdtemp(pattern), nullptr) << strerror(errno);
	const std::string missing = std::string(pattern) + "/missing";
	DaemonProcess daemon;
	EXPECT_FALSE(daemon.start({"--quiet", "--socket", missing + "/dir/q.sock"}));
	EXPECT_NE(daemon.error().find("cannot create query socket directory " + missing +
	                              "/dir: " + missing + " does not exist"),
	          std::string::npos)
	    << daemon.error();
	struct stat info {
	};
	EXPECT_NE(stat(missing.c_str(), &info), 0) << "no directory tree was made";
	rmdir(pattern);
}

TEST_F(OperatorStartup, TtlTrackingWithoutNetAdminGoesOnWithoutTheHook)
{
	OperatorDaemon daemon("startup-ttl");
	ASSERT_TRUE(daemon.start(
	    {.args = {"--ttl-tracking"},
	     .prefix = {"/usr/bin/setpriv", "--bounding-set=-net_admin", "--inh-caps=-all", "--"}}))
	    << daemon.error();
	EXPECT_NE(daemon.stderr_text().find("warning: cgroup_skb/ingress missing: loading a "
	                                    "cgroup_skb program needs CAP_NET_ADMIN"),
	          std::string::npos)
	    << daemon.stderr_text();
	CommandResult stats = daemon.rstwatch({"stats", "--json"});
	ASSERT_EQ(stats.exit_code, 0) << stats.err;
	json hooks = json::parse(stats.out)["hooks"];
	for (const json &hook : hooks)
		EXPECT_EQ(hook["tracepoint"].get<std::string>().find("cgroup_skb"),
		          std::string::npos);
	EXPECT_FALSE(hooks.empty());
	uint16_t port = 0;
	int bound = bound_socket(AF_INET, port);
	refused_connects("ops-ttl", port, 1);
	close(bound);
	// The received side: every kernel reports it (the sent one, for no
	// socket, only from 6.10).
	EXPECT_EQ(
	    daemon
	        .query_events({"--remote-port", std::to_string(port), "--direction", "received"}, 1)
	        .size(),
	    1u);
	EXPECT_EQ(daemon.stop().exit_code, 0);
}

} // namespace
} // namespace rstwatch::test
