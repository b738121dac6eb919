// The query socket: a unix stream socket that rstwatch talks to, served from
// rstwatchd's event loop without ever blocking it. Every socket is
// non-blocking; a client that sends too much, too slowly, or reads its
// answers too slowly is cut off with a counted reason instead of holding up
// ingestion. Requests and responses are the JSON lines of request.h and response.h.
#pragma once

#include "common/unique_fd.h"
#include "core/event_format.h"
#include "core/event_store.h"
#include "daemon/query/client.h"
#include "daemon/query/dispatch.h"
#include "daemon/query/limits.h"
#include "daemon/query/request.h"
#include "daemon/query/response.h"
#include "daemon/query/unix_listener.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rstwatch
{

class QueryServer
{
public:
	using Clock = std::chrono::steady_clock;

	struct Hooks {
		// A client was refused or dropped; reason from kClientDropReasons.
		std::function<void(std::string_view reason)> dropped;
		// A request was answered (command "invalid" when it did not parse).
		std::function<void(std::string_view command, bool ok)> served;
		std::function<query::DaemonStats()> stats;
	};

	// Creates the socket (and its directory, 0750, when missing), owned by
	// `group` when that group exists, mode 0660, and listens. Throws Error.
	QueryServer(const std::string &path, const std::string &group, QueryLimits limits,
	            const EventStore &store, const OutputContext &output, Hooks hooks);
	~QueryServer();
	QueryServer(const QueryServer &) = delete;
	QueryServer &operator=(const QueryServer &) = delete;

	// Readable when the listener or any client needs attention; the
	// daemon's epoll watches it and then calls handle_ready().
	int fd() const { return epoll_.get(); }
	void handle_ready(Clock::time_point now);
	// Streams a drained (and enriched) batch to the followers.
	void publish(std::span<const ResetEvent> batch, Clock::time_point now);
	// Drops clients past their read or write deadline.
	void expire(Clock::time_point now);
	void set_limits(const QueryLimits &limits) { limits_ = limits; }

	const std::string &path() const { return listener_.path(); }
	// Empty when the group does not exist (then only root and rstwatchd's
	// own user may query).
	const std::string &group() const { return listener_.group(); }
	size_t clients() const { return clients_.size(); }
	// A client (not a follower) is waiting for the rest of an answer.
	bool answering() const;
	size_t followers() const;
	const std::map<std::string, uint64_t> &dropped() const { return dropped_; }

private:
	void accept_clients(Clock::time_point now);
	void refuse(int fd, std::string_view reason, query::ErrorCode code,
	            std::string_view message);
	void read_from(query::Client &client, Clock::time_point now);
	void process_input(query::Client &client, Clock::time_point now);
	void answer(query::Client &client, std::string_view line, Clock::time_point now);
	void flush(query::Client &client, Clock::time_point now);
	// The next chunk of an answer in progress; false when the client was
	// dropped because the store forgot its replay's events first.
	bool continue_answer(query::Client &client);
	void update_interest(query::Client &client);
	void drop(query::Client &client, std::string_view reason);
	void close_client(int fd);

	QueryLimits limits_;
	const OutputContext &output_;
	Hooks hooks_;
	query::Dispatcher dispatcher_;
	UnixListener listener_;
	UniqueFd epoll_;
	std::unordered_map<int, std::unique_ptr<query::Client>> clients_;
	std::vector<int> closing_;
	std::map<std::string, uint64_t> dropped_;
};

} // namespace rstwatch
