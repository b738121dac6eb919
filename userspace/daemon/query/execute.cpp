#include "daemon/query/execute.h"

#include "core/owner.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

namespace rstwatch::query
{

std::vector<const ResetEvent *> select_recent(const EventStore &store, const EventFilter &filter,
                                              size_t limit,
                                              const rstwatch_classify_config &classify)
{
	std::vector<const ResetEvent *> selected;
	if (limit == 0)
		return selected;
	store.visit_newest_first([&](const ResetEvent &event) {
		// Older events cannot match a lower bound the newer ones failed.
		if (filter.after_id && event.id <= *filter.after_id)
			return false;
		if (filter.matches(event, classify))
			selected.push_back(&event);
		return selected.size() < limit;
	});
	std::reverse(selected.begin(), selected.end());
	return selected;
}

TopResult aggregate_top(const EventStore &store, const EventFilter &filter, GroupBy by,
                        size_t limit, const rstwatch_classify_config &classify)
{
	TopResult result;
	result.by = by;
	std::unordered_map<std::string, TopGroup> groups;
	store.visit_newest_first([&](const ResetEvent &event) {
		if (filter.after_id && event.id <= *filter.after_id)
			return false;
		if (!filter.matches(event, classify))
			return true;
		const rstwatch_event &raw = event.raw;
		Cause cause = classify_cause(raw, classify);
		std::string key;
		switch (by) {
		case GroupBy::RemoteAddress:
			key = format_address(raw, false);
			break;
		case GroupBy::Process:
			key = !owner_named(raw.owner_source)
			          ? "(unattributed)"
			          : std::string(comm_text(raw.owner_comm)) + "[" +
			                std::to_string(raw.owner_pid) + "]";
			break;
		case GroupBy::LocalPort:
			key = std::to_string(raw.local_port);
			break;
		case GroupBy::Cause:
			key = cause_name(cause);
			break;
		}
		auto [it, inserted] = groups.try_emplace(key);
		TopGroup &group = it->second;
		if (inserted) {
			// Visited newest first: the first event seen is the last one.
			group.key = std::move(key);
			group.last_seen_ns = event.realtime_ns;
			group.last_id = event.id;
			switch (by) {
			case GroupBy::RemoteAddress:
				group.remote_address = group.key;
				break;
			case GroupBy::Process:
				if (owner_named(raw.owner_source)) {
					group.pid = raw.owner_pid;
					group.comm = comm_text(raw.owner_comm);
				}
				break;
			case GroupBy::LocalPort:
				group.local_port = raw.local_port;
				break;
			case GroupBy::Cause:
				group.cause = cause;
				break;
			}
		}
		group.count++;
		(raw.direction == RSTWATCH_DIR_SENT ? group.sent : group.received)++;
		group.by_cause[static_cast<size_t>(cause)]++;
		result.matched++;
		return true;
	});
	result.group_count = groups.size();
	result.groups.reserve(groups.size());
	for (auto &[key, group] : groups)
		result.groups.push_back(std::move(group));
	std::sort(result.groups.begin(), result.groups.end(),
	          [](const TopGroup &a, const TopGroup &b) {
		          if (a.count != b.count)
			          return a.count > b.count;
		          if (a.last_id != b.last_id)
			          return a.last_id > b.last_id;
		          return a.key < b.key;
	          });
	if (result.groups.size() > limit)
		result.groups.resize(limit);
	return result;
}

} // namespace rstwatch::query
