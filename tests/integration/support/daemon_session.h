// One rstwatchd per test suite: started in SetUpTestSuite, checked for a
// clean exit in TearDownTestSuite, and asked for events by each test.
#pragma once

#include "daemon_process.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace rstwatch::test
{

class DaemonSession
{
public:
	// Starts rstwatchd --json with `args`; on failure remembers why.
	void start(std::vector<std::string> args);
	// SIGTERM; expects exit code 0 and the closing totals line.
	void stop();

	// Empty when the daemon runs; otherwise why it does not.
	const std::string &unavailable() const { return unavailable_; }
	bool reasons_available() const { return reasons_available_; }
	// False on kernels before 6.10, where rstwatchd says at start that
	// tcp:tcp_send_reset does not fire for resets sent for no socket.
	bool sent_without_socket_visible() const { return sent_without_socket_visible_; }
	DaemonProcess &daemon() { return *daemon_; }

	// The event with this direction and 4-tuple (as rstwatchd prints
	// endpoints); an empty object and a test failure when none comes.
	nlohmann::json expect_event(const std::string &direction, const std::string &local,
	                            const std::string &remote);
	// "unavailable" on kernels whose tracepoint has no reason.
	std::string reason(const char *name) const
	{
		return reasons_available_ ? name : "unavailable";
	}

private:
	std::unique_ptr<DaemonProcess> daemon_;
	std::string unavailable_ = "not started";
	bool reasons_available_ = false;
	bool sent_without_socket_visible_ = true;
};

// In a test body or SetUp: fails in CI, skips elsewhere, when the session's
// daemon could not start.
#define RSTWATCH_REQUIRE_DAEMON(session)                                                           \
	do {                                                                                       \
		if (!(session).unavailable().empty()) {                                            \
			if (::rstwatch::test::running_in_ci())                                     \
				FAIL()                                                             \
				    << "cannot run rstwatchd in CI: " << (session).unavailable();  \
			GTEST_SKIP() << "skipping: " << (session).unavailable();                   \
		}                                                                                  \
	} while (0)

} // namespace rstwatch::test
