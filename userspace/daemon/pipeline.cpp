#include "daemon/pipeline.h"

#include "common/json_text.h"

namespace rstwatch
{

namespace
{

// Lines go out in a few large writes per batch, from a buffer that stays
// small.
constexpr size_t kStdoutChunk = 128 * 1024;

} // namespace

EventPipeline::EventPipeline(const OutputContext &context, EventStore &store, ResetMetrics &metrics,
                             WorkloadSources workload, OwnerLookup *owners)
    : context_(context), store_(store), metrics_(metrics), enricher_(std::move(workload)),
      owners_(owners, kOwnerHold)
{
	batch_.reserve(kMaxBatch);
	ready_.reserve(kMaxBatch);
}

void EventPipeline::add_record(const void *data, size_t size)
{
	if (size == sizeof(rstwatch_owner_note)) {
		if (decode_owner_note(data, size, note_) == DecodeStatus::Ok) {
			owners_.add_note(note_);
			return;
		}
	} else {
		if (batch_.size() >= kMaxBatch)
			flush(Clock::now());
		ResetEvent &event = batch_.emplace_back();
		if (decode_event(data, size, event.raw) == DecodeStatus::Ok) {
			event.realtime_ns = clock_.convert(event.raw.timestamp_ns);
			return;
		}
		batch_.pop_back();
	}
	decode_errors_++;
	metrics_.observe_decode_error();
}

void EventPipeline::flush(Clock::time_point now, bool final)
{
	owners_.process(batch_, now, ready_, final);
	if (ready_.empty())
		return;
	// Ids are given as events leave, so the store stays in id order
	// whatever waited for its owner.
	for (ResetEvent &event : ready_)
		event.id = ++events_;
	enricher_.enrich(ready_);
	for (const ResetEvent &event : ready_) {
		store_.append(event);
		metrics_.observe(event);
	}
	if (!output_.quiet)
		write_lines();
	if (publisher_)
		publisher_(ready_, now);
	ready_.clear();
}

void EventPipeline::write_lines()
{
	JsonAppender out(lines_, JsonAppender::Reuse{});
	for (const ResetEvent &event : ready_) {
		if (output_.json)
			append_event_json(out, event, context_);
		else
			append_event_text(out, event, context_);
		out.raw('\n');
		if (out.size() >= kStdoutChunk) {
			fwrite(lines_.data(), 1, out.size(), output_.stream);
			out.rewind();
		}
	}
	fwrite(lines_.data(), 1, out.size(), output_.stream);
	fflush(output_.stream);
}

} // namespace rstwatch
