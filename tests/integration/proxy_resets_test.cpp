// Real proxies from Debian, started by the test with configurations of its
// own: nginx resetting a `return 444` request and a timed-out one
// (`reset_timedout_connection on`), HAProxy with `option nolinger` rejecting
// a connection and giving up on an idle one. Every reset must name the
// proxy's worker process (not its master) with the right cause, and the
// other end's received reset must be linked to it.
#include "support/daemon_session.h"
#include "support/proxies.h"
#include "support/proxy_process.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>

namespace rstwatch::test
{
namespace
{

using nlohmann::json;

constexpr uint32_t kIdleThresholdMs = 200;

std::string loopback(uint16_t port)
{
	return "127.0.0.1:" + std::to_string(port);
}

bool has_evidence(const json &event, const std::string &fact)
{
	if (!event.contains("evidence"))
		return false;
	const json &evidence = event["evidence"];
	return std::find(evidence.begin(), evidence.end(), fact) != evidence.end();
}

class ProxyResets : public ::testing::Test
{
protected:
	static void SetUpTestSuite()
	{
		session_.start({"--idle-threshold-ms", std::to_string(kIdleThresholdMs)});
	}
	static void TearDownTestSuite() { session_.stop(); }
	void SetUp() override { RSTWATCH_REQUIRE_DAEMON(session_); }

	// The event on this 4-tuple; when it does not come, the events seen on
	// either port say what happened instead.
	static json expect_event(const std::string &direction, uint16_t local_port,
	                         uint16_t remote_port)
	{
		json event =
		    session_.expect_event(direction, loopback(local_port), loopback(remote_port));
		if (event.empty()) {
			auto nearby = session_.daemon().events_matching([&](const json &e) {
				return e.value("local_port", 0) == local_port ||
				       e.value("remote_port", 0) == local_port ||
				       e.value("local_port", 0) == remote_port ||
				       e.value("remote_port", 0) == remote_port;
			});
			std::string seen;
			for (const json &e : nearby)
				seen += e.dump() + "\n";
			ADD_FAILURE()
			    << "events on ports " << local_port << " and " << remote_port << ":\n"
			    << (seen.empty() ? "none\n" : seen);
		}
		return event;
	}

	// The proxy aborted the connection itself: SO_LINGER {on, 0} then
	// close(), in its worker, inside the close call.
	static void expect_linger_zero_close_by(const json &sent, const Proxy &proxy,
	                                        const std::string &comm)
	{
		if (sent.empty())
			return; // expect_event() has reported it
		SCOPED_TRACE(sent.dump());
		EXPECT_EQ(sent["cause"], "linger_zero_close");
		EXPECT_EQ(sent["pid"], proxy.worker_pid());
		EXPECT_NE(sent["pid"], proxy.master_pid());
		EXPECT_EQ(sent["comm"], comm);
		EXPECT_EQ(sent["owner_source"], "current");
		EXPECT_EQ(sent["current_is_owner"], true);
		EXPECT_EQ(sent["has_socket"], true);
		EXPECT_EQ(sent["state"], "CLOSE");
		EXPECT_EQ(sent["linger_on"], true);
		EXPECT_EQ(sent["linger_seconds"], 0);
		EXPECT_EQ(sent["unread_bytes"], 0);
		EXPECT_EQ(sent["kernel_reason"], session_.reason("TCP_STATE"));
		EXPECT_TRUE(has_evidence(sent, "linger_on=true"));
		EXPECT_TRUE(has_evidence(sent, "linger_seconds=0"));
	}

	static void expect_linked_to(const json &received, const json &sent, const Proxy &proxy,
	                             const std::string &comm)
	{
		if (received.empty() || sent.empty())
			return;
		SCOPED_TRACE(received.dump());
		EXPECT_EQ(received["peer_event_id"], sent["id"]);
		EXPECT_EQ(sent["peer_event_id"], received["id"]);
		EXPECT_EQ(received["peer_cause"], "linger_zero_close");
		EXPECT_EQ(received["peer_pid"], proxy.worker_pid());
		EXPECT_EQ(received["peer_comm"], comm);
	}

	// Nothing was in flight and the connection was silent both ways for
	// longer than the threshold: an intermediary's idle timeout.
	static void expect_idle_timeout(const json &received)
	{
		if (received.empty())
			return;
		SCOPED_TRACE(received.dump());
		EXPECT_EQ(received["cause"], "peer_idle_timeout");
		EXPECT_EQ(received["state"], "ESTABLISHED");
		EXPECT_EQ(received["unacked_bytes"], 0);
		EXPECT_GE(received["idle_since_send_ms"].get<int64_t>(), kIdleThresholdMs);
		EXPECT_GE(received["idle_since_receive_ms"].get<int64_t>(), kIdleThresholdMs);
		EXPECT_TRUE(has_evidence(received, "unacked_bytes=0"));
		EXPECT_TRUE(has_evidence(received,
		                         "idle_threshold_ms=" + std::to_string(kIdleThresholdMs)));
	}

	static inline DaemonSession session_;
};

// A client that connects to 127.0.0.1:`port`, reports its own port, sends
// `request`, then blocks in recv() and reports its errno (0 for data or EOF).
void requesting_client(const Channel &channel, uint16_t port, const std::string &request)
{
	uint16_t local_port = 0;
	// Bound first, so the port is known even when connect() itself fails.
	int fd = connect_from_known_port(AF_INET, port, local_port);
	if (fd == -ECONNRESET) {
		// A proxy that rejects at once can reset the connection before a
		// slow client returns from connect(): the same reset, seen sooner.
		channel.send(local_port);
		channel.send(ECONNRESET);
		channel.receive();
		return;
	}
	if (fd < 0)
		throw std::runtime_error("connect to the proxy failed: " +
		                         std::string(strerror(-fd)));
	channel.send(local_port);
	if (!request.empty())
		write_all(fd, request.data(), request.size());
	char buffer[256];
	ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
	channel.send(n < 0 ? errno : 0);
	channel.receive(); // hold the socket until the test is done
	close(fd);
}

TEST_F(ProxyResets, NginxReturn444IsLingerZeroCloseFromTheWorker)
{
	REQUIRE_EXECUTABLE(nginx_binary, "nginx");
	Nginx nginx(nginx_binary);
	EXPECT_EQ(nginx.pid_from_file(), nginx.master_pid());

	Child client("rstw-client", [port = nginx.port()](const Channel &channel) {
		requesting_client(channel, port, "GET /drop HTTP/1.1\r\nHost: rstwatch\r\n\r\n");
	});
	const uint16_t client_port = client.channel().receive();
	EXPECT_EQ(client.channel().receive(), static_cast<uint32_t>(ECONNRESET));

	json sent = expect_event("sent", nginx.port(), client_port);
	expect_linger_zero_close_by(sent, nginx, "nginx");

	// The reset answered the request at once: the peer's own decision,
	// not an idle timeout.
	json received = expect_event("received", client_port, nginx.port());
	EXPECT_EQ(received["cause"], "peer_reset") << received.dump();
	EXPECT_EQ(received["pid"], client.pid());
	EXPECT_EQ(received["comm"], "rstw-client");
	EXPECT_EQ(received["state"], "ESTABLISHED");
	expect_linked_to(received, sent, nginx, "nginx");

	client.channel().send(0);
	EXPECT_EQ(client.wait(), 0);
	nginx.stop_and_expect_clean_exit();
}

// A client that sends half a request and goes quiet: nginx times the request
// out (client_header_timeout) and, with reset_timedout_connection on, aborts
// it. To the client that is an idle connection reset from the other side.
TEST_F(ProxyResets, NginxTimedOutRequestIsPeerIdleTimeoutForTheClient)
{
	REQUIRE_EXECUTABLE(nginx_binary, "nginx");
	Nginx nginx(nginx_binary);

	Child client("rstw-stalled", [port = nginx.port()](const Channel &channel) {
		requesting_client(channel, port, "GET /slow HTTP/1.1\r\nHost: rstwatch\r\n");
	});
	const uint16_t client_port = client.channel().receive();
	EXPECT_EQ(client.channel().receive(), static_cast<uint32_t>(ECONNRESET));

	json sent = expect_event("sent", nginx.port(), client_port);
	expect_linger_zero_close_by(sent, nginx, "nginx");

	json received = expect_event("received", client_port, nginx.port());
	expect_idle_timeout(received);
	EXPECT_EQ(received["pid"], client.pid());
	EXPECT_EQ(received["comm"], "rstw-stalled");
	expect_linked_to(received, sent, nginx, "nginx");
	EXPECT_NE(nginx.error_log().find("client timed out"), std::string::npos)
	    << nginx.error_log();

	client.channel().send(0);
	EXPECT_EQ(client.wait(), 0);
	nginx.stop_and_expect_clean_exit();
}

// `tcp-request connection reject` closes a connection as soon as it is
// accepted; with `option nolinger` that close is a reset.
TEST_F(ProxyResets, HaproxyRejectWithNolingerIsLingerZeroCloseFromTheWorker)
{
	REQUIRE_EXECUTABLE(haproxy_binary, "haproxy");
	const uint16_t port = pick_free_port();
	Haproxy haproxy(haproxy_binary, port, R"(
frontend refuse
	bind 127.0.0.1:@PORT@
	tcp-request connection reject
)");
	EXPECT_EQ(haproxy.pid_from_file(), haproxy.master_pid());

	Child client("rstw-client",
	             [port](const Channel &channel) { requesting_client(channel, port, ""); });
	const uint16_t client_port = client.channel().receive();
	EXPECT_EQ(client.channel().receive(), static_cast<uint32_t>(ECONNRESET));

	json sent = expect_event("sent", port, client_port);
	expect_linger_zero_close_by(sent, haproxy, "haproxy");

	json received = expect_event("received", client_port, port);
	EXPECT_EQ(received["cause"], "peer_reset") << received.dump();
	EXPECT_EQ(received["pid"], client.pid());
	EXPECT_EQ(received["comm"], "rstw-client");
	EXPECT_EQ(received["state"], "ESTABLISHED");
	expect_linked_to(received, sent, haproxy, "haproxy");

	client.channel().send(0);
	EXPECT_EQ(client.wait(), 0);
	haproxy.stop_and_expect_clean_exit();
}

// An idle connection through HAProxy: when `timeout client` expires, HAProxy
// drops both sides. Towards the server, `option nolinger` makes the
// shutdown silent, so the server sees a bare reset on a connection idle for
// the whole timeout: an intermediary's idle timeout. Towards the client,
// HAProxy shuts down cleanly (FIN) before its nolinger close.
TEST_F(ProxyResets, HaproxyIdleTimeoutResetIsPeerIdleTimeoutForTheServer)
{
	REQUIRE_EXECUTABLE(haproxy_binary, "haproxy");
	// The server behind HAProxy: reports its port, then the port HAProxy
	// connected from, then the errno of a recv() that waits for the end.
	Child backend("rstw-backend", [](const Channel &channel) {
		uint16_t port = 0;
		int listener = listening_socket(AF_INET, port);
		channel.send(port);
		sockaddr_in peer{};
		socklen_t length = sizeof(peer);
		int connection = accept(listener, reinterpret_cast<sockaddr *>(&peer), &length);
		if (connection < 0)
			throw std::runtime_error("accept failed: " + std::string(strerror(errno)));
		channel.send(ntohs(peer.sin_port));
		char byte;
		ssize_t n = recv(connection, &byte, 1, 0);
		channel.send(n < 0 ? errno : 0);
		channel.receive();
	});
	const uint16_t backend_port = backend.channel().receive();

	const uint16_t port = pick_free_port();
	Haproxy haproxy(haproxy_binary, port, R"(
frontend idle
	bind 127.0.0.1:@PORT@
	default_backend hold
backend hold
	server holder 127.0.0.1:@BACKEND_PORT@
)",
	                {{"BACKEND_PORT", std::to_string(backend_port)}});

	Child client("rstw-client",
	             [port](const Channel &channel) { requesting_client(channel, port, ""); });
	const uint16_t client_port = client.channel().receive();
	const uint16_t haproxy_source_port = backend.channel().receive();
	EXPECT_EQ(backend.channel().receive(), static_cast<uint32_t>(ECONNRESET));
	EXPECT_EQ(client.channel().receive(), 0u) << "the client should have read HAProxy's FIN";

	// The server's side: the idle-timeout case.
	json to_server = expect_event("sent", haproxy_source_port, backend_port);
	expect_linger_zero_close_by(to_server, haproxy, "haproxy");
	json at_server = expect_event("received", backend_port, haproxy_source_port);
	expect_idle_timeout(at_server);
	EXPECT_EQ(at_server["pid"], backend.pid());
	EXPECT_EQ(at_server["comm"], "rstw-backend");
	EXPECT_EQ(at_server["owner_source"], "socket_owner");
	expect_linked_to(at_server, to_server, haproxy, "haproxy");

	// The client's side: the same worker's nolinger close, after its FIN.
	json to_client = expect_event("sent", port, client_port);
	expect_linger_zero_close_by(to_client, haproxy, "haproxy");
	json at_client = expect_event("received", client_port, port);
	EXPECT_EQ(at_client["pid"], client.pid());
	EXPECT_EQ(at_client["comm"], "rstw-client");
	EXPECT_EQ(at_client["state"], "CLOSE_WAIT");
	EXPECT_EQ(at_client["unacked_bytes"], 0);
	// HAProxy shut the idle client with FIN then RST: the client had sent
	// nothing for longer than the threshold, so it was an idle timeout.
	EXPECT_EQ(at_client["cause"], "peer_idle_timeout");
	EXPECT_EQ(at_client["unread_bytes"], 0);
	expect_linked_to(at_client, to_client, haproxy, "haproxy");

	backend.channel().send(0);
	client.channel().send(0);
	EXPECT_EQ(backend.wait(), 0);
	EXPECT_EQ(client.wait(), 0);
	haproxy.stop_and_expect_clean_exit();
}

} // namespace
} // namespace rstwatch::test
