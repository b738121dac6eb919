// What a request selects from the event store: the events of `recent` and
// the groups of `top`. Pure: the store and the classifier settings come in,
// plain results go out, for response.h to write.
#pragma once

#include "core/classifier.h"
#include "core/event_store.h"
#include "core/reset_event.h"
#include "daemon/query/request.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rstwatch::query
{

// The newest `limit` events the filter selects, oldest first.
std::vector<const ResetEvent *> select_recent(const EventStore &store, const EventFilter &filter,
                                              size_t limit,
                                              const rstwatch_classify_config &classify);

struct TopGroup {
	std::string key;
	uint64_t count = 0;
	uint64_t sent = 0;
	uint64_t received = 0;
	std::array<uint64_t, kCauseCount> by_cause{};
	int64_t last_seen_ns = 0;
	uint64_t last_id = 0;
	// What the key is made of, for clients that want the parts.
	std::optional<uint32_t> pid;
	std::optional<std::string> comm;
	std::optional<uint16_t> local_port;
	std::optional<std::string> remote_address;
	std::optional<Cause> cause;
	// The workload groups' parts: "" when the group is of resets with no
	// unit, container or pod.
	std::optional<std::string> systemd_unit;
	std::optional<std::string> container_id;
	std::optional<std::string> pod_namespace;
	std::optional<std::string> pod_name;
	std::optional<std::string> pod_uid;
	std::optional<uint32_t> netns;
};

struct TopResult {
	GroupBy by = GroupBy::Process;
	uint64_t matched = 0; // events the filter selected, in every group
	size_t group_count = 0;
	std::vector<TopGroup> groups; // largest first, at most `limit`
};

// How far back the store reaches, and what a window loses past it.
struct Coverage {
	uint64_t oldest_id = 0; // 0 when the store is empty
	uint64_t newest_id = 0;
	int64_t oldest_ns = 0;
	uint64_t forgotten = 0; // every reset the store no longer holds
	// False when the window reaches back past the oldest event held while
	// some were forgotten: the answer is missing resets.
	bool window_complete = true;
	// The forgotten resets in the window, from the store's tally.
	uint64_t older_resets = 0;
	std::array<uint64_t, kCauseCount> older_by_cause{};
	// False when the filter has parts the tally cannot apply (process,
	// ports, address, workload): older_resets then counts them all.
	bool older_filtered = true;
};
Coverage store_coverage(const EventStore &store, const EventFilter &filter);

TopResult aggregate_top(const EventStore &store, const EventFilter &filter, GroupBy by,
                        size_t limit, const rstwatch_classify_config &classify);

} // namespace rstwatch::query
