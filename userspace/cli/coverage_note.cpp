#include "cli/coverage_note.h"

#include "cli/table.h"
#include "common/text_escape.h"
#include "common/wire.h"

namespace rstwatch::cli
{

using nlohmann::json;

std::string coverage_note(const json &response)
{
	auto found = response.find(wire::response::kCoverage);
	if (found == response.end() || !found->is_object() || found->value("window_complete", true))
		return "";
	// A copy: operator[] on a missing field then reads null instead of
	// asserting, whatever an older or a foreign daemon sent.
	json coverage = *found;
	std::string note =
	    "store covers since " +
	    (coverage["oldest_timestamp"].is_string()
	         ? text(coverage["oldest_timestamp"]) + " (id " + text(coverage["oldest_id"]) + ")"
	         : std::string("now (it holds nothing)")) +
	    "; " + text(coverage["older_resets"]) + " older resets";
	if (!coverage.value("older_filtered", true))
		note += " (of any process, port, address or workload)";
	note += " are only in the totals";
	std::string by_cause;
	if (coverage["older_by_cause"].is_object()) {
		for (const auto &[cause, count] : coverage["older_by_cause"].items())
			by_cause += (by_cause.empty() ? "" : ", ") + cause + " " + text(count);
	}
	if (!by_cause.empty())
		note += ": " + by_cause;
	return escaped_text(note);
}

} // namespace rstwatch::cli
