// What the recent-reset store has forgotten, kept as counts: by minute,
// direction and cause. A store of a fixed size covers a shrinking window as
// resets come faster (well under a second during a storm), so an answer about
// an hour must be able to say how many resets of that hour it no longer
// holds, and of which causes, without keeping the events themselves.
#pragma once

#include "core/classifier.h"

#include <array>
#include <cstdint>
#include <deque>
#include <optional>

namespace rstwatch
{

class ForgottenTally
{
public:
	static constexpr int64_t kBucketNs = 60'000'000'000;
	// A week of minutes (about 1.4 MB when every minute had resets); older
	// minutes are only in `expired()`.
	static constexpr size_t kMaxBuckets = 7 * 24 * 60;

	struct Window {
		std::optional<int64_t> since_ns; // inclusive
		std::optional<int64_t> until_ns; // exclusive
		std::optional<uint8_t> direction;
		std::optional<Cause> cause;
	};
	struct Count {
		uint64_t resets = 0;
		std::array<uint64_t, kCauseCount> by_cause{};
	};

	void add(int64_t realtime_ns, uint8_t direction, Cause cause);
	// Resets forgotten in the minutes that overlap the window: a minute cut
	// by since or until counts whole, so the count can only be too high by
	// the resets of those two minutes outside the window.
	Count count(const Window &window) const;
	uint64_t total() const { return total_; }
	// Forgotten so long ago that not even their minute is kept.
	uint64_t expired() const { return expired_; }

private:
	struct Bucket {
		int64_t minute = 0;
		std::array<std::array<uint32_t, kCauseCount>, 2> counts{}; // [direction][cause]
	};
	std::deque<Bucket> buckets_;
	uint64_t total_ = 0;
	uint64_t expired_ = 0;
};

} // namespace rstwatch
