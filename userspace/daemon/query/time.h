// The two text forms of a point in time a request's "since" may take
// besides Unix seconds.
#pragma once

#include "common/duration.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace rstwatch::query
{

// "2026-11-23T20:25:00Z", "2026-11-23T20:25:00.5+01:00" -> ns since the epoch.
std::optional<int64_t> parse_rfc3339(std::string_view text);

} // namespace rstwatch::query
