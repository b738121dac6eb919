// Answering a request: one line from a client in, its response appended to
// the client's output. The server decides when to read and write; this
// decides what the answer is.
#pragma once

#include "core/event_format.h"
#include "core/event_store.h"
#include "daemon/query/client.h"
#include "daemon/query/response.h"

#include <functional>
#include <string_view>
#include <utility>

namespace rstwatch::query
{

class Dispatcher
{
public:
	// Starts an audit whose answer comes later; false when the daemon
	// cannot audit (no socket iterator).
	using AuditStarter = std::function<bool(const ClientTicket &, const Request &)>;

	// `stats` gathers the daemon's counters for a stats request; without
	// it, stats reports zeros. Without `audit`, audit requests fail.
	Dispatcher(const EventStore &store, const OutputContext &output,
	           std::function<DaemonStats()> stats, AuditStarter audit = {})
	    : store_(store), output_(output), stats_(std::move(stats)), audit_(std::move(audit))
	{
	}

	struct Answer {
		// The command's name, "invalid" when the line did not parse.
		std::string_view command;
		bool ok = true;
		bool parsed = true;
		// The answer comes later (an audit): served once it does.
		bool deferred = false;
	};
	// A follow request makes the client a follower (replaying the stored
	// events of its window first); a recent one starts a response that
	// continue_answer() writes as the socket takes it.
	Answer answer(Client &client, std::string_view line) const;
	// Serializes the next chunk of a recent response or a follower's
	// replay in progress (a recent response's tail once every event is
	// out). False when the store forgot events before they were replayed:
	// the client reads too slowly to be given its window.
	bool continue_answer(Client &client) const;

private:
	void continue_recent(Client &client) const;
	bool continue_replay(Client &client) const;

	const EventStore &store_;
	const OutputContext &output_;
	std::function<DaemonStats()> stats_;
	AuditStarter audit_;
};

} // namespace rstwatch::query
