#include "core/enrich.h"

#include "common/clock.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <unordered_map>

namespace rstwatch
{

CgroupCache::CgroupCache(WorkloadSources sources)
    : root_(std::move(sources.cgroup_root)), pods_(std::move(sources.pods_log_dir))
{
}

void CgroupCache::name_pod(CgroupInfo &info)
{
	if (const PodLogName *name = pods_.find(info.pod_uid)) {
		info.pod_namespace = name->pod_namespace;
		info.pod_name = name->pod_name;
	}
}

const CgroupInfo *CgroupCache::lookup(uint64_t cgroup_id)
{
	if (!cgroup_id || root_.empty())
		return nullptr;
	auto found = by_id_.find(cgroup_id);
	if (found != by_id_.end()) {
		CgroupInfo &info = *found->second;
		if (!info.pod_uid.empty() && info.pod_name.empty())
			name_pod(info);
		return &info;
	}
	// A new id gets one walk of the hierarchy at once (cgroups are created
	// rarely); an id the walk did not find is retried at most once a second,
	// so events from a vanished cgroup cannot turn every lookup into a walk.
	int64_t now = monotonic_now_ns();
	bool tried_before = missing_.count(cgroup_id) != 0;
	if (tried_before && now - last_scan_ns_ < 1'000'000'000LL)
		return nullptr;
	last_scan_ns_ = now;
	rescan();
	if (missing_.size() > 4096)
		missing_.clear();
	missing_.insert(cgroup_id);
	found = by_id_.find(cgroup_id);
	return found == by_id_.end() ? nullptr : found->second.get();
}

void CgroupCache::rescan()
{
	namespace fs = std::filesystem;
	// On cgroup v2 the id the kernel reports is the directory's inode.
	auto add = [&](const fs::path &dir) {
		struct stat st {
		};
		if (stat(dir.c_str(), &st) != 0 || by_id_.count(st.st_ino))
			return;
		auto info = std::make_unique<CgroupInfo>();
		std::string relative = dir.string().substr(root_.size());
		info->path = relative.empty() ? "/" : relative;
		describe_cgroup_path(*info);
		if (!info->pod_uid.empty())
			name_pod(*info);
		by_id_.emplace(st.st_ino, std::move(info));
	};
	std::error_code ec;
	add(root_);
	for (fs::recursive_directory_iterator
	         it(root_, fs::directory_options::skip_permission_denied, ec),
	     end;
	     it != end; it.increment(ec)) {
		if (ec)
			break;
		if (it->is_directory(ec) && !it->is_symlink(ec))
			add(it->path());
	}
}

namespace
{

// The 4-tuple in one canonical form: IPv4 as v4-mapped IPv6, so an AF_INET
// socket and a dual-stack AF_INET6 socket on the same flow compare equal.
struct TupleKey {
	uint8_t local[16];
	uint8_t remote[16];
	uint16_t local_port;
	uint16_t remote_port;

	bool operator==(const TupleKey &other) const
	{
		return std::memcmp(this, &other, sizeof(*this)) == 0;
	}
};

void canonical_address(const rstwatch_event &e, const uint8_t *address, uint8_t out[16])
{
	if (e.family == RSTWATCH_AF_INET6) {
		std::memcpy(out, address, 16);
		return;
	}
	static constexpr uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	std::memcpy(out, prefix, 12);
	std::memcpy(out + 12, address, 4);
}

// The tuple as seen from the side that sent the reset.
TupleKey sender_view(const rstwatch_event &e, bool mirrored)
{
	TupleKey key{};
	canonical_address(e, mirrored ? e.remote_addr : e.local_addr, key.local);
	canonical_address(e, mirrored ? e.local_addr : e.remote_addr, key.remote);
	key.local_port = mirrored ? e.remote_port : e.local_port;
	key.remote_port = mirrored ? e.local_port : e.remote_port;
	return key;
}

struct TupleHash {
	size_t operator()(const TupleKey &key) const
	{
		// Eight bytes at a time, each word mixed with a multiply; a
		// byte-at-a-time hash was a visible share of a storm's cost.
		static_assert(sizeof(TupleKey) == 36);
		uint64_t words[5] = {};
		std::memcpy(words, &key, sizeof(key));
		uint64_t hash = 0x9e3779b97f4a7c15ULL;
		for (uint64_t word : words) {
			hash = (hash ^ word) * 0xbf58476d1ce4e5b9ULL;
			hash ^= hash >> 31;
		}
		return hash;
	}
};

PeerLink link_to(const ResetEvent &event)
{
	PeerLink link;
	link.event_id = event.id;
	link.cause = event.raw.cause;
	link.owner_source = event.raw.owner_source;
	link.pid = event.raw.owner_pid;
	std::memcpy(link.comm, event.raw.owner_comm, sizeof(link.comm));
	return link;
}

} // namespace

// A direct-mapped table: one slot per hash value, overwritten by the next
// sent reset that hashes there. Under a storm that bounds memory and makes
// every lookup one probe; a sent reset whose slot is taken before its peer's
// reset arrives simply goes unlinked.
struct PeerLinker::State {
	struct Slot {
		TupleKey key;
		bool used;
		uint64_t timestamp_ns;
		PeerLink as_peer;
		ResetEvent *in_batch; // only during link()
	};
	std::vector<Slot> slots; // kMaxRemembered, made at the first sent reset
	// Slots whose in_batch points into the current batch.
	std::vector<Slot *> pointing_into_batch;
	uint64_t newest_ns = 0;

	Slot &slot_for(const TupleKey &key)
	{
		static_assert((kMaxRemembered & (kMaxRemembered - 1)) == 0, "a power of two");
		return slots[TupleHash{}(key) & (kMaxRemembered - 1)];
	}
};

PeerLinker::PeerLinker() : state_(std::make_unique<State>()) {}
PeerLinker::~PeerLinker() = default;

size_t PeerLinker::remembered() const
{
	size_t count = 0;
	for (const State::Slot &slot : state_->slots)
		count += slot.used && slot.timestamp_ns + kWindowNs >= state_->newest_ns;
	return count;
}

void PeerLinker::link(std::span<ResetEvent> batch)
{
	State &state = *state_;
	auto within_window = [](uint64_t a, uint64_t b) {
		return (a > b ? a - b : b - a) <= static_cast<uint64_t>(kWindowNs);
	};

	for (ResetEvent &event : batch) {
		state.newest_ns = std::max<uint64_t>(state.newest_ns, event.raw.timestamp_ns);
		if (event.raw.direction != RSTWATCH_DIR_SENT)
			continue;
		if (state.slots.empty())
			state.slots.resize(kMaxRemembered);
		TupleKey key = sender_view(event.raw, false);
		State::Slot &slot = state.slot_for(key);
		slot = {key, true, event.raw.timestamp_ns, link_to(event), &event};
		state.pointing_into_batch.push_back(&slot);
	}
	if (!state.slots.empty()) {
		for (ResetEvent &event : batch) {
			if (event.raw.direction != RSTWATCH_DIR_RECEIVED)
				continue;
			TupleKey key = sender_view(event.raw, true);
			State::Slot &slot = state.slot_for(key);
			if (!slot.used || !(slot.key == key) ||
			    !within_window(slot.timestamp_ns, event.raw.timestamp_ns))
				continue;
			event.peer = slot.as_peer;
			if (slot.in_batch)
				slot.in_batch->peer = link_to(event);
		}
	}
	for (State::Slot *slot : state.pointing_into_batch)
		slot->in_batch = nullptr;
	state.pointing_into_batch.clear();
}

void Enricher::enrich(std::span<ResetEvent> batch)
{
	for (ResetEvent &event : batch)
		event.cgroup = cgroups_.lookup(event.raw.cgroup_id);
	peers_.link(batch);
}

} // namespace rstwatch
