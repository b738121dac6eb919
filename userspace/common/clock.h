// The wall clock as the event timestamps and query windows count it, and the
// monotonic clock for intervals.
#pragma once

#include <cstdint>
#include <ctime>

namespace rstwatch
{

// Nanoseconds since the Unix epoch.
inline int64_t realtime_now_ns()
{
	timespec now{};
	clock_gettime(CLOCK_REALTIME, &now);
	return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// Nanoseconds on CLOCK_MONOTONIC: for intervals that wall-clock steps must
// not stretch or shrink.
inline int64_t monotonic_now_ns()
{
	timespec now{};
	clock_gettime(CLOCK_MONOTONIC, &now);
	return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

} // namespace rstwatch
