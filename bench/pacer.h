// Keeps one storm thread at its share of the asked rate, and tells it when
// its time is up. Checked once per batch, so pacing costs one clock read per
// batch, not per reset.
#pragma once

#include <time.h>

#include <cstdint>

namespace rstwatch::bench
{

inline int64_t monotonic_ns()
{
	timespec now{};
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1'000'000'000LL + now.tv_nsec;
}

class Pacer
{
public:
	// rate_per_second 0: no pacing, only the deadline.
	Pacer(int64_t start_ns, int64_t duration_ns, double rate_per_second)
	    : start_ns_(start_ns), end_ns_(start_ns + duration_ns), rate_(rate_per_second)
	{
	}

	// Operations to do before asking again; 0 once the time is up. Sleeps
	// while the thread is ahead of its rate.
	uint64_t next_batch(uint64_t done, uint64_t max_batch)
	{
		for (;;) {
			int64_t now = monotonic_ns();
			if (now >= end_ns_)
				return 0;
			if (rate_ <= 0)
				return max_batch;
			double due = rate_ * static_cast<double>(now - start_ns_) / 1e9;
			if (static_cast<double>(done) < due) {
				uint64_t behind =
				    static_cast<uint64_t>(due - static_cast<double>(done)) + 1;
				return behind < max_batch ? behind : max_batch;
			}
			// Sleep until the next operation is due, or the end.
			double next_ns = static_cast<double>(done + 1) / rate_ * 1e9;
			int64_t wake = start_ns_ + static_cast<int64_t>(next_ns);
			if (wake > end_ns_)
				wake = end_ns_;
			timespec until{static_cast<time_t>(wake / 1'000'000'000LL),
			               static_cast<long>(wake % 1'000'000'000LL)};
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
		}
	}

	int64_t end_ns() const { return end_ns_; }

private:
	int64_t start_ns_;
	int64_t end_ns_;
	double rate_;
};

} // namespace rstwatch::bench
