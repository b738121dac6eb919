#include "daemon/query/query_server.h"

#include "common/error.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace rstwatch
{

namespace
{

// Per wake-up, so a flood of connections or bytes cannot keep the loop from
// getting back to the ring buffer; the rest waits for the next round.
constexpr int kAcceptsPerWake = 64;
constexpr int kReadsPerWake = 16;

} // namespace

QueryServer::QueryServer(const std::string &path, const std::string &group, QueryLimits limits,
                         const EventStore &store, const OutputContext &output, Hooks hooks)
    : limits_(limits), output_(output), hooks_(std::move(hooks)),
      dispatcher_(store, output, hooks_.stats), listener_(path, group)
{
	epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
	if (!epoll_)
		throw Error("epoll_create1 failed: " + errno_text(errno));
	epoll_event event{};
	event.events = EPOLLIN;
	event.data.fd = listener_.fd();
	if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listener_.fd(), &event) != 0)
		throw Error("epoll_ctl on the query socket failed: " + errno_text(errno));
}

// Clients first: they are gone before the socket file is.
QueryServer::~QueryServer()
{
	clients_.clear();
}

size_t QueryServer::followers() const
{
	return static_cast<size_t>(
	    std::count_if(clients_.begin(), clients_.end(),
	                  [](const auto &entry) { return entry.second->follower; }));
}

void QueryServer::refuse(int fd, std::string_view reason, query::ErrorCode code,
                         std::string_view message)
{
	// Counted before the client can read its answer: a scrape it makes
	// next must see the drop.
	dropped_[std::string(reason)]++;
	if (hooks_.dropped)
		hooks_.dropped(reason);
	// Best effort: a fresh socket has room for one short line.
	std::string line = query::error_line(code, message);
	ssize_t ignored = send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)ignored;
	close(fd);
}

void QueryServer::accept_clients(Clock::time_point now)
{
	for (int accepted = 0; accepted < kAcceptsPerWake; accepted++) {
		int fd = accept4(listener_.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			// EAGAIN: all accepted. EMFILE and the like: the
			// backlog keeps them until a client leaves.
			return;
		}
		ucred peer{};
		socklen_t length = sizeof(peer);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0) {
			close(fd);
			continue;
		}
		if (!listener_.peer_allowed(fd, peer.uid, peer.gid)) {
			refuse(fd, "permission_denied", query::ErrorCode::PermissionDenied,
			       "uid " + std::to_string(peer.uid) + " may not query rstwatchd" +
			           (listener_.group().empty()
			                ? std::string(" (only root may)")
			                : " (only root and group " + listener_.group() + " may)"));
			continue;
		}
		if (clients_.size() >= limits_.max_clients) {
			refuse(fd, "too_many_clients", query::ErrorCode::TooManyClients,
			       "rstwatchd already serves " + std::to_string(clients_.size()) +
			           " clients");
			continue;
		}
		size_t same_uid = static_cast<size_t>(
		    std::count_if(clients_.begin(), clients_.end(), [&](const auto &entry) {
			    return entry.second->uid == peer.uid;
		    }));
		if (same_uid >= limits_.max_clients_per_uid) {
			refuse(fd, "too_many_clients_per_uid", query::ErrorCode::TooManyClients,
			       "uid " + std::to_string(peer.uid) + " already has " +
			           std::to_string(same_uid) + " clients connected");
			continue;
		}
		auto client = std::make_unique<query::Client>();
		client->fd.reset(fd);
		client->uid = peer.uid;
		client->pid = peer.pid;
		client->read_deadline = now + std::chrono::milliseconds(limits_.read_timeout_ms);
		client->last_progress = now;
		epoll_event event{};
		event.events = EPOLLIN | EPOLLRDHUP;
		event.data.fd = fd;
		if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0)
			continue; // the unique_ptr closes it
		client->interest = event.events;
		clients_.emplace(fd, std::move(client));
	}
}

void QueryServer::drop(query::Client &client, std::string_view reason)
{
	if (client.dead)
		return;
	client.dead = true;
	closing_.push_back(client.fd.get());
	if (!reason.empty()) {
		dropped_[std::string(reason)]++;
		if (hooks_.dropped)
			hooks_.dropped(reason);
	}
}

void QueryServer::close_client(int fd)
{
	epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
	clients_.erase(fd);
}

void QueryServer::update_interest(query::Client &client)
{
	if (client.dead)
		return;
	uint32_t want = 0;
	if (client.busy())
		want |= EPOLLOUT;
	// A busy client is not read from: its next request waits in the
	// kernel, which is the backpressure. Followers are read only to see
	// them leave.
	if (!client.input_closed && (client.follower || !client.busy()))
		want |= EPOLLIN | EPOLLRDHUP;
	if (want == client.interest)
		return;
	epoll_event event{};
	event.events = want;
	event.data.fd = client.fd.get();
	if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, client.fd.get(), &event) == 0)
		client.interest = want;
}

void QueryServer::read_from(query::Client &client, Clock::time_point now)
{
	char buffer[4096];
	// Reading stops past the request limit; process_input reports it.
	for (int reads = 0; reads < kReadsPerWake && !client.input_closed &&
	                    client.input.size() <= limits_.max_request_bytes;
	     reads++) {
		ssize_t n = recv(client.fd.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
		if (n > 0) {
			if (!client.follower)
				client.input.append(buffer, static_cast<size_t>(n));
			continue;
		}
		if (n == 0) {
			client.input_closed = true;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			drop(client, "");
		break;
	}
	process_input(client, now);
}

void QueryServer::process_input(query::Client &client, Clock::time_point now)
{
	while (!client.dead) {
		flush(client, now);
		if (client.dead || client.busy())
			break;
		if (client.close_after_flush) {
			drop(client, "");
			break;
		}
		if (client.follower) {
			if (client.input_closed)
				drop(client, "");
			break;
		}
		size_t newline = client.input.find('\n');
		size_t length = newline == std::string::npos ? client.input.size() : newline;
		if (length > limits_.max_request_bytes) {
			client.output += query::error_line(
			    query::ErrorCode::RequestTooLarge,
			    "requests are at most " + std::to_string(limits_.max_request_bytes) +
			        " bytes");
			client.close_after_flush = true;
			client.input.clear();
			dropped_["request_too_large"]++;
			if (hooks_.dropped)
				hooks_.dropped("request_too_large");
			continue;
		}
		if (newline == std::string::npos) {
			// A last request without its newline still counts once
			// the client has finished sending.
			if (!client.input_closed)
				break;
			if (client.input.empty()) {
				drop(client, "");
				break;
			}
			client.input.push_back('\n');
			continue;
		}
		std::string line = client.input.substr(0, newline);
		client.input.erase(0, newline + 1);
		if (!line.empty() && line.back() == '\r')
			line.pop_back();
		if (line.find_first_not_of(" \t") == std::string::npos)
			continue;
		answer(client, line, now);
	}
	update_interest(client);
}

void QueryServer::answer(query::Client &client, std::string_view line, Clock::time_point now)
{
	query::Dispatcher::Answer answer = dispatcher_.answer(client, line);
	if (answer.parsed)
		client.last_progress = now;
	if (hooks_.served)
		hooks_.served(answer.command, answer.ok);
}

void QueryServer::flush(query::Client &client, Clock::time_point now)
{
	bool was_busy = client.busy();
	// A replay whose last turn found nothing to send moves on here: the
	// socket is writable, so this is called again until it catches up.
	if (client.unsent() == 0 && client.replaying() && !continue_answer(client))
		return;
	while (!client.dead && client.unsent() > 0) {
		ssize_t n = send(client.fd.get(), client.output.data() + client.sent,
		                 client.unsent(), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			client.sent += static_cast<size_t>(n);
			client.last_progress = now;
			if (client.unsent() == 0) {
				client.output.clear();
				client.sent = 0;
				if (!continue_answer(client))
					return;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		// The client went away: nothing to count.
		drop(client, "");
		return;
	}
	// Keep the buffer from growing by what has already been sent.
	if (client.sent > query::kOutputChunk && client.sent * 2 > client.output.size()) {
		client.output.erase(0, client.sent);
		client.sent = 0;
	}
	if (was_busy && !client.busy() && !client.follower)
		client.read_deadline = now + std::chrono::milliseconds(limits_.read_timeout_ms);
}

bool QueryServer::continue_answer(query::Client &client)
{
	if (dispatcher_.continue_answer(client))
		return true;
	drop(client, "slow_follower");
	return false;
}

bool QueryServer::answering() const
{
	return std::any_of(clients_.begin(), clients_.end(), [](const auto &entry) {
		const query::Client &client = *entry.second;
		return !client.dead && (!client.follower || client.replaying()) && client.busy();
	});
}

void QueryServer::handle_ready(Clock::time_point now)
{
	epoll_event ready[64];
	int n = epoll_wait(epoll_.get(), ready, 64, 0);
	bool accept_pending = false;
	for (int i = 0; i < n; i++) {
		int fd = ready[i].data.fd;
		if (fd == listener_.fd()) {
			accept_pending = true;
			continue;
		}
		auto it = clients_.find(fd);
		if (it == clients_.end() || it->second->dead)
			continue;
		query::Client &client = *it->second;
		if (ready[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			read_from(client, now);
		else
			process_input(client, now);
	}
	for (int fd : closing_)
		close_client(fd);
	closing_.clear();
	// After the reaping, so a new client never inherits an event meant for
	// a closed one that had the same descriptor number.
	if (accept_pending)
		accept_clients(now);
}

void QueryServer::publish(std::span<const ResetEvent> batch, Clock::time_point now)
{
	if (batch.empty() || clients_.empty())
		return;
	std::vector<query::Client *> followers;
	for (auto &[fd, client] : clients_) {
		// One still replaying reads these from the store when it gets there.
		if (client->follower && !client->dead && !client->replaying())
			followers.push_back(client.get());
	}
	if (followers.empty())
		return;
	std::string line;
	for (const ResetEvent &event : batch) {
		line.clear();
		for (query::Client *client : followers) {
			if (client->dead || !client->filter.matches(event, output_.classify))
				continue;
			// Serialized once per event, only if someone wants it.
			if (line.empty()) {
				append_event_json(line, event, output_);
				line.push_back('\n');
			}
			if (client->unsent() + line.size() > limits_.follower_buffer_bytes) {
				drop(*client, "slow_follower");
				continue;
			}
			if (client->unsent() == 0)
				client->last_progress = now;
			client->output += line;
		}
	}
	for (query::Client *client : followers) {
		if (!client->dead) {
			flush(*client, now);
			update_interest(*client);
		}
	}
	for (int fd : closing_)
		close_client(fd);
	closing_.clear();
}

void QueryServer::expire(Clock::time_point now)
{
	const auto write_timeout = std::chrono::milliseconds(limits_.write_timeout_ms);
	for (auto &[fd, client] : clients_) {
		if (client->dead)
			continue;
		if (client->busy()) {
			if (now - client->last_progress > write_timeout)
				drop(*client, client->follower ? "slow_follower" : "write_timeout");
		} else if (!client->follower && now > client->read_deadline) {
			std::string line =
			    query::error_line(query::ErrorCode::Timeout,
			                      "no complete request within " +
			                          std::to_string(limits_.read_timeout_ms) + " ms");
			ssize_t ignored = send(client->fd.get(), line.data(), line.size(),
			                       MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)ignored;
			drop(*client, "read_timeout");
		}
	}
	for (int fd : closing_)
		close_client(fd);
	closing_.clear();
}

} // namespace rstwatch
