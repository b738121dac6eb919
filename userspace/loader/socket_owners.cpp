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

namespace
{

// Reads one pass of an iterator that writes fixed-size records, handing each
// to `record`. A read returns what the kernel's seq_file buffer held, whole
// records as long as the buffer here is larger; a record split across reads
// is put back together all the same.
template <typename Record, typename Handler>
void read_iterator(bpf_link *link, const char *what, Handler &&record)
{
	UniqueFd iter(bpf_iter_create(bpf_link__fd(link)));
	if (!iter)
		throw Error(std::string("starting the ") + what +
		            " iterator failed: " + errno_text(errno));
	std::vector<char> buffer(1024 * sizeof(Record));
	size_t filled = 0;
	for (;;) {
		ssize_t n = ::read(iter.get(), buffer.data() + filled, buffer.size() - filled);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			throw Error(std::string("reading the ") + what +
			            " iterator failed: " + errno_text(errno));
		if (n == 0)
			break;
		filled += static_cast<size_t>(n);
		size_t at = 0;
		for (; at + sizeof(Record) <= filled; at += sizeof(Record)) {
			Record value;
			std::memcpy(&value, buffer.data() + at, sizeof(value));
			record(value);
		}
		std::memmove(buffer.data(), buffer.data() + at, filled - at);
		filled -= at;
	}
}

} // namespace

SocketOwners::SocketOwners(int listeners_fd, unsigned hz) : listeners_fd_(listeners_fd)
{
	skel_.reset(rstwatch_iter__open());
	if (!skel_)
		throw Error("opening the socket iterators failed: " + errno_text(errno));
	skel_->rodata->jiffies_per_second = hz;
	if (int err = rstwatch_iter__load(skel_.get()))
		throw Error("loading the socket iterators (iter/task_file) failed: " +
		            errno_text(err));
	link_.reset(bpf_program__attach_iter(skel_->progs.rstw_socket_holders, nullptr));
	if (!link_)
		throw Error("attaching the socket-holders iterator failed: " + errno_text(errno));
	audit_link_.reset(bpf_program__attach_iter(skel_->progs.rstw_audit_sockets, nullptr));
	if (!audit_link_)
		throw Error("attaching the audit iterator failed: " + errno_text(errno));
}

SocketOwners::~SocketOwners() = default;

void SocketOwners::read_records(HolderMap &out, bool only_wanted)
{
	skel_->data->only_wanted = only_wanted;
	read_iterator<rstwatch_holder>(
	    link_.get(), "socket-holders", [&out](const rstwatch_holder &record) {
		    SocketHolder holder;
		    holder.pid = record.pid;
		    holder.fd = record.fd;
		    holder.exiting = record.exiting != 0;
		    std::memcpy(holder.comm, record.comm, sizeof(holder.comm));
		    out[record.inode].push_back(holder);
	    });
	for (auto &[inode, holders] : out)
		sort_holders(holders);
}

void SocketOwners::find_holders(std::span<const uint64_t> inodes, HolderMap &out)
{
	std::lock_guard lock(holders_mutex_);
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
	std::lock_guard lock(holders_mutex_);
	read_records(out, false);
}

void SocketOwners::read_live_sockets(
    const std::function<void(const rstwatch_event &)> &record) const
{
	read_iterator<rstwatch_event>(audit_link_.get(), "audit", [&](const rstwatch_event &value) {
		if (value.version == RSTWATCH_EVENT_VERSION)
			record(value);
	});
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
