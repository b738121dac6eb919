// The recent-reset store the query socket reads: the newest events, bounded
// by a capacity fixed at start (and changeable on reload), oldest forgotten
// first. Events arrive in id order, so lookups by id are a binary search.
#pragma once

#include "core/forgotten_tally.h"
#include "core/reset_event.h"
#include "rstwatch/classify.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace rstwatch
{

class EventStore
{
public:
	static constexpr size_t kDefaultCapacity = 65536;

	explicit EventStore(size_t capacity = kDefaultCapacity);

	// Keeps a copy; when full, the oldest event makes room, and is counted
	// in forgotten() under the cause `classify` gives it.
	void append(const ResetEvent &event);
	void set_classify(const rstwatch_classify_config &classify) { classify_ = classify; }
	// Every reset the store held and no longer holds.
	const ForgottenTally &forgotten() const { return forgotten_; }
	// Keeps the newest `capacity` events already stored.
	void set_capacity(size_t capacity);

	size_t size() const { return size_; }
	size_t capacity() const { return capacity_; }
	bool empty() const { return size_ == 0; }
	// Ids of the oldest and newest events held; 0 when empty.
	uint64_t oldest_id() const { return empty() ? 0 : at(0).id; }
	uint64_t newest_id() const { return empty() ? 0 : at(size_ - 1).id; }

	// The event with this id, or nullptr once it has been forgotten.
	const ResetEvent *find(uint64_t id) const;
	// The i-th oldest event held (0 = oldest).
	const ResetEvent &at(size_t index) const { return slot((head_ + index) % capacity_); }

	// Calls visit(event) from the newest to the oldest until it returns false.
	template <typename Visitor> void visit_newest_first(Visitor &&visit) const
	{
		for (size_t i = size_; i-- > 0;) {
			if (!visit(at(i)))
				return;
		}
	}

private:
	// Slots come in chunks allocated as the store fills, so an idle daemon
	// does not pay for 64k events it has never seen, and growing never
	// copies what is held (a doubling vector briefly held both copies,
	// which set the daemon's peak RSS).
	static constexpr size_t kChunkEvents = 4096;
	ResetEvent &slot(size_t index) const
	{
		return chunks_[index / kChunkEvents][index % kChunkEvents];
	}

	void forget(const ResetEvent &event);

	std::vector<std::unique_ptr<ResetEvent[]>> chunks_;
	ForgottenTally forgotten_;
	rstwatch_classify_config classify_{};
	size_t capacity_;
	size_t head_ = 0; // index of the oldest event once the store is full
	size_t size_ = 0;
};

} // namespace rstwatch
