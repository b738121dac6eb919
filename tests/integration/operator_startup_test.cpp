// rstwatchd's startup against the real system: what it cannot have (a busy
// metrics port, a socket directory without its parent) is one line naming
// it.
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

} // namespace
} // namespace rstwatch::test
