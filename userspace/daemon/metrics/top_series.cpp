#include "daemon/metrics/top_series.h"

#include <algorithm>
#include <string_view>

namespace rstwatch
{

namespace
{

constexpr unsigned kMinCandidates = 16;
constexpr unsigned kCandidatesPerSlot = 4;

} // namespace

size_t CommKeyHash::operator()(const CommKey &key) const noexcept
{
	return std::hash<std::string_view>()(std::string_view(key.bytes.data(), key.bytes.size()));
}

template <typename Key, typename Hash>
TopSeries<Key, Hash>::TopSeries(prometheus::Family<prometheus::Counter> &family,
                                prometheus::Labels fixed, std::string label, LabelValue label_value,
                                unsigned limit)
    : family_(family), fixed_(std::move(fixed)), label_(std::move(label)),
      label_value_(std::move(label_value)), limit_(limit)
{
	prometheus::Labels labels = fixed_;
	labels[label_] = "other";
	other_ = &family_.Add(labels);
}

template <typename Key, typename Hash>
void TopSeries<Key, Hash>::admit(const Key &key, uint64_t recent)
{
	prometheus::Labels labels = fixed_;
	labels[label_] = label_value_(key);
	// A value may read like a series the family already has ("other", or
	// a fixed one such as comm="unattributed": a process picks its own
	// name). Family::Add hands that series back; the slot counts into it
	// and must never remove it.
	const bool owned = !family_.Has(labels);
	admitted_.emplace(key, Slot{&family_.Add(labels), recent, owned});
}

template <typename Key, typename Hash>
void TopSeries<Key, Hash>::release(typename std::unordered_map<Key, Slot, Hash>::iterator slot)
{
	if (slot->second.owned)
		family_.Remove(slot->second.counter);
	admitted_.erase(slot);
}

template <typename Key, typename Hash>
typename std::unordered_map<Key, typename TopSeries<Key, Hash>::Slot, Hash>::iterator
TopSeries<Key, Hash>::quietest()
{
	return std::min_element(
	    admitted_.begin(), admitted_.end(),
	    [](const auto &a, const auto &b) { return a.second.recent < b.second.recent; });
}

template <typename Key, typename Hash> void TopSeries<Key, Hash>::increment(const Key &key)
{
	if (auto it = admitted_.find(key); it != admitted_.end()) {
		it->second.counter->Increment();
		it->second.recent++;
		return;
	}
	if (admitted_.size() < limit_) {
		admit(key, 1);
		admitted_.find(key)->second.counter->Increment();
		quiet_floor_ = std::min<uint64_t>(quiet_floor_, 1);
		return;
	}
	other_->Increment();
	if (limit_ == 0)
		return;

	auto candidate = std::find_if(candidates_.begin(), candidates_.end(),
	                              [&](const auto &entry) { return entry.first == key; });
	if (candidate == candidates_.end()) {
		size_t room = std::max<size_t>(kMinCandidates, kCandidatesPerSlot * limit_);
		if (candidates_.size() >= room) {
			// Space-saving: the newcomer inherits the evicted count,
			// so a steady heavy hitter still rises above the noise.
			candidate = std::min_element(
			    candidates_.begin(), candidates_.end(),
			    [](const auto &a, const auto &b) { return a.second < b.second; });
			candidate->first = key;
		} else {
			candidate = candidates_.emplace(candidates_.end(), key, 0);
		}
	}
	uint64_t recent = ++candidate->second;
	// Admitted counts only grow between decays, so the floor (the
	// quietest count when last looked at) rules most candidates out
	// without a scan of every slot.
	if (recent < 2 * quiet_floor_ + 4)
		return;
	auto quiet = quietest();
	quiet_floor_ = quiet->second.recent;
	// Twice the quietest slot's count and a few more: a slot does not
	// change hands back and forth between two values of similar rate.
	if (recent >= 2 * quiet->second.recent + 4) {
		release(quiet);
		candidates_.erase(candidate);
		admit(key, recent);
	}
}

template <typename Key, typename Hash> void TopSeries<Key, Hash>::decay()
{
	for (auto &[key, slot] : admitted_)
		slot.recent /= 2;
	quiet_floor_ /= 2;
	for (auto &entry : candidates_)
		entry.second /= 2;
	std::erase_if(candidates_, [](const auto &entry) { return entry.second == 0; });
}

template <typename Key, typename Hash> void TopSeries<Key, Hash>::set_limit(unsigned limit)
{
	limit_ = limit;
	while (admitted_.size() > limit_) {
		release(quietest());
	}
	if (limit_ == 0)
		candidates_.clear();
}

template class TopSeries<CommKey, CommKeyHash>;
template class TopSeries<uint16_t>;
template class TopSeries<std::string_view>;

} // namespace rstwatch
