// Settles the owner of each event the kernel left pending (a reset handled
// in softirq or a timer on a socket some process still held), then hands the
// events on in the order they came. An event waits for at most `hold` for
// what names its owner, in this order of preference:
//   1. a note from the kernel that a process destroyed the socket inside
//      close() or its exit, right after the reset (socket_owner, or exited);
//   2. the processes holding the socket's inode, looked up once per batch
//      (socket_owner; all of them are kept when there are several);
//   3. once the hold is over, the process that opened the listener of the
//      socket's local port (listener);
//   4. nobody (unresolved), never a guess.
// A received reset also waits for one more batch, so that the sender's reset
// on the mirrored 4-tuple, when both ends are on this host, leaves with it
// and the two can be linked.
#pragma once

#include "core/owner.h"
#include "core/reset_event.h"

#include <chrono>
#include <cstddef>
#include <deque>
#include <vector>

namespace rstwatch
{

class OwnerResolver
{
public:
	using Clock = std::chrono::steady_clock;

	static constexpr size_t kMaxNotes = 4096;
	static constexpr int64_t kNoteWindowNs = 5'000'000'000;

	// `lookup` may be null: pending owners then end unresolved or with
	// their listener's owner.
	OwnerResolver(OwnerLookup *lookup, Clock::duration hold) : lookup_(lookup), hold_(hold) {}

	void add_note(const rstwatch_owner_note &note);
	// Takes `incoming` (left empty) and appends to `ready` every event that
	// may go on: all of them, in order, when `final`.
	void process(std::vector<ResetEvent> &incoming, Clock::time_point now,
	             std::vector<ResetEvent> &ready, bool final = false);
	size_t held() const { return held_.size(); }
	// Inode lookups made so far: one per batch that needed one.
	uint64_t lookups() const { return lookups_; }

private:
	struct Held {
		ResetEvent event;
		Clock::time_point deadline;
		bool settled = false;
		bool looked_up = false;
		// Batches handed to process() since this one came.
		unsigned batches_seen = 0;
	};

	void apply_notes(Held &held) const;
	void look_up();
	void settle_late(ResetEvent &event);
	void expire_notes();

	OwnerLookup *lookup_;
	Clock::duration hold_;
	std::deque<Held> held_;
	std::vector<rstwatch_owner_note> notes_;
	uint64_t newest_ns_ = 0;
	uint64_t lookups_ = 0;
	std::vector<uint64_t> inodes_; // reused per lookup
	HolderMap holders_;            // reused per lookup
};

} // namespace rstwatch
