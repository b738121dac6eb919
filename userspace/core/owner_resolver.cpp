#include "core/owner_resolver.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace rstwatch
{

namespace
{

bool pending(const rstwatch_event &raw)
{
	return has_flag(raw, RSTWATCH_F_OWNER_PENDING) && raw.owner_source == RSTWATCH_OWNER_NONE;
}

void name_owner(rstwatch_event &raw, uint8_t source, uint32_t pid, uint32_t tid,
                const char (&comm)[RSTWATCH_COMM_LEN], bool exiting, uint32_t exit_code,
                uint64_t recorded_ns)
{
	raw.owner_source = source;
	raw.owner_pid = pid;
	raw.owner_tid = tid;
	raw.owner_exit_code = exit_code;
	raw.owner_recorded_ns = recorded_ns;
	std::memcpy(raw.owner_comm, comm, sizeof(raw.owner_comm));
	if (exiting)
		raw.flags |= RSTWATCH_F_OWNER_EXITING;
}

// A received reset waits for one more batch whatever its owner: when both
// ends are on this host, its sender's reset may come in the next batch, and
// the two are linked only when they leave together.
bool waits_for_sender(const rstwatch_event &raw)
{
	return raw.direction == RSTWATCH_DIR_RECEIVED;
}

} // namespace

void sort_holders(std::vector<SocketHolder> &holders)
{
	std::sort(holders.begin(), holders.end(), [](const SocketHolder &a, const SocketHolder &b) {
		return a.pid != b.pid ? a.pid < b.pid : a.fd < b.fd;
	});
	holders.erase(std::unique(holders.begin(), holders.end(),
	                          [](const SocketHolder &a, const SocketHolder &b) {
		                          return a.pid == b.pid;
	                          }),
	              holders.end());
}

void OwnerResolver::add_note(const rstwatch_owner_note &note)
{
	if (notes_.size() >= kMaxNotes)
		notes_.erase(notes_.begin());
	notes_.push_back(note);
}

void OwnerResolver::apply_notes(Held &held) const
{
	rstwatch_event &raw = held.event.raw;
	for (const rstwatch_owner_note &note : notes_) {
		if (note.socket_id != raw.socket_id || note.timestamp_ns < raw.timestamp_ns)
			continue;
		name_owner(raw, note.exiting ? RSTWATCH_OWNER_EXITED : RSTWATCH_OWNER_SOCKET,
		           note.pid, note.tid, note.comm, note.exiting, note.exit_code,
		           note.timestamp_ns);
		held.settled = true;
		return;
	}
}

void OwnerResolver::look_up()
{
	inodes_.clear();
	for (Held &held : held_) {
		if (held.settled || held.looked_up)
			continue;
		// An orphan has no file: nobody to look up.
		if (!held.event.raw.socket_inode)
			held.looked_up = true;
		else
			inodes_.push_back(held.event.raw.socket_inode);
	}
	if (inodes_.empty())
		return;
	holders_.clear();
	if (lookup_) {
		lookup_->find_holders(inodes_, holders_);
		lookups_++;
	}
	for (Held &held : held_) {
		if (held.settled || held.looked_up)
			continue;
		held.looked_up = true;
		auto found = holders_.find(held.event.raw.socket_inode);
		if (found == holders_.end() || found->second.empty())
			continue;
		const std::vector<SocketHolder> &all = found->second;
		const SocketHolder &first = all.front();
		name_owner(held.event.raw, RSTWATCH_OWNER_SOCKET, first.pid, first.pid, first.comm,
		           first.exiting, 0, 0);
		if (all.size() > 1)
			held.event.holders = std::make_shared<const std::vector<SocketHolder>>(all);
		held.settled = true;
	}
}

void OwnerResolver::settle_late(ResetEvent &event)
{
	rstwatch_event &raw = event.raw;
	if (lookup_) {
		if (auto owner = lookup_->listener(raw.netns, raw.local_port)) {
			name_owner(raw, RSTWATCH_OWNER_LISTENER, owner->pid, owner->tid,
			           owner->comm, owner->exiting, owner->exit_code,
			           owner->recorded_ns);
			return;
		}
	}
	raw.owner_source = RSTWATCH_OWNER_UNRESOLVED;
}

void OwnerResolver::expire_notes()
{
	if (newest_ns_ <= static_cast<uint64_t>(kNoteWindowNs))
		return;
	const uint64_t oldest = newest_ns_ - kNoteWindowNs;
	std::erase_if(notes_, [oldest](const rstwatch_owner_note &note) {
		return note.timestamp_ns < oldest;
	});
}

void OwnerResolver::process(std::vector<ResetEvent> &incoming, Clock::time_point now,
                            std::vector<ResetEvent> &ready, bool final)
{
	for (Held &held : held_)
		held.batches_seen++;
	for (ResetEvent &event : incoming) {
		newest_ns_ = std::max<uint64_t>(newest_ns_, event.raw.timestamp_ns);
		const bool waits = pending(event.raw);
		// Nothing held and nothing to wait for: the common case, in order.
		if (!waits && !waits_for_sender(event.raw) && held_.empty()) {
			ready.push_back(std::move(event));
			continue;
		}
		held_.push_back(Held{std::move(event), now + hold_, !waits, false, 0});
	}
	incoming.clear();
	for (const rstwatch_owner_note &note : notes_)
		newest_ns_ = std::max<uint64_t>(newest_ns_, note.timestamp_ns);
	if (held_.empty()) {
		expire_notes();
		return;
	}
	for (Held &held : held_)
		if (!held.settled)
			apply_notes(held);
	look_up();
	while (!held_.empty()) {
		Held &front = held_.front();
		if (!front.settled && !final && now < front.deadline)
			break;
		if (!final && front.batches_seen == 0 && waits_for_sender(front.event.raw))
			break;
		if (!front.settled)
			settle_late(front.event);
		ready.push_back(std::move(front.event));
		held_.pop_front();
	}
	expire_notes();
}

} // namespace rstwatch
