#include "storm_worker.h"

#include "common/unique_fd.h"
#include "segment_spray.h"
#include "storm_error.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

namespace rstwatch::bench
{

void StormTally::fail(const std::string &what)
{
	if (failures++ == 0)
		first_failure = what + ": " + errno_text(errno);
}

void StormTally::add(const StormTally &other)
{
	operations += other.operations;
	resets_received += other.resets_received;
	if (failures == 0 && other.failures)
		first_failure = other.first_failure;
	failures += other.failures;
}

ClosedPort::ClosedPort(in_addr address)
{
	fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd_ < 0)
		fail_errno("socket for the closed port");
	address_.sin_family = AF_INET;
	address_.sin_addr = address;
	if (bind(fd_, reinterpret_cast<sockaddr *>(&address_), sizeof(address_)) != 0) {
		int err = errno;
		::close(fd_);
		throw StormError("binding the closed port failed: " + errno_text(err));
	}
	socklen_t length = sizeof(address_);
	getsockname(fd_, reinterpret_cast<sockaddr *>(&address_), &length);
}

ClosedPort::~ClosedPort()
{
	::close(fd_);
}

namespace
{

UniqueFd tcp_socket()
{
	return UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

bool connect_to(int fd, const sockaddr_in &address)
{
	return connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof(address)) == 0;
}

class RefusedWorker : public StormWorker
{
public:
	explicit RefusedWorker(const sockaddr_in &closed) : closed_(closed) {}

	void run(uint64_t count, StormTally &tally) override
	{
		for (uint64_t i = 0; i < count; i++) {
			UniqueFd fd = tcp_socket();
			if (!fd) {
				tally.fail("socket");
				continue;
			}
			// On loopback the SYN, the RST and its processing all happen
			// inside this connect().
			if (connect_to(fd.get(), closed_))
				tally.fail("connect to the closed port succeeded");
			else if (errno == ECONNREFUSED)
				tally.resets_received++;
			else
				tally.fail("connect to the closed port");
			tally.operations++;
		}
	}

private:
	sockaddr_in closed_;
};

// A listener of this thread's own, so accept() never waits on another
// thread's connection.
class Listener
{
public:
	explicit Listener(in_addr address)
	{
		fd_.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
		if (!fd_)
			fail_errno("socket for the listener");
		int one = 1;
		setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		address_.sin_family = AF_INET;
		address_.sin_addr = address;
		if (bind(fd_.get(), reinterpret_cast<sockaddr *>(&address_), sizeof(address_)) ||
		    listen(fd_.get(), 128))
			fail_errno("binding the listener");
		socklen_t length = sizeof(address_);
		getsockname(fd_.get(), reinterpret_cast<sockaddr *>(&address_), &length);
	}

	// Connects a client and accepts it: on loopback the handshake is done
	// when connect() returns, so accept() does not wait.
	bool pair(UniqueFd &client, UniqueFd &server, StormTally &tally)
	{
		client = tcp_socket();
		if (!client) {
			tally.fail("socket");
			return false;
		}
		if (!connect_to(client.get(), address_)) {
			tally.fail("connect to the listener");
			return false;
		}
		server.reset(accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
		if (!server) {
			tally.fail("accept");
			return false;
		}
		return true;
	}

private:
	UniqueFd fd_;
	sockaddr_in address_{};
};

// Whether the socket's next read reports the reset that just arrived.
bool saw_reset(int fd)
{
	char byte;
	return recv(fd, &byte, 1, MSG_DONTWAIT) < 0 && errno == ECONNRESET;
}

class LingerZeroWorker : public StormWorker
{
public:
	explicit LingerZeroWorker(in_addr address) : listener_(address) {}

	void run(uint64_t count, StormTally &tally) override
	{
		const linger abort_on_close = {1, 0};
		for (uint64_t i = 0; i < count; i++) {
			UniqueFd client, server;
			tally.operations++;
			if (!listener_.pair(client, server, tally))
				continue;
			if (setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &abort_on_close,
			               sizeof(abort_on_close))) {
				tally.fail("SO_LINGER");
				continue;
			}
			client.reset();
			if (saw_reset(server.get()))
				tally.resets_received++;
		}
	}

private:
	Listener listener_;
};

class CloseUnreadWorker : public StormWorker
{
public:
	explicit CloseUnreadWorker(in_addr address) : listener_(address) {}

	void run(uint64_t count, StormTally &tally) override
	{
		static constexpr char kPayload[64] = "bytes the server never reads";
		for (uint64_t i = 0; i < count; i++) {
			UniqueFd client, server;
			tally.operations++;
			if (!listener_.pair(client, server, tally))
				continue;
			if (send(client.get(), kPayload, sizeof(kPayload), MSG_NOSIGNAL) !=
			    static_cast<ssize_t>(sizeof(kPayload))) {
				tally.fail("send");
				continue;
			}
			server.reset();
			if (saw_reset(client.get()))
				tally.resets_received++;
		}
	}

private:
	Listener listener_;
};

// Connection churn without a single reset: the client speaks first and
// closes first, so its side ends in TIME_WAIT, which loopback connects reuse
// (net.ipv4.tcp_tw_reuse's default). A reset seen here is a failure.
class HealthyWorker : public StormWorker
{
public:
	explicit HealthyWorker(in_addr address) : listener_(address) {}

	void run(uint64_t count, StormTally &tally) override
	{
		for (uint64_t i = 0; i < count; i++) {
			UniqueFd client, server;
			tally.operations++;
			if (!listener_.pair(client, server, tally))
				continue;
			char byte = 'q';
			if (send(client.get(), &byte, 1, MSG_NOSIGNAL) != 1 ||
			    recv(server.get(), &byte, 1, 0) != 1 ||
			    send(server.get(), &byte, 1, MSG_NOSIGNAL) != 1 ||
			    recv(client.get(), &byte, 1, 0) != 1) {
				tally.fail("the 1-byte exchange");
				continue;
			}
			client.reset();
			// The client's FIN: the server reads the end, then closes.
			if (recv(server.get(), &byte, 1, 0) != 0) {
				tally.fail("reading the client's FIN");
				continue;
			}
		}
	}

private:
	Listener listener_;
};

class SprayWorker : public StormWorker
{
public:
	SprayWorker(const StormOptions &options, const sockaddr_in &closed, unsigned thread_index)
	    : spray_(closed, options.spray_segment, options.spray_batch, thread_index)
	{
	}

	void run(uint64_t count, StormTally &tally) override
	{
		while (count > 0) {
			unsigned segments =
			    count < spray_.batch() ? static_cast<unsigned>(count) : spray_.batch();
			int sent = spray_.send(segments);
			if (sent < 0) {
				tally.fail("sendmmsg of raw segments");
				return;
			}
			tally.operations += static_cast<uint64_t>(sent);
			count -= segments;
		}
	}

	uint64_t batch() const override { return spray_.batch() * 4u; }

private:
	SegmentSpray spray_;
};

} // namespace

std::unique_ptr<StormWorker> make_worker(const StormOptions &options, const ClosedPort &closed,
                                         unsigned thread_index)
{
	switch (options.mode) {
	case StormMode::Refused:
		return std::make_unique<RefusedWorker>(closed.address());
	case StormMode::LingerZero:
		return std::make_unique<LingerZeroWorker>(closed.address().sin_addr);
	case StormMode::CloseUnread:
		return std::make_unique<CloseUnreadWorker>(closed.address().sin_addr);
	case StormMode::Spray:
		return std::make_unique<SprayWorker>(options, closed.address(), thread_index);
	case StormMode::Healthy:
		return std::make_unique<HealthyWorker>(closed.address().sin_addr);
	}
	throw StormError("unknown storm mode");
}

} // namespace rstwatch::bench
