// Enrichment between decoding and the sinks: what userspace can add to a
// batch of events that the kernel could not (cgroup paths, and the link
// between the two ends of a reset when both are on this host).
#pragma once

#include "core/pod_directory.h"
#include "core/reset_event.h"
#include "core/workload.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace rstwatch
{

// Where the workload of a socket is looked up.
struct WorkloadSources {
	std::string cgroup_root;  // the cgroup2 mount (cgroup2_mount()); "": none
	std::string pods_log_dir; // the kubelet's pod log directory; "": no pod names
};

// cgroup v2 id -> path (and the systemd unit, container and pod it names).
// Resolved once per id by walking the cgroup2 mount; entries are never
// freed, so ResetEvent::cgroup pointers stay valid for the daemon's life.
// A pod whose names are not known yet gets them at a later lookup, once its
// log directory shows up.
class CgroupCache
{
public:
	explicit CgroupCache(WorkloadSources sources);
	// nullptr for id 0 or an id not (yet) in the hierarchy.
	const CgroupInfo *lookup(uint64_t cgroup_id);
	size_t size() const { return by_id_.size(); }

private:
	void rescan();
	void name_pod(CgroupInfo &info);
	std::string root_;
	PodDirectory pods_;
	std::unordered_map<uint64_t, std::unique_ptr<CgroupInfo>> by_id_;
	std::unordered_set<uint64_t> missing_; // ids a walk did not find
	int64_t last_scan_ns_ = 0;
};

// Links a received reset to the sent reset on the mirrored 4-tuple (both
// ends on this host: loopback or another namespace), in either order: on
// loopback the receiving side often runs before the sender's tracepoint.
class PeerLinker
{
public:
	PeerLinker();
	~PeerLinker();
	// Links within the batch and against sent resets of the last
	// kWindowNs; updates both events of each pair found in the batch.
	void link(std::span<ResetEvent> batch);
	// Sent resets still within the window of the newest event seen.
	size_t remembered() const;

	static constexpr int64_t kWindowNs = 2'000'000'000;
	// Slots for sent resets: bounds memory and time under a reset storm.
	static constexpr size_t kMaxRemembered = 4096;

private:
	struct State;
	std::unique_ptr<State> state_;
};

// Both steps; what the daemon calls on each drained batch.
class Enricher
{
public:
	explicit Enricher(WorkloadSources sources) : cgroups_(std::move(sources)) {}
	void enrich(std::span<ResetEvent> batch);

private:
	CgroupCache cgroups_;
	PeerLinker peers_;
};

} // namespace rstwatch
