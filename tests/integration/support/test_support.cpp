#include "test_support.h"

#include "subprocess.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <thread>

namespace rstwatch::test
{

void Channel::send(uint32_t value) const
{
	if (::send(fd_, &value, sizeof(value), MSG_NOSIGNAL) != sizeof(value))
		throw std::runtime_error("channel send failed: " + std::string(strerror(errno)));
}

uint32_t Channel::receive(std::chrono::milliseconds timeout) const
{
	pollfd pfd = {fd_, POLLIN, 0};
	if (poll(&pfd, 1, static_cast<int>(timeout.count())) != 1)
		throw std::runtime_error("channel receive timed out");
	uint32_t value = 0;
	if (recv(fd_, &value, sizeof(value), MSG_WAITALL) != sizeof(value))
		throw std::runtime_error("channel peer went away");
	return value;
}

Child::Child(const std::string &comm, const std::function<void(const Channel &)> &body)
{
	int fds[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds))
		throw std::runtime_error("socketpair failed");
	pid_ = fork();
	if (pid_ < 0)
		throw std::runtime_error("fork failed");
	if (pid_ == 0) {
		close(fds[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, comm.c_str());
		int code = 0;
		try {
			body(Channel(fds[1]));
		} catch (const std::exception &e) {
			fprintf(stderr, "child %s: %s\n", comm.c_str(), e.what());
			code = 1;
		}
		_exit(code);
	}
	close(fds[1]);
	channel_ = Channel(fds[0]);
}

Child::~Child()
{
	if (!reaped_ && pid_ > 0) {
		kill(pid_, SIGKILL);
		wait();
	}
	close(channel_.fd());
}

int Child::wait()
{
	if (!reaped_) {
		while (waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
		}
		reaped_ = true;
	}
	if (WIFSIGNALED(status_))
		return 128 + WTERMSIG(status_);
	return WEXITSTATUS(status_);
}

std::string Endpoint::address() const
{
	return family == AF_INET6 ? "::1" : "127.0.0.1";
}

std::string Endpoint::text() const
{
	if (family == AF_INET6)
		return "[::1]:" + std::to_string(port);
	return "127.0.0.1:" + std::to_string(port);
}

namespace
{

socklen_t loopback(int family, uint16_t port, sockaddr_storage &storage)
{
	memset(&storage, 0, sizeof(storage));
	if (family == AF_INET6) {
		auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&storage);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(port);
		return sizeof(*sin6);
	}
	auto *sin = reinterpret_cast<sockaddr_in *>(&storage);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(port);
	return sizeof(*sin);
}

uint16_t local_port(int fd)
{
	sockaddr_storage storage;
	socklen_t length = sizeof(storage);
	getsockname(fd, reinterpret_cast<sockaddr *>(&storage), &length);
	if (storage.ss_family == AF_INET6)
		return ntohs(reinterpret_cast<sockaddr_in6 *>(&storage)->sin6_port);
	return ntohs(reinterpret_cast<sockaddr_in *>(&storage)->sin_port);
}

// Tests filter stored resets by the ports they bound. If those came from the
// kernel's ephemeral range, an earlier test's connect() could have used the
// same port and its resets would be counted again. So the ports tests bind
// come from just below that range, each handed out once per test process
// (its forked children included).
constexpr int kTestPorts = 8192;

int ephemeral_low()
{
	FILE *range = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	int low = 0;
	int high = 0;
	if (range) {
		if (fscanf(range, "%d %d", &low, &high) != 2)
			low = 0;
		fclose(range);
	}
	return low;
}

// Shared with every child the tests fork, which bind ports of their own; it
// is mapped at start-up, before any fork.
std::atomic<int> &ports_handed_out()
{
	static std::atomic<int> *shared = [] {
		void *memory = mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE,
		                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (memory == MAP_FAILED)
			throw std::runtime_error("mmap for the port counter failed: " +
			                         std::string(strerror(errno)));
		return new (memory) std::atomic<int>(static_cast<int>(getpid() % kTestPorts));
	}();
	return *shared;
}

[[maybe_unused]] const bool port_counter_mapped = (ports_handed_out(), true);

} // namespace

int bound_socket(int family, uint16_t &port)
{
	static const int below = ephemeral_low();
	std::atomic<int> &used = ports_handed_out();
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		throw std::runtime_error("socket failed: " + std::string(strerror(errno)));
	sockaddr_storage storage;
	if (below <= kTestPorts + 1024) {
		// An unusual range leaves no room below it: let the kernel choose.
		socklen_t length = loopback(family, 0, storage);
		if (bind(fd, reinterpret_cast<sockaddr *>(&storage), length))
			throw std::runtime_error("bind failed: " + std::string(strerror(errno)));
		port = local_port(fd);
		return fd;
	}
	for (int attempt = 0; attempt < kTestPorts; attempt++) {
		uint16_t candidate = static_cast<uint16_t>(below - 1 - used++ % kTestPorts);
		socklen_t length = loopback(family, candidate, storage);
		if (bind(fd, reinterpret_cast<sockaddr *>(&storage), length) == 0) {
			port = candidate;
			return fd;
		}
		if (errno != EADDRINUSE)
			throw std::runtime_error("bind to port " + std::to_string(candidate) +
			                         " failed: " + strerror(errno));
	}
	close(fd);
	throw std::runtime_error("bind failed: every test port below " + std::to_string(below) +
	                         " is in use");
}

int listening_socket(int family, uint16_t &port)
{
	int fd = bound_socket(family, port);
	if (listen(fd, 16))
		throw std::runtime_error("listen failed: " + std::string(strerror(errno)));
	return fd;
}

int connect_from_known_port(int family, uint16_t server_port, uint16_t &client_port)
{
	int fd = bound_socket(family, client_port);
	sockaddr_storage storage;
	socklen_t length = loopback(family, server_port, storage);
	if (connect(fd, reinterpret_cast<sockaddr *>(&storage), length)) {
		int err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

void set_linger(int fd, bool on, int seconds)
{
	linger value = {on ? 1 : 0, seconds};
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, sizeof(value)))
		throw std::runtime_error("SO_LINGER failed: " + std::string(strerror(errno)));
}

bool wait_until_readable_bytes(int fd, int bytes, std::chrono::milliseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	while (std::chrono::steady_clock::now() < deadline) {
		int queued = 0;
		if (ioctl(fd, FIONREAD, &queued) == 0 && queued == bytes)
			return true;
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	}
	return false;
}

void write_all(int fd, const void *data, size_t size)
{
	const char *bytes = static_cast<const char *>(data);
	while (size > 0) {
		ssize_t n = ::send(fd, bytes, size, MSG_NOSIGNAL);
		if (n <= 0)
			throw std::runtime_error("send failed: " + std::string(strerror(errno)));
		bytes += n;
		size -= static_cast<size_t>(n);
	}
}

NetNamespace::NetNamespace(const std::string &suffix)
    : name_("rstw-" + std::to_string(getpid()) + "-" + suffix)
{
	run_host_command("ip netns add " + name_);
	run("ip link set lo up");
}

NetNamespace::~NetNamespace()
{
	if (run_command({"/bin/sh", "-c", "ip netns delete " + name_}).exit_code != 0)
		fprintf(stderr, "warning: could not delete namespace %s\n", name_.c_str());
}

void NetNamespace::run(const std::string &command) const
{
	run_host_command("ip netns exec " + name_ + " " + command);
}

void NetNamespace::enter() const
{
	std::string path = "/run/netns/" + name_;
	int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
		throw std::runtime_error("cannot enter namespace " + name_ + ": " +
		                         strerror(errno));
	close(fd);
}

void run_host_command(const std::string &command)
{
	CommandResult result = run_command({"/bin/sh", "-c", command + " 2>&1"});
	if (result.exit_code != 0)
		throw std::runtime_error("command failed (" + std::to_string(result.exit_code) +
		                         "): " + command + "\n" + result.out);
}

void pin_to_cpu(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		throw std::runtime_error("sched_setaffinity failed: " +
		                         std::string(strerror(errno)));
}

int connect_ipv4(const std::string &address, uint16_t port, uint16_t &client_port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in sin{};
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, address.c_str(), &sin.sin_addr);
	if (connect(fd, reinterpret_cast<sockaddr *>(&sin), sizeof(sin)) != 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	client_port = local_port(fd);
	return fd;
}

int listen_ipv4(const std::string &address, uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sockaddr_in sin{};
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, address.c_str(), &sin.sin_addr);
	if (bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof(sin)) != 0 || listen(fd, 16) != 0)
		throw std::runtime_error("listen on " + address + " failed: " + strerror(errno));
	return fd;
}

bool running_in_ci()
{
	const char *ci = getenv("CI");
	return ci && (std::string(ci) == "true" || std::string(ci) == "1");
}

} // namespace rstwatch::test
