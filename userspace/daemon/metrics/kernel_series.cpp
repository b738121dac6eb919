#include "daemon/metrics/kernel_series.h"

#include "common/text_escape.h"
#include "core/classifier.h"
#include "core/reset_event.h"
#include "daemon/metrics/families.h"

#include <cstdint>
#include <utility>

namespace rstwatch
{

namespace
{

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Which causes each direction can have (docs/design.md); only these get a series
// before they are first seen, the rest appear if the kernel ever counts one.
bool cause_applies(Cause cause, size_t direction)
{
	switch (cause) {
	case Cause::Unknown:
		return true;
	case Cause::PeerRefused:
	case Cause::StaleConnectionReuse:
	case Cause::PeerIdleTimeout:
	case Cause::MiddleboxInjected:
	case Cause::PeerReset:
		return direction == 1;
	default:
		return direction == 0;
	}
}

} // namespace

KernelSeries::KernelSeries(std::function<KernelCounters()> read_counters,
                           const std::vector<std::string> &reason_names, bool kernel_has_reasons)
    : read_(std::move(read_counters)), kernel_has_reasons_(kernel_has_reasons)
{
	// Only names this kernel defines; a value it does not name is shown as
	// REASON_<n> once it is counted.
	for (size_t value = 0; value < reason_names.size() && value < RSTWATCH_MAX_REASONS - 1;
	     value++) {
		// SK_RST_REASON_MAX only counts the members; no reset has it.
		// The names come from kernel BTF: identifiers, but a label
		// value that is not UTF-8 would fail the whole scrape.
		if (reason_names[value] != "MAX")
			reason_names_[value] = valid_utf8(reason_names[value]);
	}
}

std::vector<MetricFamily> KernelSeries::Collect() const
{
	KernelCounters counters = read_();
	std::vector<MetricFamily> families;

	MetricFamily resets = counter_family(
	    "rstwatch_resets_total",
	    "TCP resets this host sent or received, by direction and cause (exact: counted "
	    "in the kernel)");
	for (size_t direction = 0; direction < 2; direction++) {
		for (Cause cause : all_causes()) {
			uint64_t count = counters.by_cause[direction][static_cast<size_t>(cause)];
			if (count || cause_applies(cause, direction))
				add_counter(
				    resets,
				    {{"direction", std::string(kDirectionLabels[direction])},
				     {"cause", std::string(cause_name(cause))}},
				    count);
		}
	}
	families.push_back(std::move(resets));

	MetricFamily reasons =
	    counter_family("rstwatch_resets_sent_by_reason_total",
	                   "TCP resets this host sent, by the kernel's enum sk_rst_reason (exact)");
	for (size_t slot = 0; slot < RSTWATCH_MAX_REASONS; slot++) {
		uint64_t count = counters.sent_by_reason[slot];
		std::string name;
		// The last slot holds what has no slot of its own: every
		// reset on kernels without reasons, else values past it.
		if (slot == RSTWATCH_MAX_REASONS - 1)
			name = kernel_has_reasons_ ? "other" : "unavailable";
		else if (kernel_has_reasons_ && !reason_names_[slot].empty())
			name = reason_names_[slot];
		else
			name = "REASON_" + std::to_string(slot);
		bool expected = kernel_has_reasons_ ? !reason_names_[slot].empty()
		                                    : slot == RSTWATCH_MAX_REASONS - 1;
		if (count || expected)
			add_counter(reasons, {{"reason", name}}, count);
	}
	families.push_back(std::move(reasons));

	MetricFamily states =
	    counter_family("rstwatch_resets_received_by_state_total",
	                   "TCP resets this host received, by the socket's TCP state (exact)");
	for (size_t state = 0; state < RSTWATCH_MAX_STATES; state++) {
		uint64_t count = counters.received_by_state[state];
		// TCP states are 1..12; 0 collects values the kernel
		// should never report.
		if (!count && (state == 0 || state > 12))
			continue;
		add_counter(states, {{"state", std::string(tcp_state_name(state))}}, count);
	}
	families.push_back(std::move(states));

	MetricFamily lost = counter_family(
	    "rstwatch_events_lost_total",
	    "Reset events the kernel could not queue because the ring buffer was full; "
	    "the totals above still count them");
	add_counter(lost, {}, counters.lost_events);
	families.push_back(std::move(lost));

	MetricFamily owners =
	    counter_family("rstwatch_owner_records_dropped_total",
	                   "Owner records lost: a closer overwritten within two minutes by another "
	                   "connection's (raise --owner-map-entries), or a listener or a "
	                   "pending-owner mark the kernel could not store");
	add_counter(owners, {}, counters.owner_map_full);
	families.push_back(std::move(owners));
	return families;
}

} // namespace rstwatch
