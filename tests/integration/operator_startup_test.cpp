// rstwatchd's startup against the real system: what it cannot have (a socket
// directory without its parent) is one line naming it.
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
