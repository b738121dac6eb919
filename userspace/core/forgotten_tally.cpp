#include "core/forgotten_tally.h"

namespace rstwatch
{

namespace
{

int64_t minute_of(int64_t realtime_ns)
{
	int64_t minute = realtime_ns / ForgottenTally::kBucketNs;
	return realtime_ns < 0 && realtime_ns % ForgottenTally::kBucketNs ? minute - 1 : minute;
}

} // namespace

void ForgottenTally::add(int64_t realtime_ns, uint8_t direction, Cause cause)
{
	int64_t minute = minute_of(realtime_ns);
	// Events are forgotten in id order, which is time order unless the wall
	// clock stepped back: such an event joins the newest minute.
	if (buckets_.empty() || minute > buckets_.back().minute) {
		if (buckets_.size() == kMaxBuckets) {
			for (const auto &by_direction : buckets_.front().counts)
				for (uint32_t count : by_direction)
					expired_ += count;
			buckets_.pop_front();
		}
		buckets_.push_back(Bucket{minute, {}});
	}
	buckets_.back()
	    .counts[direction == RSTWATCH_DIR_SENT ? 0 : 1][static_cast<size_t>(cause)]++;
	total_++;
}

ForgottenTally::Count ForgottenTally::count(const Window &window) const
{
	Count result;
	for (const Bucket &bucket : buckets_) {
		if (window.since_ns && bucket.minute < minute_of(*window.since_ns))
			continue;
		if (window.until_ns && bucket.minute * kBucketNs >= *window.until_ns)
			break;
		for (size_t direction = 0; direction < 2; direction++) {
			uint8_t kernel_direction =
			    direction == 0 ? RSTWATCH_DIR_SENT : RSTWATCH_DIR_RECEIVED;
			if (window.direction && *window.direction != kernel_direction)
				continue;
			for (Cause cause : all_causes()) {
				if (window.cause && *window.cause != cause)
					continue;
				uint32_t count =
				    bucket.counts[direction][static_cast<size_t>(cause)];
				result.resets += count;
				result.by_cause[static_cast<size_t>(cause)] += count;
			}
		}
	}
	// Minutes no longer kept are before any since within the last week;
	// without a since they belong to the window.
	if (!window.since_ns && !window.direction && !window.cause)
		result.resets += expired_;
	return result;
}

} // namespace rstwatch
