// Child processes with a name of their own, talking to the test over a
// socketpair, and small socket helpers: the building blocks of scenarios
// that make real sockets misbehave.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rstwatch::test
{

class Channel
{
public:
	explicit Channel(int fd = -1) : fd_(fd) {}
	void send(uint32_t value) const;
	// Throws std::runtime_error on timeout or a closed peer.
	uint32_t receive(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
	int fd() const { return fd_; }

private:
	int fd_;
};

// A forked process whose comm is set to `comm` before `body` runs.
class Child
{
public:
	Child(const std::string &comm, const std::function<void(const Channel &)> &body);
	~Child();
	Child(const Child &) = delete;
	Child &operator=(const Child &) = delete;

	pid_t pid() const { return pid_; }
	const Channel &channel() const { return channel_; }
	// Exit code, or 128 + signal.
	int wait();

private:
	pid_t pid_ = -1;
	Channel channel_;
	bool reaped_ = false;
	int status_ = 0;
};

struct Endpoint {
	int family = AF_INET;
	uint16_t port = 0;
	// "127.0.0.1:80" or "[::1]:80", as rstwatchd prints it.
	std::string text() const;
	std::string address() const;
};

// Socket bound to the loopback address of `family` on a port no earlier call
// in this test process or its children returned, below the kernel's
// ephemeral range so no connect() elsewhere picks it.
int bound_socket(int family, uint16_t &port);
int listening_socket(int family, uint16_t &port);
// Connects a fresh socket, bound first so its port is known; returns fd or
// -errno when connect fails (the port is still reported).
int connect_from_known_port(int family, uint16_t server_port, uint16_t &client_port);
void set_linger(int fd, bool on, int seconds);
// Polls FIONREAD until exactly `bytes` are queued.
bool wait_until_readable_bytes(int fd, int bytes, std::chrono::milliseconds timeout);
// Connects to an IPv4 address:port in whatever namespace the caller is in.
int connect_ipv4(const std::string &address, uint16_t port, uint16_t &client_port);
int listen_ipv4(const std::string &address, uint16_t port);
void write_all(int fd, const void *data, size_t size);

// A network namespace made by the test ("ip netns add"), deleted with it.
class NetNamespace
{
public:
	explicit NetNamespace(const std::string &suffix);
	~NetNamespace();
	NetNamespace(const NetNamespace &) = delete;
	NetNamespace &operator=(const NetNamespace &) = delete;

	const std::string &name() const { return name_; }
	// Runs a command inside the namespace ("ip netns exec"); throws on
	// failure with the command's output.
	void run(const std::string &command) const;
	// Moves the calling process (a Child) into the namespace.
	void enter() const;

private:
	std::string name_;
};

// Runs a shell command in the host namespace; throws with its output.
void run_host_command(const std::string &command);
// Pins the calling process to one CPU.
void pin_to_cpu(int cpu);

// Integration tests need root and the real BPF programs. Outside CI they may
// skip with the reason; with CI=true a missing prerequisite is a failure.
bool running_in_ci();

} // namespace rstwatch::test
