// The filters that select resets by workload: systemd unit, container, pod,
// pod namespace and network namespace. All of them but netns need the
// socket's cgroup, so a reset with none resolved never matches them.
#pragma once

#include "core/reset_event.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rstwatch::query
{

struct WorkloadFilter {
	std::optional<std::string> unit;      // exact
	std::optional<std::string> container; // an id or a prefix of one
	// A pod name, "namespace/name" or a uid; the namespace part, when
	// given, is kept in pod_namespace.
	std::optional<std::string> pod;
	std::optional<std::string> pod_namespace;
	std::optional<uint32_t> netns;

	bool matches(const ResetEvent &event) const;
	bool empty() const { return !unit && !container && !pod && !pod_namespace && !netns; }
};

bool is_workload_field(std::string_view field);
// Sets the string filter `field` (unit, container, pod, namespace) from what
// a client sent; what is wrong with `text` when it cannot name one.
std::optional<std::string> set_workload_filter(std::string_view field, std::string text,
                                               WorkloadFilter &filter);

} // namespace rstwatch::query
