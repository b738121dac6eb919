// Owners the kernel cannot name at the reset: resets handled in softirq on
// sockets a process holds, resolved by rstwatchd from the socket's inode
// (docs/design.md, "Attribution"). Each case makes the holder situation for
// real: a descriptor passed over SCM_RIGHTS, held twice, killed right after
// the reset, or only in flight in a unix socket's queue.
#include "support/daemon_session.h"
#include "support/proxies.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

namespace rstwatch::test
{
namespace
{

using nlohmann::json;

// The lookup runs at a drain: a holder that dies within microseconds of the
// reset is gone long before.
constexpr int kDrainIntervalMs = 1000;

std::string loopback(uint16_t port)
{
	return "127.0.0.1:" + std::to_string(port);
}

void send_descriptor(int unix_fd, int fd)
{
	char byte = 'f';
	iovec data{&byte, 1};
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
	msghdr message{};
	message.msg_iov = &data;
	message.msg_iovlen = 1;
	message.msg_control = control;
	message.msg_controllen = sizeof(control);
	cmsghdr *header = CMSG_FIRSTHDR(&message);
	header->cmsg_level = SOL_SOCKET;
	header->cmsg_type = SCM_RIGHTS;
	header->cmsg_len = CMSG_LEN(sizeof(int));
	std::memcpy(CMSG_DATA(header), &fd, sizeof(int));
	if (sendmsg(unix_fd, &message, 0) != 1)
		throw std::runtime_error("sendmsg SCM_RIGHTS: " + std::string(strerror(errno)));
}

int receive_descriptor(int unix_fd)
{
	char byte = 0;
	iovec data{&byte, 1};
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
	msghdr message{};
	message.msg_iov = &data;
	message.msg_iovlen = 1;
	message.msg_control = control;
	message.msg_controllen = sizeof(control);
	if (recvmsg(unix_fd, &message, 0) != 1)
		throw std::runtime_error("recvmsg SCM_RIGHTS: " + std::string(strerror(errno)));
	cmsghdr *header = CMSG_FIRSTHDR(&message);
	if (!header || header->cmsg_type != SCM_RIGHTS)
		throw std::runtime_error("no descriptor in the message");
	int fd = -1;
	std::memcpy(&fd, CMSG_DATA(header), sizeof(int));
	return fd;
}

// A unix socketpair made before the children fork: each side keeps one end.
struct UnixPair {
	int ends[2] = {-1, -1};
	UnixPair()
	{
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0)
			throw std::runtime_error("socketpair: " + std::string(strerror(errno)));
	}
	~UnixPair()
	{
		close(ends[0]);
		close(ends[1]);
	}
};

// Accepts one connection; 'k' closes it with SO_LINGER {1, 0}: a reset to
// the other end, which has nothing of its own in a socket call.
void resetting_server(const Channel &channel)
{
	uint16_t port = 0;
	int listener = listening_socket(AF_INET, port);
	channel.send(port);
	int connection = accept(listener, nullptr, nullptr);
	channel.send(1);
	if (channel.receive(std::chrono::seconds(30)) == 'k') {
		set_linger(connection, true, 0);
		close(connection);
		channel.send(1);
	}
	channel.receive(std::chrono::seconds(30));
}

// Whether /proc/PID/syscall says the process is blocked in an epoll wait.
bool blocked_in_epoll(pid_t pid)
{
	std::ifstream file("/proc/" + std::to_string(pid) + "/syscall");
	long number = -1;
	if (!(file >> number))
		return false;
#ifdef SYS_epoll_wait
	if (number == SYS_epoll_wait)
		return true;
#endif
	return number == SYS_epoll_pwait || number == SYS_epoll_pwait2;
}

// Until the process sleeps in epoll_wait, for at most 10 s.
void wait_until_waiting_in_epoll(pid_t pid)
{
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
	while (!blocked_in_epoll(pid) && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

class Owners : public ::testing::Test
{
protected:
	static void SetUpTestSuite()
	{
		session_.start({"--drain-interval-ms", std::to_string(kDrainIntervalMs)});
	}
	static void TearDownTestSuite() { session_.stop(); }
	void SetUp() override { RSTWATCH_REQUIRE_DAEMON(session_); }

public:
	// The received reset on the socket bound to `local_port`.
	static json received_by_client(uint16_t local_port, uint16_t remote_port)
	{
		auto event = session_.daemon().wait_for(
		    [&](const json &e) {
			    return e["direction"] == "received" &&
			           e["local"] == loopback(local_port) &&
			           e["remote"] == loopback(remote_port);
		    },
		    std::chrono::milliseconds(3 * kDrainIntervalMs + 2000));
		if (!event) {
			ADD_FAILURE() << "no received reset on " << loopback(local_port)
			              << "; rstwatchd stderr:\n"
			              << session_.daemon().stderr_text();
			return json::object();
		}
		return *event;
	}

protected:
	static inline DaemonSession session_;
};

// A client connects and hands its socket over SCM_RIGHTS to another
// process, keeping its own copy or not; then the server resets the
// connection, and `check` gets the reset the client side received.
void reset_passed_socket(
    const char *sender_name, const char *receiver_name, bool sender_keeps,
    const std::function<void(const json &received, pid_t sender, pid_t receiver)> &check)
{
	UnixPair pair;
	Child server("rstw-srv", resetting_server);
	const uint16_t server_port = server.channel().receive();
	Child receiver(receiver_name, [&pair](const Channel &channel) {
		int fd = receive_descriptor(pair.ends[1]);
		channel.send(fd >= 0 ? 1 : 0);
		channel.receive(std::chrono::seconds(30));
	});
	Child sender(sender_name, [&pair, server_port, sender_keeps](const Channel &channel) {
		uint16_t port = 0;
		int fd = connect_from_known_port(AF_INET, server_port, port);
		send_descriptor(pair.ends[0], fd);
		if (!sender_keeps)
			close(fd);
		channel.send(port);
		channel.receive(std::chrono::seconds(30));
	});
	const uint16_t client_port = sender.channel().receive();
	ASSERT_EQ(receiver.channel().receive(), 1u);
	ASSERT_EQ(server.channel().receive(), 1u);
	server.channel().send('k');
	ASSERT_EQ(server.channel().receive(), 1u);
	check(Owners::received_by_client(client_port, server_port), sender.pid(), receiver.pid());
	for (Child *child : {&server, &receiver, &sender})
		child->channel().send(0);
}

// The sender closes its own copy: the process that received the socket is
// its only holder.
TEST_F(Owners, SocketPassedOverScmRightsIsOwnedByItsReceiver)
{
	reset_passed_socket(
	    "rstw-sender", "rstw-receiver", false, [](const json &received, pid_t, pid_t receiver) {
		    EXPECT_EQ(received["owner_source"], "socket_owner") << received.dump();
		    EXPECT_EQ(received["pid"], receiver);
		    EXPECT_EQ(received["comm"], "rstw-receiver");
		    EXPECT_EQ(received["current_is_owner"], false);
		    EXPECT_TRUE(received["holders"].is_null()) << received.dump();
		    EXPECT_NE(received["socket_inode"], 0);
	    });
}

// Both processes keep the socket: both are named, the lowest pid first.
TEST_F(Owners, SocketHeldByTwoProcessesNamesBoth)
{
	reset_passed_socket(
	    "rstw-first", "rstw-second", true,
	    [](const json &received, pid_t sender, pid_t receiver) {
		    const pid_t lowest = std::min(sender, receiver);
		    EXPECT_EQ(received["owner_source"], "socket_owner") << received.dump();
		    EXPECT_EQ(received["pid"], lowest);
		    ASSERT_TRUE(received["holders"].is_array()) << received.dump();
		    ASSERT_EQ(received["holders"].size(), 2u) << received.dump();
		    EXPECT_EQ(received["holders"][0]["pid"], lowest);
		    EXPECT_EQ(received["holders"][1]["pid"], std::max(sender, receiver));
		    const std::string first_comm = lowest == sender ? "rstw-first" : "rstw-second";
		    EXPECT_EQ(received["holders"][0]["comm"], first_comm);
		    EXPECT_EQ(received["comm"], first_comm);
	    });
}

// The holder waits in poll() (not in a socket call: the reset is handled in
// softirq) and kills itself the moment the reset wakes it, long before
// rstwatchd looks: its exit closed the socket, and the kernel's note names
// it, exiting.
TEST_F(Owners, HolderKilledBeforeTheLookupIsExitedNeverAnotherProcess)
{
	Child server("rstw-srv", resetting_server);
	const uint16_t server_port = server.channel().receive();
	Child holder("rstw-doomed", [server_port](const Channel &channel) {
		uint16_t port = 0;
		int fd = connect_from_known_port(AF_INET, server_port, port);
		channel.send(port);
		pollfd wait{fd, POLLIN, 0};
		while (poll(&wait, 1, 30000) < 0 && errno == EINTR) {
		}
		raise(SIGKILL);
	});
	const uint16_t client_port = holder.channel().receive();
	ASSERT_EQ(server.channel().receive(), 1u);
	server.channel().send('k');
	ASSERT_EQ(server.channel().receive(), 1u);
	EXPECT_EQ(holder.wait(), 128 + SIGKILL);

	json received = received_by_client(client_port, server_port);
	EXPECT_EQ(received["owner_source"], "exited") << received.dump();
	EXPECT_EQ(received["pid"], holder.pid());
	EXPECT_EQ(received["comm"], "rstw-doomed");
	EXPECT_EQ(received["exiting"], true);
	EXPECT_EQ(received["exit_signal"], SIGKILL);
	server.channel().send(0);
}

// An accepted socket that no process holds (its only reference is a
// descriptor in flight in a unix socket's queue): nobody to look up, no
// close to note, so the owner of its listener is named, and said to be that.
TEST_F(Owners, AcceptedSocketNoProcessHoldsFallsBackToItsListener)
{
	UnixPair pair;
	Child server("rstw-listener", [&pair](const Channel &channel) {
		uint16_t port = 0;
		int listener = listening_socket(AF_INET, port);
		channel.send(port);
		int connection = accept(listener, nullptr, nullptr);
		send_descriptor(pair.ends[0], connection);
		close(connection);
		channel.send(1);
		channel.receive(std::chrono::seconds(30));
	});
	const uint16_t server_port = server.channel().receive();
	Child client("rstw-resetter", [server_port](const Channel &channel) {
		uint16_t port = 0;
		int fd = connect_from_known_port(AF_INET, server_port, port);
		channel.send(port);
		channel.receive(std::chrono::seconds(30));
		set_linger(fd, true, 0);
		close(fd);
		channel.send(1);
		channel.receive(std::chrono::seconds(30));
	});
	const uint16_t client_port = client.channel().receive();
	ASSERT_EQ(server.channel().receive(), 1u);
	client.channel().send('k');
	ASSERT_EQ(client.channel().receive(), 1u);

	json received = received_by_client(server_port, client_port);
	EXPECT_EQ(received["owner_source"], "listener") << received.dump();
	EXPECT_EQ(received["pid"], server.pid());
	EXPECT_EQ(received["comm"], "rstw-listener");
	server.channel().send(0);
	client.channel().send(0);
}

// The same for a connected socket, whose local port no listener has:
// unresolved, with no process named.
TEST_F(Owners, ConnectedSocketNoProcessHoldsIsUnresolved)
{
	UnixPair pair;
	Child server("rstw-srv", resetting_server);
	const uint16_t server_port = server.channel().receive();
	Child client("rstw-handoff", [&pair, server_port](const Channel &channel) {
		uint16_t port = 0;
		int fd = connect_from_known_port(AF_INET, server_port, port);
		send_descriptor(pair.ends[0], fd);
		close(fd);
		channel.send(port);
		channel.receive(std::chrono::seconds(30));
	});
	const uint16_t client_port = client.channel().receive();
	ASSERT_EQ(server.channel().receive(), 1u);
	server.channel().send('k');
	ASSERT_EQ(server.channel().receive(), 1u);

	json received = received_by_client(client_port, server_port);
	EXPECT_EQ(received["owner_source"], "unresolved") << received.dump();
	EXPECT_TRUE(received["pid"].is_null()) << received.dump();
	EXPECT_TRUE(received["comm"].is_null()) << received.dump();
	EXPECT_NE(received["socket_inode"], 0);
	server.channel().send(0);
	client.channel().send(0);
}

// nginx with two workers: a client resets its kept-alive connection while the
// worker that accepted it waits in epoll, so the reset is handled in softirq.
// The owner is that worker, found from the socket: not the master (which
// opened the listener) and not the other worker.
TEST_F(Owners, NginxWorkerOwnsAResetItReceivedInSoftirq)
{
	REQUIRE_EXECUTABLE(nginx_binary, "nginx");
	Nginx nginx(nginx_binary, 2);
	ASSERT_EQ(nginx.worker_pids().size(), 2u);
	Child client("rstw-client", [port = nginx.port()](const Channel &channel) {
		uint16_t local = 0;
		int fd = connect_from_known_port(AF_INET, port, local);
		const std::string request = "GET / HTTP/1.1\r\nHost: rstwatch\r\n\r\n";
		write_all(fd, request.data(), request.size());
		std::string answer;
		char buffer[512];
		while (answer.find("ok\n") == std::string::npos) {
			ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
			if (n <= 0)
				throw std::runtime_error("nginx closed before answering");
			answer.append(buffer, static_cast<size_t>(n));
		}
		channel.send(local);
		channel.receive(std::chrono::seconds(30));
		set_linger(fd, true, 0);
		close(fd);
		channel.send(1);
		channel.receive(std::chrono::seconds(30));
	});
	const uint16_t client_port = client.channel().receive();
	// The reset must find the worker back in epoll_wait, not inside a call
	// on the socket (it would then be processed in the worker's context).
	const auto &workers = nginx.worker_pids();
	for (pid_t worker : workers)
		wait_until_waiting_in_epoll(worker);
	client.channel().send('k');
	ASSERT_EQ(client.channel().receive(), 1u);

	json received = received_by_client(nginx.port(), client_port);
	const int64_t pid = received.value("pid", int64_t{-1});
	EXPECT_TRUE(std::find(workers.begin(), workers.end(), pid) != workers.end())
	    << "pid " << pid << " is not a worker: " << received.dump();
	EXPECT_NE(pid, nginx.master_pid());
	EXPECT_EQ(received["comm"], "nginx");
	EXPECT_EQ(received["owner_source"], "socket_owner");
	EXPECT_EQ(received["current_is_owner"], false);
	EXPECT_EQ(received["peer_cause"], "linger_zero_close");
	EXPECT_EQ(received["peer_pid"], client.pid());
	client.channel().send(0);
	nginx.stop_and_expect_clean_exit();
}

} // namespace
} // namespace rstwatch::test
