#include "loader/socket_owners.h"

#include "common/error.h"
#include "rstwatch/holders.h"
#include "rstwatch_iter.skel.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>

namespace rstwatch
{

void SocketOwners::SkeletonDeleter::operator()(rstwatch_iter *skel) const noexcept
{
	rstwatch_iter__destroy(skel);
}

SocketOwners::SocketOwners(int listeners_fd) : listeners_fd_(listeners_fd)
{
	skel_.reset(rstwatch_iter__open());
	if (!skel_)
		throw Error("opening the socket-holders iterator failed: " + errno_text(errno));
	if (int err = rstwatch_iter__load(skel_.get()))
		throw Error("loading the socket-holders iterator (iter/task_file) failed: " +
		            errno_text(err));
	link_.reset(bpf_program__attach_iter(skel_->progs.rstw_socket_holders, nullptr));
	if (!link_)
		throw Error("attaching the socket-holders iterator failed: " + errno_text(errno));
}

SocketOwners::~SocketOwners() = default;

void SocketOwners::read_records(HolderMap &out, bool only_wanted)
{
	skel_->data->only_wanted = only_wanted;
	UniqueFd iter(bpf_iter_create(bpf_link__fd(link_.get())));
	if (!iter)
		throw Error("starting the socket-holders iterator failed: " + errno_text(errno));
	// Records never straddle reads: the kernel's seq_file hands out whole
	// records written by bpf_seq_write, and each is a fixed size.
	std::vector<char> buffer(64 * sizeof(rstwatch_holder) * 16);
	for (;;) {
		ssize_t n = ::read(iter.get(), buffer.data(), buffer.size());
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			throw Error("reading the socket-holders iterator failed: " +
			            errno_text(errno));
		if (n == 0)
			break;
		for (size_t at = 0; at + sizeof(rstwatch_holder) <= static_cast<size_t>(n);
		     at += sizeof(rstwatch_holder)) {
			rstwatch_holder record;
			std::memcpy(&record, buffer.data() + at, sizeof(record));
			SocketHolder holder;
			holder.pid = record.pid;
			holder.fd = record.fd;
			holder.exiting = record.exiting != 0;
			std::memcpy(holder.comm, record.comm, sizeof(holder.comm));
			out[record.inode].push_back(holder);
		}
	}
	// One entry per process, lowest pid first: a process holding the same
	// socket twice (dup) is one holder.
	for (auto &[inode, holders] : out) {
		std::sort(holders.begin(), holders.end(),
		          [](const SocketHolder &a, const SocketHolder &b) {
			          return a.pid != b.pid ? a.pid < b.pid : a.fd < b.fd;
		          });
		holders.erase(std::unique(holders.begin(), holders.end(),
		                          [](const SocketHolder &a, const SocketHolder &b) {
			                          return a.pid == b.pid;
		                          }),
		              holders.end());
	}
}

void SocketOwners::find_holders(std::span<const uint64_t> inodes, HolderMap &out)
{
	const int wanted = bpf_map__fd(skel_->maps.wanted_inodes);
	const uint8_t yes = 1;
	std::vector<uint64_t> added;
	bool all = inodes.size() > RSTWATCH_MAX_WANTED_INODES;
	for (size_t i = 0; !all && i < inodes.size(); i++) {
		if (bpf_map_update_elem(wanted, &inodes[i], &yes, BPF_ANY) == 0)
			added.push_back(inodes[i]);
		else
			all = true;
	}
	HolderMap found;
	try {
		read_records(found, !all);
	} catch (...) {
		for (uint64_t inode : added)
			bpf_map_delete_elem(wanted, &inode);
		throw;
	}
	for (uint64_t inode : added)
		bpf_map_delete_elem(wanted, &inode);
	std::unordered_set<uint64_t> asked(inodes.begin(), inodes.end());
	for (auto &[inode, holders] : found)
		if (asked.count(inode))
			out[inode] = std::move(holders);
}

void SocketOwners::find_all_holders(HolderMap &out)
{
	read_records(out, false);
}

std::optional<rstwatch_owner> SocketOwners::listener(uint32_t netns, uint16_t port)
{
	rstwatch_listener_key key{};
	key.netns = netns;
	key.port = port;
	rstwatch_owner owner{};
	if (bpf_map_lookup_elem(listeners_fd_, &key, &owner) != 0)
		return std::nullopt;
	return owner;
}

} // namespace rstwatch
