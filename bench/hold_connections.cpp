// hold_connections: opens --connections established loopback connections in
// the current network namespace, both ends held, and keeps them until SIGTERM
// or SIGINT: the live sockets `rstwatch audit` is timed over
// (docs/benchmarks.md, "Auditing live sockets"). The ends are spread over
// child processes so that no process needs more descriptors than a common
// hard limit allows. Prints one JSON line once every connection is up.
#include "common/unique_fd.h"

#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace
{

// Connections per process: both ends are held, so twice the descriptors.
constexpr unsigned kPerProcess = 8000;

[[noreturn]] void fail(const std::string &what)
{
	std::fprintf(stderr, "hold_connections: %s: %s\n", what.c_str(), std::strerror(errno));
	_exit(1);
}

sockaddr_in loopback(uint16_t port)
{
	sockaddr_in address{};
	address.sin_family = AF_INET;
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	address.sin_port = htons(port);
	return address;
}

// Opens `count` connections to a listener of its own; returns with them held.
void open_connections(unsigned count, std::vector<rstwatch::UniqueFd> &held)
{
	rlimit files{};
	getrlimit(RLIMIT_NOFILE, &files);
	files.rlim_cur = files.rlim_max;
	setrlimit(RLIMIT_NOFILE, &files);
	rstwatch::UniqueFd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	sockaddr_in address = loopback(0);
	socklen_t length = sizeof(address);
	if (!listener || bind(listener.get(), reinterpret_cast<sockaddr *>(&address), length) ||
	    listen(listener.get(), 4096) ||
	    getsockname(listener.get(), reinterpret_cast<sockaddr *>(&address), &length))
		fail("listener");
	for (unsigned i = 0; i < count; i++) {
		rstwatch::UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
		if (!client ||
		    connect(client.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)))
			fail("connect " + std::to_string(i));
		rstwatch::UniqueFd accepted(
		    accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
		if (!accepted)
			fail("accept " + std::to_string(i));
		held.push_back(std::move(client));
		held.push_back(std::move(accepted));
	}
}

} // namespace

int main(int argc, char **argv)
{
	unsigned connections = 25000;
	CLI::App app{"hold_connections: holds established loopback connections (both ends) "
	             "until SIGTERM or SIGINT, spread over processes of at most " +
	             std::to_string(kPerProcess) + " connections each"};
	app.add_option("--connections", connections, "Connections to hold")
	    ->check(CLI::Range(1u, 1000000u))
	    ->capture_default_str();
	CLI11_PARSE(app, argc, argv);

	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, nullptr);
	std::vector<pid_t> children;
	int ready[2];
	if (pipe(ready))
		fail("pipe");
	for (unsigned done = 0; done < connections; done += kPerProcess) {
		unsigned count = std::min(kPerProcess, connections - done);
		pid_t child = fork();
		if (child < 0)
			fail("fork");
		if (child == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(ready[0]);
			std::vector<rstwatch::UniqueFd> held;
			open_connections(count, held);
			char byte = 1;
			if (write(ready[1], &byte, 1) != 1)
				fail("report");
			int signal = 0;
			sigwait(&stop, &signal);
			_exit(0);
		}
		children.push_back(child);
	}
	close(ready[1]);
	for (size_t up = 0; up < children.size(); up++) {
		char byte = 0;
		if (read(ready[0], &byte, 1) != 1)
			fail("a child failed");
	}
	std::printf("{\"connections\":%u,\"sockets\":%u,\"processes\":%zu}\n", connections,
	            2 * connections, children.size());
	std::fflush(stdout);
	int signal = 0;
	sigwait(&stop, &signal);
	for (pid_t child : children)
		kill(child, SIGTERM);
	for (pid_t child : children)
		waitpid(child, nullptr, 0);
	return 0;
}
