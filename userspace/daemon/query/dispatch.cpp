#include "daemon/query/dispatch.h"

#include "common/clock.h"
#include "common/json_text.h"
#include "common/wire.h"
#include "daemon/query/execute.h"

#include <algorithm>
#include <exception>
#include <string>
#include <variant>
#include <vector>

namespace rstwatch::query
{

namespace
{

// Stored ids a replay looks at per turn of the event loop, so a window the
// filter mostly rejects does not hold the loop for the whole store.
constexpr uint64_t kReplayScan = 4096;

} // namespace

Dispatcher::Answer Dispatcher::answer(Client &client, std::string_view line) const
{
	ParseResult parsed = parse_request(line, realtime_now_ns());
	if (const auto *error = std::get_if<RequestError>(&parsed)) {
		client.output += error_line(*error);
		return {"invalid", false, false};
	}
	const Request &request = std::get<Request>(parsed);
	Answer answer{command_name(request.command)};
	try {
		switch (request.command) {
		case Command::Recent: {
			std::vector<const ResetEvent *> selected =
			    select_recent(store_, request.filter, request.limit, output_.classify);
			client.pending.reserve(selected.size());
			for (const ResetEvent *event : selected)
				client.pending.push_back(*event);
			client.next_pending = 0;
			client.recent_in_progress = true;
			client.output += recent_response_head(
			    client.pending.size(), store_coverage(store_, request.filter));
			continue_recent(client);
			break;
		}
		case Command::Top:
			client.output +=
			    ok_line(top_to_json(aggregate_top(store_, request.filter, request.by,
			                                      request.limit, output_.classify),
			                        store_coverage(store_, request.filter)));
			break;
		case Command::Stats:
			client.output += ok_line(stats_to_json(stats_ ? stats_() : DaemonStats{}));
			break;
		case Command::Follow: {
			client.follower = true;
			client.filter = request.filter;
			client.output +=
			    ok_line({{wire::response::kCommand, wire::command::kFollow}});
			// Without a window back in time there is nothing to replay.
			const EventFilter &filter = request.filter;
			if ((filter.since_ns || filter.after_id) && !store_.empty() &&
			    (!filter.after_id || *filter.after_id < store_.newest_id())) {
				client.replay_next_id =
				    std::max(store_.oldest_id(), filter.after_id.value_or(0) + 1);
				continue_replay(client);
			}
			break;
		}
		case Command::Explain:
			if (const ResetEvent *event = store_.find(request.id)) {
				client.output +=
				    ok_line({{wire::response::kCommand, wire::command::kExplain},
				             {"event", event_to_json(*event, output_)}});
			} else {
				answer.ok = false;
				client.output +=
				    error_line(ErrorCode::NotFound,
				               "no event " + std::to_string(request.id) +
				                   " in the store (it holds ids " +
				                   std::to_string(store_.oldest_id()) + " to " +
				                   std::to_string(store_.newest_id()) + ")");
			}
			break;
		}
	} catch (const std::exception &e) {
		answer.ok = false;
		client.pending.clear();
		client.recent_in_progress = false;
		client.replay_next_id.reset();
		client.output += error_line(ErrorCode::Internal, e.what());
	}
	return answer;
}

bool Dispatcher::continue_answer(Client &client) const
{
	if (client.replaying())
		return continue_replay(client);
	continue_recent(client);
	return true;
}

bool Dispatcher::continue_replay(Client &client) const
{
	uint64_t id = *client.replay_next_id;
	if (id < store_.oldest_id())
		return false;
	const uint64_t newest = store_.newest_id();
	const uint64_t scan_end = id + kReplayScan;
	{
		JsonAppender out(client.output);
		for (; id <= newest && id < scan_end && out.size() - client.sent < kOutputChunk;
		     id++) {
			const ResetEvent *event = store_.find(id);
			if (!event || !client.filter.matches(*event, output_.classify))
				continue;
			append_event_json(out, *event, output_);
			out.raw('\n');
		}
	}
	// Caught up: what the pipeline stores next is published to it live.
	if (id > newest)
		client.replay_next_id.reset();
	else
		client.replay_next_id = id;
	return true;
}

void Dispatcher::continue_recent(Client &client) const
{
	if (!client.recent_in_progress)
		return;
	{
		JsonAppender out(client.output);
		while (out.size() - client.sent < kOutputChunk &&
		       client.next_pending < client.pending.size()) {
			if (client.next_pending > 0)
				out.raw(',');
			append_event_json(out, client.pending[client.next_pending], output_);
			client.next_pending++;
		}
	}
	if (client.next_pending == client.pending.size()) {
		client.output += kRecentResponseTail;
		client.recent_in_progress = false;
		client.pending.clear();
		client.pending.shrink_to_fit();
	}
}

} // namespace rstwatch::query
