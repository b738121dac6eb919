// The workload a socket's cgroup path names: its systemd unit, container and
// Kubernetes pod, and the pod names the kubelet's log directories give.
//
// Every path component and directory name is hostile: a process allowed to
// make cgroups (a delegated service, a container with its own cgroup
// namespace) names its own subtree as it likes, and anything malformed must
// come out as "unknown", never as a name the writer chose for someone else.
// Hence the unit is the outermost one on the path, the pod the first pod
// component (what the kubelet made; deeper ones were made from inside), and
// every value is checked against the shape its producer gives it.
#pragma once

#include "core/reset_event.h"

#include <optional>
#include <string>
#include <string_view>

namespace rstwatch
{

// Longest path and deepest nesting read; past them nothing is derived.
inline constexpr size_t kMaxCgroupPathBytes = 4096;
inline constexpr size_t kMaxCgroupDepth = 64;

// Fills in unit, container and pod_uid from info.path (the pod's names are
// PodDirectory's, below).
void describe_cgroup_path(CgroupInfo &info);

// "nginx.service", "session-2.scope", "user@1000.service": the characters
// systemd allows in a unit name, at most 255 of them, with a suffix of a
// unit that holds processes.
bool is_unit_name(std::string_view text);
// 64 lowercase hex digits, as docker, containerd and CRI-O name containers.
bool is_container_id(std::string_view text);
// A pod uid as the kubelet writes it: a lowercase UUID ("8-4-4-4-12"), or
// 32 hex digits for a static pod (a hash of its manifest).
bool is_pod_uid(std::string_view text);
// A namespace: a DNS-1123 label (at most 63 of [a-z0-9-], alphanumeric at
// both ends).
bool is_pod_namespace(std::string_view text);
// A pod name: a DNS-1123 subdomain (at most 253 of [a-z0-9.-],
// alphanumeric at both ends).
bool is_pod_name(std::string_view text);

struct PodLogName {
	std::string pod_namespace;
	std::string pod_name;
	std::string pod_uid;
};
// A kubelet log directory name, "NAMESPACE_NAME_UID"; nullopt unless all
// three parts have their shapes (none of them may hold '_').
std::optional<PodLogName> parse_pod_log_name(std::string_view text);

} // namespace rstwatch
