// Per-label counter series held to a bounded number: the busiest values get a
// series of their own, the rest share one labelled "other".
#pragma once

#include "rstwatch/event.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/labels.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rstwatch
{

// A counter family with one label whose values are held to `limit` series
// plus "other". A value gets a series when a slot is free, or when it has
// recently counted clearly more than the quietest value holding one, which
// then gives its slot up (its series goes stale; the counts it had stay in
// Prometheus' history). Recent counts halve on every decay(), so a process
// that was busy yesterday does not hold a slot forever.
// Its members are defined and instantiated in top_series.cpp, for CommKey,
// uint16_t and std::string_view only: a new key type needs an instantiation
// there. A view key must outlive the series (workload_series.h says why its
// do).
template <typename Key, typename Hash = std::hash<Key>> class TopSeries
{
public:
	using LabelValue = std::function<std::string(const Key &)>;

	TopSeries(prometheus::Family<prometheus::Counter> &family, prometheus::Labels fixed,
	          std::string label, LabelValue label_value, unsigned limit);

	void increment(const Key &key);
	void decay();
	// Lowering the limit frees the quietest slots first.
	void set_limit(unsigned limit);
	size_t series() const { return admitted_.size(); }

private:
	struct Slot {
		prometheus::Counter *counter;
		uint64_t recent;
		// False when the series was the family's before (see admit()).
		bool owned;
	};
	void admit(const Key &key, uint64_t recent);
	// Gives a slot up, removing its series if it made it.
	void release(typename std::unordered_map<Key, Slot, Hash>::iterator slot);
	typename std::unordered_map<Key, Slot, Hash>::iterator quietest();

	prometheus::Family<prometheus::Counter> &family_;
	prometheus::Labels fixed_;
	std::string label_;
	LabelValue label_value_;
	unsigned limit_;
	prometheus::Counter *other_;
	std::unordered_map<Key, Slot, Hash> admitted_;
	// Values waiting for a slot, with their recent counts; bounded too
	// (a few hundred at most), so a flat array scans faster than a hash
	// map allocates.
	std::vector<std::pair<Key, uint64_t>> candidates_;
	// At most the quietest admitted count (see increment()).
	uint64_t quiet_floor_ = 0;
};

struct CommKey {
	std::array<char, RSTWATCH_COMM_LEN> bytes{};
	bool operator==(const CommKey &) const = default;
};
struct CommKeyHash {
	size_t operator()(const CommKey &key) const noexcept;
};

} // namespace rstwatch
