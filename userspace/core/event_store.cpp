#include "core/event_store.h"

#include <algorithm>
#include <stdexcept>

namespace rstwatch
{

EventStore::EventStore(size_t capacity) : capacity_(capacity)
{
	if (capacity_ == 0)
		throw std::invalid_argument("the event store needs room for at least one event");
}

void EventStore::append(const ResetEvent &event)
{
	if (size_ < capacity_) {
		// Not yet wrapped: head_ stays 0 and slots are in id order.
		if (size_ % kChunkEvents == 0)
			chunks_.push_back(std::make_unique<ResetEvent[]>(
			    std::min(kChunkEvents, capacity_ - size_)));
		slot(size_++) = event;
		return;
	}
	forget(slot(head_));
	slot(head_) = event;
	head_ = (head_ + 1) % capacity_;
}

void EventStore::set_capacity(size_t capacity)
{
	if (capacity == 0)
		throw std::invalid_argument("the event store needs room for at least one event");
	if (capacity == capacity_)
		return;
	EventStore resized(capacity);
	resized.forgotten_ = std::move(forgotten_);
	resized.classify_ = classify_;
	size_t first_kept = size_ - std::min(size_, capacity);
	for (size_t i = 0; i < first_kept; i++)
		resized.forget(at(i));
	for (size_t i = first_kept; i < size_; i++)
		resized.append(at(i));
	*this = std::move(resized);
}

void EventStore::forget(const ResetEvent &event)
{
	forgotten_.add(event.realtime_ns, event.raw.direction,
	               classify_cause(event.raw, classify_));
}

const ResetEvent *EventStore::find(uint64_t id) const
{
	if (empty() || id < oldest_id() || id > newest_id())
		return nullptr;
	size_t low = 0, high = size_;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		if (at(middle).id < id)
			low = middle + 1;
		else
			high = middle;
	}
	return low < size_ && at(low).id == id ? &at(low) : nullptr;
}

} // namespace rstwatch
