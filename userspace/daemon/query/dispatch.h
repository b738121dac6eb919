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
	// `stats` gathers the daemon's counters for a stats request; without
	// it, stats reports zeros.
	Dispatcher(const EventStore &store, const OutputContext &output,
	           std::function<DaemonStats()> stats)
	    : store_(store), output_(output), stats_(std::move(stats))
	{
	}

	struct Answer {
		// The command's name, "invalid" when the line did not parse.
		std::string_view command;
		bool ok = true;
		bool parsed = true;
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
};

} // namespace rstwatch::query
