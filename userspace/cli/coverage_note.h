// What a recent or top answer is missing: the store holds a bounded number
// of resets, and a window reaching past the oldest must say so rather than
// pass a part for the whole.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace rstwatch::cli
{

// "store covers since T (id N); M older resets are only in the totals:
// refused M", escaped for a terminal; "" when the window is whole.
std::string coverage_note(const nlohmann::json &response);

} // namespace rstwatch::cli
