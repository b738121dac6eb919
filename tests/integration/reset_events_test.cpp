// The real rstwatchd against real sockets on loopback: each scenario makes a
// reset happen and asserts on the exact fields of the events it produces.
#include "daemon_process.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace rstwatch::test {
namespace {

using nlohmann::json;

class ResetEvents : public ::testing::TestWithParam<int> {
protected:
	static void SetUpTestSuite()
	{
		daemon_ = std::make_unique<DaemonProcess>();
		std::vector<std::string> args;
		if (const char *variant = getenv("RSTWATCH_TEST_HOOK_VARIANT"))
			args = {"--hook-variant", variant};
		if (geteuid() != 0) {
			unavailable_ = "integration tests load BPF programs and need root";
			return;
		}
		if (!daemon_->start(args)) {
			unavailable_ = daemon_->error();
			return;
		}
		reasons_available_ =
			daemon_->stderr_text().find("kernel reason available") != std::string::npos;
	}

	static void TearDownTestSuite()
	{
		if (unavailable_.empty()) {
			ExitResult result = daemon_->stop();
			EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
			EXPECT_NE(result.stderr_text.find("rstwatchd: stopping:"), std::string::npos)
				<< result.stderr_text;
		}
		daemon_.reset();
	}

	void SetUp() override
	{
		if (unavailable_.empty())
			return;
		if (running_in_ci())
			FAIL() << "cannot run rstwatchd in CI: " << unavailable_;
		GTEST_SKIP() << "skipping: " << unavailable_;
	}

	int family() const { return GetParam(); }
	Endpoint endpoint(uint16_t port) const { return Endpoint{family(), port}; }

	static DaemonProcess::Predicate reset(const std::string &direction, const Endpoint &local,
					      const Endpoint &remote)
	{
		return [=](const json &event) {
			return event["direction"] == direction && event["local"] == local.text() &&
			       event["remote"] == remote.text();
		};
	}

	json expect_event(const std::string &direction, const Endpoint &local,
			  const Endpoint &remote)
	{
		auto event = daemon_->wait_for(reset(direction, local, remote));
		if (!event) {
			ADD_FAILURE() << "no " << direction << " reset " << local.text() << " <-> "
				      << remote.text() << " within the timeout; rstwatchd stderr:\n"
				      << daemon_->stderr_text();
			return json::object();
		}
		return *event;
	}

	std::string expected_reason(const char *name) const
	{
		return reasons_available_ ? name : "unavailable";
	}

	std::string family_name() const { return family() == AF_INET6 ? "ipv6" : "ipv4"; }

	static inline std::unique_ptr<DaemonProcess> daemon_;
	static inline std::string unavailable_;
	static inline bool reasons_available_ = false;
};

// A server that closes a connection with bytes it never read aborts it.
TEST_P(ResetEvents, CloseWithUnreadDataSendsResetFromTheServer)
{
	constexpr int kUnread = 1234;
	const int fam = family();
	Child server("rstw-server", [fam](const Channel &channel) {
		uint16_t port = 0;
		int listener = listening_socket(fam, port);
		channel.send(port);
		int connection = accept(listener, nullptr, nullptr);
		if (!wait_until_readable_bytes(connection, kUnread, std::chrono::seconds(5)))
			throw std::runtime_error("the client's bytes never arrived");
		close(connection);
		channel.send(1);
		channel.receive();
	});
	const uint16_t server_port = server.channel().receive();
	Child client("rstw-client", [fam, server_port](const Channel &channel) {
		uint16_t port = 0;
		int fd = connect_from_known_port(fam, server_port, port);
		if (fd < 0)
			throw std::runtime_error("connect failed");
		channel.send(port);
		std::string payload(kUnread, 'x');
		write_all(fd, payload.data(), payload.size());
		char byte;
		ssize_t n = recv(fd, &byte, 1, 0);
		channel.send(n < 0 ? errno : 0);
		channel.receive();
	});
	const uint16_t client_port = client.channel().receive();
	ASSERT_EQ(server.channel().receive(), 1u);
	EXPECT_EQ(client.channel().receive(), static_cast<uint32_t>(ECONNRESET));

	json sent = expect_event("sent", endpoint(server_port), endpoint(client_port));
	EXPECT_EQ(sent["pid"], server.pid());
	EXPECT_EQ(sent["comm"], "rstw-server");
	EXPECT_EQ(sent["owner_source"], "current");
	EXPECT_EQ(sent["current_is_owner"], true);
	EXPECT_EQ(sent["unread_bytes"], kUnread);
	EXPECT_EQ(sent["state"], "CLOSE");
	EXPECT_EQ(sent["family"], family_name());
	EXPECT_EQ(sent["has_socket"], true);
	EXPECT_EQ(sent["linger_on"], false);
	EXPECT_EQ(sent["kernel_reason"], expected_reason("TCP_ABORT_ON_CLOSE"));

	json received = expect_event("received", endpoint(client_port), endpoint(server_port));
	EXPECT_EQ(received["pid"], client.pid());
	EXPECT_EQ(received["comm"], "rstw-client");
	EXPECT_EQ(received["state"], "ESTABLISHED");
	EXPECT_EQ(received["family"], family_name());
	EXPECT_EQ(received["kernel_reason"], "unavailable");
	EXPECT_EQ(received["bytes_sent"], kUnread);

	server.channel().send(0);
	client.channel().send(0);
	EXPECT_EQ(server.wait(), 0);
	EXPECT_EQ(client.wait(), 0);
}

// SO_LINGER {on, 0 s} turns close() into an abort: RST instead of FIN.
TEST_P(ResetEvents, LingerZeroCloseSendsResetFromTheClient)
{
	const int fam = family();
	Child server("rstw-server", [fam](const Channel &channel) {
		uint16_t port = 0;
		int listener = listening_socket(fam, port);
		channel.send(port);
		int connection = accept(listener, nullptr, nullptr);
		channel.send(1);
		// Stay out of the socket until the test has seen the reset, so it
		// is processed in softirq and not by this process.
		channel.receive();
		char byte;
		ssize_t n = recv(connection, &byte, 1, 0);
		channel.send(n < 0 ? errno : 0);
		channel.receive();
	});
	const uint16_t server_port = server.channel().receive();
	Child client("rstw-client", [fam, server_port](const Channel &channel) {
		uint16_t port = 0;
		int fd = connect_from_known_port(fam, server_port, port);
		if (fd < 0)
			throw std::runtime_error("connect failed");
		set_linger(fd, true, 0);
		channel.send(port);
		channel.receive(); // the server has accepted
		close(fd);
		channel.send(1);
		channel.receive();
	});
	const uint16_t client_port = client.channel().receive();
	ASSERT_EQ(server.channel().receive(), 1u);
	client.channel().send(1);
	ASSERT_EQ(client.channel().receive(), 1u);

	json sent = expect_event("sent", endpoint(client_port), endpoint(server_port));
	EXPECT_EQ(sent["pid"], client.pid());
	EXPECT_EQ(sent["comm"], "rstw-client");
	EXPECT_EQ(sent["linger_on"], true);
	EXPECT_EQ(sent["linger_seconds"], 0);
	EXPECT_EQ(sent["unread_bytes"], 0);
	EXPECT_EQ(sent["current_is_owner"], true);
	EXPECT_EQ(sent["kernel_reason"], expected_reason("TCP_STATE"));

	// The server was not in a socket call, so the reset was processed in
	// softirq: the owner comes from what accept() recorded.
	json received = expect_event("received", endpoint(server_port), endpoint(client_port));
	EXPECT_EQ(received["state"], "ESTABLISHED");
	EXPECT_EQ(received["family"], family_name());
	EXPECT_EQ(received["pid"], server.pid());
	EXPECT_EQ(received["comm"], "rstw-server");
	EXPECT_EQ(received["owner_source"], "socket_owner");
	EXPECT_EQ(received["current_is_owner"], false);
	server.channel().send(1);
	EXPECT_EQ(server.channel().receive(), static_cast<uint32_t>(ECONNRESET));

	server.channel().send(0);
	client.channel().send(0);
	EXPECT_EQ(server.wait(), 0);
	EXPECT_EQ(client.wait(), 0);
}

// A SYN to a port with no listener is answered for no socket at all.
TEST_P(ResetEvents, ConnectToClosedPortIsRefused)
{
	const int fam = family();
	uint16_t closed_port = 0;
	// Bound but not listening: the port stays ours and nothing accepts on it.
	int reserved = bound_socket(fam, closed_port);
	Child client("rstw-client", [fam, closed_port](const Channel &channel) {
		uint16_t port = 0;
		int result = connect_from_known_port(fam, closed_port, port);
		channel.send(port);
		channel.send(result < 0 ? -result : 0);
		channel.receive();
	});
	const uint16_t client_port = client.channel().receive();
	EXPECT_EQ(client.channel().receive(), static_cast<uint32_t>(ECONNREFUSED));

	json sent = expect_event("sent", endpoint(closed_port), endpoint(client_port));
	EXPECT_EQ(sent["has_socket"], false);
	EXPECT_EQ(sent["reply_to_syn"], true);
	EXPECT_EQ(sent["state"], "NONE");
	EXPECT_EQ(sent["owner_source"], "none");
	EXPECT_TRUE(sent["pid"].is_null()) << sent.dump();
	EXPECT_TRUE(sent["comm"].is_null()) << sent.dump();
	EXPECT_EQ(sent["family"], family_name());
	EXPECT_EQ(sent["kernel_reason"], expected_reason("NO_SOCKET"));

	json received = expect_event("received", endpoint(client_port), endpoint(closed_port));
	EXPECT_EQ(received["state"], "SYN_SENT");
	EXPECT_EQ(received["pid"], client.pid());
	EXPECT_EQ(received["comm"], "rstw-client");

	client.channel().send(0);
	EXPECT_EQ(client.wait(), 0);
	close(reserved);
}

INSTANTIATE_TEST_SUITE_P(Loopback, ResetEvents, ::testing::Values(AF_INET, AF_INET6),
			 [](const ::testing::TestParamInfo<int> &info) {
				 return std::string(info.param == AF_INET6 ? "IPv6" : "IPv4");
			 });

} // namespace
} // namespace rstwatch::test
