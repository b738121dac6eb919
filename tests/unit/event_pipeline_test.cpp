// The daemon's record path without BPF: synthetic ring-buffer records go in,
// and the store, the metrics, the event lines and the followers see them.
#include "daemon/pipeline.h"
#include "support/event_builder.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace rstwatch
{
namespace
{

MetricsSources no_kernel(KernelCounters *counters)
{
	MetricsSources sources;
	sources.version = "test";
	sources.kernel_counters = [counters] { return *counters; };
	return sources;
}

// What a ring-buffer record of this event looks like: the raw struct.
rstwatch_event record(uint32_t pid, const char *comm)
{
	rstwatch_event raw = test::refused_connect_event({.comm = comm, .pid = pid}).raw;
	raw.timestamp_ns = 5'000'000'000;
	return raw;
}

// Everything written to an in-memory stream, read back after the pipeline
// flushed it.
class CapturedOutput
{
public:
	CapturedOutput() : stream_(open_memstream(&data_, &size_)) {}
	~CapturedOutput()
	{
		fclose(stream_);
		free(data_);
	}
	FILE *stream() { return stream_; }
	std::vector<std::string> lines()
	{
		fflush(stream_);
		std::vector<std::string> out;
		std::istringstream text(std::string(data_, size_));
		for (std::string line; std::getline(text, line);)
			out.push_back(line);
		return out;
	}

private:
	char *data_ = nullptr;
	size_t size_ = 0;
	FILE *stream_;
};

struct EventPipelineTest : ::testing::Test {
	KernelCounters counters;
	OutputContext context;
	EventStore store{100};
	ResetMetrics metrics{no_kernel(&counters), 20};
	EventPipeline pipeline{context, store, metrics, {}};
	CapturedOutput output;
	std::vector<size_t> published; // batch sizes the followers got

	void SetUp() override
	{
		pipeline.set_output({.json = true, .quiet = false, .stream = output.stream()});
		pipeline.set_publisher(
		    [this](std::span<const ResetEvent> batch, EventPipeline::Clock::time_point) {
			    published.push_back(batch.size());
		    });
	}
	void add(const rstwatch_event &raw) { pipeline.add_record(&raw, sizeof(raw)); }
};

TEST_F(EventPipelineTest, RecordsReachStoreMetricsStdoutAndFollowersOnFlush)
{
	add(record(100, "curl"));
	add(record(200, "wget"));
	EXPECT_EQ(store.size(), 0u) << "nothing is handed on before the drain's flush";
	pipeline.flush(EventPipeline::Clock::now());

	EXPECT_EQ(pipeline.events(), 2u);
	EXPECT_EQ(pipeline.decode_errors(), 0u);
	ASSERT_EQ(store.size(), 2u);
	EXPECT_EQ(store.at(0).id, 1u);
	EXPECT_EQ(store.at(1).id, 2u);
	EXPECT_EQ(store.at(1).raw.owner_pid, 200u);
	EXPECT_GT(store.at(0).realtime_ns, 1'600'000'000'000'000'000)
	    << "the monotonic stamp is converted to wall-clock time";
	EXPECT_EQ(published, std::vector<size_t>{2});

	std::vector<std::string> lines = output.lines();
	ASSERT_EQ(lines.size(), 2u);
	nlohmann::json first = nlohmann::json::parse(lines[0]);
	EXPECT_EQ(first["id"], 1);
	EXPECT_EQ(first["comm"], "curl");
	EXPECT_EQ(first["pid"], 100);
	EXPECT_EQ(first["cause"], "refused");
	EXPECT_EQ(nlohmann::json::parse(lines[1])["comm"], "wget");

	std::string scrape = metrics.serialize();
	EXPECT_NE(scrape.find("rstwatch_events_total 2"), std::string::npos) << scrape;
}

TEST_F(EventPipelineTest, BadRecordsAreCountedAndSkipped)
{
	rstwatch_event wrong_version = record(1, "a");
	wrong_version.version = RSTWATCH_EVENT_VERSION + 1;
	add(wrong_version);
	char short_record[8] = {};
	pipeline.add_record(short_record, sizeof(short_record));
	add(record(2, "b"));
	pipeline.flush(EventPipeline::Clock::now());

	EXPECT_EQ(pipeline.decode_errors(), 2u);
	EXPECT_EQ(pipeline.events(), 1u);
	ASSERT_EQ(store.size(), 1u);
	EXPECT_EQ(store.at(0).id, 1u) << "ids count decoded events only";
	EXPECT_NE(metrics.serialize().find("rstwatch_decode_errors_total 2"), std::string::npos);
}

TEST_F(EventPipelineTest, AFullBatchIsHandedOnBeforeTheNextRecord)
{
	for (size_t i = 0; i < EventPipeline::kMaxBatch + 1; i++)
		add(record(static_cast<uint32_t>(i + 1), "storm"));
	EXPECT_EQ(published, std::vector<size_t>{EventPipeline::kMaxBatch});
	pipeline.flush(EventPipeline::Clock::now());
	EXPECT_EQ(published, (std::vector<size_t>{EventPipeline::kMaxBatch, 1}));
	EXPECT_EQ(store.size(), 100u) << "the store keeps its capacity's newest";
	EXPECT_EQ(store.newest_id(), EventPipeline::kMaxBatch + 1);
}

TEST_F(EventPipelineTest, QuietWritesNoLinesButFeedsEverythingElse)
{
	pipeline.set_output({.json = false, .quiet = true, .stream = output.stream()});
	add(record(7, "quiet"));
	pipeline.flush(EventPipeline::Clock::now());
	EXPECT_TRUE(output.lines().empty());
	EXPECT_EQ(store.size(), 1u);
	EXPECT_EQ(published, std::vector<size_t>{1});
}

TEST_F(EventPipelineTest, TextLinesNameTheCauseAndProcess)
{
	pipeline.set_output({.json = false, .quiet = false, .stream = output.stream()});
	add(record(42, "server"));
	pipeline.flush(EventPipeline::Clock::now());
	std::vector<std::string> lines = output.lines();
	ASSERT_EQ(lines.size(), 1u);
	EXPECT_NE(lines[0].find("cause=refused"), std::string::npos) << lines[0];
	EXPECT_NE(lines[0].find("pid=42 comm=server"), std::string::npos) << lines[0];
}

} // namespace
} // namespace rstwatch
