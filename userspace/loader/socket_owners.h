// The daemon's OwnerLookup: socket inode -> the processes holding it, from a
// BPF iter/task_file program run on demand (one pass over every process's
// descriptors, filtered in the kernel to the inodes asked for), and the
// listener owners the set_state hook records. The same object walks the live
// TCP sockets for the audit (bpf/audit.bpf.c), owners included.
#pragma once

#include "core/owner.h"
#include "loader/bpf_handles.h"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct rstwatch_iter;

namespace rstwatch
{

class SocketOwners final : public OwnerLookup
{
public:
	// `listeners_fd` is the main object's "listeners" map; `hz` is
	// CONFIG_HZ (0: unknown), for the audit's times. Loads the iterators;
	// throws Error when the kernel refuses them.
	SocketOwners(int listeners_fd, unsigned hz);
	~SocketOwners() override;
	SocketOwners(const SocketOwners &) = delete;
	SocketOwners &operator=(const SocketOwners &) = delete;

	void find_holders(std::span<const uint64_t> inodes, HolderMap &out) override;
	std::optional<rstwatch_owner> listener(uint32_t netns, uint16_t port) override;
	// The holders of every socket on the host.
	void find_all_holders(HolderMap &out);
	// Hands `record` one record per TCP socket a process holds and
	// holding process, the holder as owner (LiveSocketCollector gathers
	// them). Safe on the audit worker thread while the event loop runs
	// find_holders(): see holders_mutex_.
	void read_live_sockets(const std::function<void(const rstwatch_event &)> &record) const;

private:
	// One pass of the iterator; with `only_wanted`, only the inodes in
	// the wanted map are reported, else every socket. The caller holds
	// holders_mutex_.
	void read_records(HolderMap &out, bool only_wanted);

	struct SkeletonDeleter {
		void operator()(rstwatch_iter *skel) const noexcept;
	};
	std::unique_ptr<rstwatch_iter, SkeletonDeleter> skel_;
	// The socket-holders program reads settings one run writes and the
	// next overwrites: only_wanted (.data) and the wanted_inodes map,
	// both shared by every run of it. Two runs at once (the event loop's
	// owner lookup and any other thread's) would each see the other's
	// inodes or filter, so each run holds this from setting them to
	// reading its last record. The audit program takes no settings but
	// the read-only jiffies_per_second, and every bpf_iter_create() gets a
	// seq_file of its own, so read_live_sockets() needs no lock and an
	// audit never waits for, nor holds up, an owner lookup.
	std::mutex holders_mutex_;
	LinkPtr link_;
	LinkPtr audit_link_;
	int listeners_fd_;
};

} // namespace rstwatch
