// rstwatch's side of the query socket: connecting, one request line out,
// response lines in, and what a failure of either means for the exit code.
#pragma once

#include "common/unique_fd.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace rstwatch::cli
{

// The process's exit codes (README, "Querying"): scripts tell the cases
// apart by them.
enum ExitCode : int {
	kSuccess = 0,
	kFailure = 1,
	kBadRequest = 2,
	kNoDaemon = 3,
	kPermissionDenied = 4,
};

// An error that ends the program with this exit code and message.
struct Failure {
	int code;
	std::string message;
};

// The exit code for an error code the daemon answered with.
int exit_code_for_error(std::string_view code);

class Connection
{
public:
	// Throws Failure: kNoDaemon when nothing listens at `path`,
	// kPermissionDenied when its mode keeps us out.
	Connection(const std::string &path, int timeout_ms);

	// Returns 0, or the errno of a failed send. A failed send is not
	// reported at once: the daemon may have said why it hung up (refused
	// the connection) before the request went out, and that is the
	// better message.
	int send_line(const std::string &line);
	// The next line, or nullopt when the daemon closed the connection.
	// `wait_limited` false: no timeout (follow).
	std::optional<std::string> read_line(bool wait_limited = true);

private:
	UniqueFd fd_;
	int timeout_ms_;
	std::string buffer_;
};

// The response on `line` when it is "ok"; otherwise throws Failure with the
// daemon's error code and message.
nlohmann::json parse_response(const std::string &line);
// The daemon's first answer to `request`, unparsed.
std::string send_request_raw(Connection &connection, const nlohmann::json &request);
// The daemon's first answer to `request`, parsed by parse_response().
nlohmann::json send_request(Connection &connection, const nlohmann::json &request);

} // namespace rstwatch::cli
