// rstwatch's exit codes (README, "Querying"): scripts tell a rejected
// request, a missing daemon and a refused user apart by them.
#include "cli/connection.h"
#include "daemon/query/response.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace rstwatch::cli
{
namespace
{

// The Failure parse_response throws for `line`.
Failure failure_of(const std::string &line)
{
	try {
		parse_response(line);
	} catch (const Failure &failure) {
		return failure;
	}
	ADD_FAILURE() << line << " was taken as an answer";
	return {-1, ""};
}

// The Failure connecting to `path` throws.
Failure connect_failure(const std::string &path)
{
	try {
		Connection connection(path, 1000);
	} catch (const Failure &failure) {
		return failure;
	}
	ADD_FAILURE() << "connected to " << path;
	return {-1, ""};
}

TEST(CliExitCodes, EachDaemonErrorCodeHasItsExitCode)
{
	EXPECT_EQ(exit_code_for_error("bad_request"), 2);
	EXPECT_EQ(exit_code_for_error("unknown_command"), 2);
	EXPECT_EQ(exit_code_for_error("request_too_large"), 2);
	EXPECT_EQ(exit_code_for_error("permission_denied"), 4);
	EXPECT_EQ(exit_code_for_error("not_found"), 1);
	EXPECT_EQ(exit_code_for_error("too_many_clients"), 1);
	EXPECT_EQ(exit_code_for_error("timeout"), 1);
	EXPECT_EQ(exit_code_for_error("internal"), 1);
	// A code a newer daemon may add is a failure, not a usage error.
	EXPECT_EQ(exit_code_for_error("some_future_code"), 1);
	EXPECT_EQ(exit_code_for_error(""), 1);
}

TEST(CliExitCodes, TheDaemonsOwnErrorLinesMapThroughTheirCodes)
{
	using query::ErrorCode;
	const std::pair<ErrorCode, int> expected[] = {
	    {ErrorCode::BadRequest, 2},       {ErrorCode::UnknownCommand, 2},
	    {ErrorCode::NotFound, 1},         {ErrorCode::RequestTooLarge, 2},
	    {ErrorCode::PermissionDenied, 4}, {ErrorCode::TooManyClients, 1},
	    {ErrorCode::Timeout, 1},          {ErrorCode::Internal, 1},
	};
	for (const auto &[code, exit_code] : expected) {
		std::string line = query::error_line(code, "why");
		line.pop_back(); // the newline, which read_line strips
		Failure failure = failure_of(line);
		EXPECT_EQ(failure.code, exit_code) << line;
		EXPECT_EQ(failure.message,
		          "rstwatchd: " + std::string(query::error_code_name(code)) + ": why");
	}
}

TEST(CliExitCodes, ResponsesThatAreNotAnAnswerAreFailures)
{
	Failure no_error = failure_of(R"({"ok":false})");
	EXPECT_EQ(no_error.code, 1);
	EXPECT_EQ(no_error.message, "rstwatchd: internal: no message");
	Failure not_json = failure_of("HTTP/1.1 400 Bad Request");
	EXPECT_EQ(not_json.code, 1);
	EXPECT_EQ(not_json.message,
	          "rstwatchd sent something that is not JSON: HTTP/1.1 400 Bad Request");
	EXPECT_EQ(failure_of("[1,2]").code, 1);
	EXPECT_EQ(parse_response(R"({"ok":true,"command":"stats"})")["command"], "stats");
}

TEST(CliExitCodes, NobodyListeningIsNoDaemon)
{
	char directory[] = "/tmp/rstwatch-cli-test-XXXXXX";
	ASSERT_NE(mkdtemp(directory), nullptr) << strerror(errno);
	std::string missing = std::string(directory) + "/missing.sock";
	Failure no_file = connect_failure(missing);
	EXPECT_EQ(no_file.code, 3);
	EXPECT_EQ(no_file.message, "no rstwatchd is answering on " + missing +
	                               " (No such file or directory); is the rstwatch "
	                               "service running?");

	// What a daemon that died leaves behind: a socket file nothing accepts on.
	std::string stale = std::string(directory) + "/stale.sock";
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_GE(fd, 0);
	sockaddr_un address{};
	address.sun_family = AF_UNIX;
	std::strcpy(address.sun_path, stale.c_str());
	ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)), 0);
	EXPECT_EQ(connect_failure(stale).code, 3);
	close(fd);
	unlink(stale.c_str());
	rmdir(directory);

	EXPECT_EQ(connect_failure("/tmp/" + std::string(200, 'x')).code, 2);
}

} // namespace
} // namespace rstwatch::cli
