// The path every ring-buffer record takes: decode into a reused batch, settle
// the owners the kernel left pending (core/owner_resolver.h), stamp each
// event with an id and wall-clock time, enrich the batch (cgroups, peer
// links), then hand it to the sinks: the recent-reset store, the metrics,
// stdout and the followers. Nothing here touches BPF, so a test can feed it
// records and an OwnerLookup of its own.
#pragma once

#include "core/enrich.h"
#include "core/event_format.h"
#include "core/event_store.h"
#include "core/owner_resolver.h"
#include "core/reset_event.h"
#include "daemon/metrics/metrics.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace rstwatch
{

class EventPipeline
{
public:
	using Clock = std::chrono::steady_clock;
	// Followers get every enriched batch (the query server's publish()).
	using Publisher = std::function<void(std::span<const ResetEvent>, Clock::time_point)>;

	// A storm can leave tens of thousands of records in the ring; batches
	// of this many keep memory flat.
	static constexpr size_t kMaxBatch = 1024;

	struct Output {
		bool json = false;
		bool quiet = false; // no event lines at all
		FILE *stream = stdout;
	};

	// How long an event waits for what names its owner.
	static constexpr std::chrono::milliseconds kOwnerHold{100};

	// `workload` says where cgroups and pod names are read ({} reads
	// none); `owners` may be null (pending owners then stay unresolved).
	EventPipeline(const OutputContext &context, EventStore &store, ResetMetrics &metrics,
	              WorkloadSources workload, OwnerLookup *owners = nullptr);

	void set_output(const Output &output) { output_ = output; }
	void set_publisher(Publisher publisher) { publisher_ = std::move(publisher); }

	// One ring-buffer record, valid or not; a full batch is flushed first.
	void add_record(const void *data, size_t size);
	// Hands on what was added since the last flush, but for the events
	// still waiting for their owner (all of them when `final`).
	void flush(Clock::time_point now, bool final = false);
	// Re-reads the clocks the timestamps are converted with (NTP steps).
	void resync_clock() { clock_.resync(); }

	uint64_t events() const { return events_; }
	uint64_t decode_errors() const { return decode_errors_; }
	size_t waiting_for_owner() const { return owners_.held(); }

private:
	void write_lines();

	const OutputContext &context_;
	EventStore &store_;
	ResetMetrics &metrics_;
	Enricher enricher_;
	OwnerResolver owners_;
	MonotonicToRealtime clock_;
	Output output_;
	Publisher publisher_;
	// Reused for every drain: decoding allocates nothing per event.
	std::vector<ResetEvent> batch_;
	std::vector<ResetEvent> ready_;
	rstwatch_owner_note note_{};
	std::string lines_;
	uint64_t events_ = 0;
	uint64_t decode_errors_ = 0;
};

} // namespace rstwatch
