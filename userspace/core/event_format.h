// Output forms of a reset event: one flat JSON object (the field names are a
// contract read by tools outside rstwatch) and one human line.
#pragma once

#include "common/json_text.h"
#include "core/classifier.h"
#include "core/reset_event.h"

#include <nlohmann/json.hpp>

#include <string>

namespace rstwatch
{

// What turning an event into words needs besides the event itself.
struct OutputContext {
	ReasonNames reasons;
	rstwatch_classify_config classify{};
	// The node every event comes from, so events shipped from many nodes
	// stay apart.
	std::string hostname;
};

nlohmann::json event_to_json(const ResetEvent &event, const OutputContext &context);
// The same object as compact JSON text appended to `out`, without building a
// tree: what every high-volume output uses.
void append_event_json(std::string &out, const ResetEvent &event, const OutputContext &context);
// The same through an appender that lives across many events (a batch).
void append_event_json(JsonAppender &out, const ResetEvent &event, const OutputContext &context);
// The human line, appended (what the daemon writes to stdout per event).
void append_event_text(JsonAppender &out, const ResetEvent &event, const OutputContext &context);

} // namespace rstwatch
