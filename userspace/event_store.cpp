#include "event_store.h"

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
	if (slots_.size() < capacity_) {
		// Not yet wrapped: head_ stays 0 and slots are in id order.
		// Grown by hand so the vector never reserves past the capacity.
		if (slots_.size() == slots_.capacity())
			slots_.reserve(
			    std::min(capacity_, std::max<size_t>(1024, 2 * slots_.size())));
		slots_.push_back(event);
		size_ = slots_.size();
		return;
	}
	slots_[head_] = event;
	head_ = (head_ + 1) % capacity_;
}

void EventStore::set_capacity(size_t capacity)
{
	if (capacity == 0)
		throw std::invalid_argument("the event store needs room for at least one event");
	if (capacity == capacity_)
		return;
	size_t keep = std::min(size_, capacity);
	std::vector<ResetEvent> newest;
	newest.reserve(keep);
	for (size_t i = size_ - keep; i < size_; i++)
		newest.push_back(at(i));
	slots_ = std::move(newest);
	slots_.shrink_to_fit();
	capacity_ = capacity;
	head_ = 0;
	size_ = slots_.size();
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
