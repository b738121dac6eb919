#include "daemon/query/execute.h"

#include "core/owner.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

namespace rstwatch::query
{

namespace
{

// The key of a workload group. Pods are grouped by uid, so a pod whose
// names became known halfway through is still one group.
std::string workload_key(GroupBy by, const ResetEvent &event)
{
	const CgroupInfo *cgroup = event.cgroup;
	switch (by) {
	case GroupBy::Unit:
		return cgroup && !cgroup->unit.empty() ? cgroup->unit : "(no unit)";
	case GroupBy::Container:
		return cgroup && !cgroup->container.empty() ? cgroup->container : "(no container)";
	case GroupBy::Pod:
		return cgroup && !cgroup->pod_uid.empty() ? cgroup->pod_uid : "(no pod)";
	default:
		return std::to_string(event.raw.netns);
	}
}

void set_workload_parts(TopGroup &group, GroupBy by, const ResetEvent &event)
{
	static const CgroupInfo kNone;
	const CgroupInfo &cgroup = event.cgroup ? *event.cgroup : kNone;
	switch (by) {
	case GroupBy::Unit:
		group.systemd_unit = cgroup.unit;
		break;
	case GroupBy::Container:
		group.container_id = cgroup.container;
		break;
	case GroupBy::Pod:
		group.pod_uid = cgroup.pod_uid;
		group.pod_namespace = cgroup.pod_namespace;
		group.pod_name = cgroup.pod_name;
		break;
	default:
		group.netns = event.raw.netns;
		break;
	}
}

} // namespace

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

Coverage store_coverage(const EventStore &store, const EventFilter &filter)
{
	Coverage coverage;
	const ForgottenTally &forgotten = store.forgotten();
	coverage.forgotten = forgotten.total();
	if (!store.empty()) {
		coverage.oldest_id = store.oldest_id();
		coverage.newest_id = store.newest_id();
		coverage.oldest_ns = store.at(0).realtime_ns;
	}
	if (coverage.forgotten == 0)
		return coverage;
	if (filter.after_id && *filter.after_id + 1 >= coverage.oldest_id)
		return coverage;
	if (filter.since_ns && !store.empty() && *filter.since_ns >= coverage.oldest_ns)
		return coverage;
	coverage.window_complete = false;
	ForgottenTally::Count older =
	    forgotten.count({filter.since_ns, filter.until_ns, filter.direction, filter.cause});
	coverage.older_resets = older.resets;
	coverage.older_by_cause = older.by_cause;
	coverage.older_filtered = !filter.pid && !filter.comm && !filter.local_port &&
	                          !filter.remote_port && !filter.address && filter.workload.empty();
	return coverage;
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
		default:
			key = workload_key(by, event);
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
			default:
				set_workload_parts(group, by, event);
				break;
			}
		} else if (by == GroupBy::Pod && group.pod_name->empty() && event.cgroup &&
		           !event.cgroup->pod_name.empty()) {
			// Any event of the pod that has its names gives them.
			set_workload_parts(group, by, event);
		}
		group.count++;
		(raw.direction == RSTWATCH_DIR_SENT ? group.sent : group.received)++;
		group.by_cause[static_cast<size_t>(cause)]++;
		result.matched++;
		return true;
	});
	result.group_count = groups.size();
	result.groups.reserve(groups.size());
	for (auto &[key, group] : groups) {
		// A named pod is shown by its names; its uid stays in pod_uid.
		if (group.pod_name && !group.pod_name->empty())
			group.key = *group.pod_namespace + "/" + *group.pod_name;
		result.groups.push_back(std::move(group));
	}
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
