// Durations as people write them ("90s", "5m", "1h30m"): what rstwatchd takes
// in requests and settings and rstwatch on its command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace rstwatch
{

inline constexpr int64_t kNsPerSecond = 1'000'000'000;

// "90s", "5m", "1h30m", "2d" -> nanoseconds; at most ten years.
std::optional<int64_t> parse_duration(std::string_view text);

} // namespace rstwatch
