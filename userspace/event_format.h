// Output forms of a reset event: one flat JSON object (the field names are a
// contract read by tools outside rstwatch) and one human line.
#pragma once

#include "reset_event.h"

#include <nlohmann/json.hpp>

#include <string>

namespace rstwatch {

nlohmann::json event_to_json(const ResetEvent &event, const ReasonNames &reasons);
std::string event_to_text(const ResetEvent &event, const ReasonNames &reasons);

} // namespace rstwatch
