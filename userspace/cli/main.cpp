// rstwatch: asks a running rstwatchd about recent resets, and the live
// sockets headed for one (audit), over its query socket and prints aligned
// tables (or the daemon's JSON with --json).
//
// Exit codes: 0 success, 1 any other failure (including an event id the
// store no longer holds), 2 bad request (usage or the daemon rejected it),
// 3 no daemon answering on the socket, 4 permission denied.
#include "cli/commands.h"
#include "cli/connection.h"
#include "common/text_escape.h"

#include <cstdio>
#include <exception>

int main(int argc, char **argv)
{
	using namespace rstwatch::cli;

	CommandLine command_line;
	try {
		command_line.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		int code = command_line.app().exit(e);
		return code == 0 ? kSuccess : kBadRequest;
	}

	try {
		Connection connection(command_line.socket_path(), command_line.timeout_ms());
		return command_line.run(connection);
	} catch (const Failure &failure) {
		std::fflush(stdout);
		// The daemon's error text may quote the request back.
		std::fprintf(stderr, "rstwatch: %s\n",
		             rstwatch::escaped_text(failure.message).c_str());
		return failure.code;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "rstwatch: %s\n", rstwatch::escaped_text(e.what()).c_str());
		return kFailure;
	}
}
