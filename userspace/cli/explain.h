// rstwatch explain: one reset told in full, a fact per line, with what the
// kernel could not read said to be unknown rather than shown as zero.
#pragma once

#include "cli/connection.h"

#include <nlohmann/json.hpp>

namespace rstwatch::cli
{

int run_explain(Connection &connection, const nlohmann::json &request, bool as_json);

} // namespace rstwatch::cli
