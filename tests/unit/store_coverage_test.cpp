// What the store forgets is tallied by minute, direction and cause, and a
// window reaching past the oldest event held says how much it lost.
#include "cli/coverage_note.h"
#include "core/event_store.h"
#include "core/forgotten_tally.h"
#include "daemon/query/execute.h"
#include "daemon/query/response.h"
#include "support/event_builder.h"

#include <gtest/gtest.h>

namespace rstwatch::test
{
namespace
{

constexpr int64_t kMinute = ForgottenTally::kBucketNs;
constexpr int64_t kStart = 1'800'000'000LL * 1'000'000'000; // a whole minute

ResetEvent refused_at(uint64_t id, int64_t realtime_ns)
{
	return refused_connect_event({.id = id, .realtime_ns = realtime_ns});
}

TEST(ForgottenTally, CountsTheMinutesAWindowOverlaps)
{
	ForgottenTally tally;
	tally.add(kStart + 1, RSTWATCH_DIR_SENT, Cause::Refused);
	tally.add(kStart + kMinute, RSTWATCH_DIR_RECEIVED, Cause::PeerReset);
	tally.add(kStart + 2 * kMinute + 5, RSTWATCH_DIR_SENT, Cause::Refused);
	EXPECT_EQ(tally.total(), 3u);
	EXPECT_EQ(tally.count({}).resets, 3u);
	EXPECT_EQ(tally.count({.since_ns = kStart + kMinute}).resets, 2u);
	// A minute cut by since counts whole.
	EXPECT_EQ(tally.count({.since_ns = kStart + kMinute + 30}).resets, 2u);
	EXPECT_EQ(tally.count({.until_ns = kStart + kMinute}).resets, 1u);
	EXPECT_EQ(tally.count({.direction = RSTWATCH_DIR_SENT}).resets, 2u);
	ForgottenTally::Count peer = tally.count({.cause = Cause::PeerReset});
	EXPECT_EQ(peer.resets, 1u);
	EXPECT_EQ(peer.by_cause[static_cast<size_t>(Cause::PeerReset)], 1u);
	EXPECT_EQ(peer.by_cause[static_cast<size_t>(Cause::Refused)], 0u);
}

TEST(ForgottenTally, OnlyAWeekOfMinutesIsKept)
{
	ForgottenTally tally;
	for (size_t minute = 0; minute <= ForgottenTally::kMaxBuckets; minute++)
		tally.add(kStart + static_cast<int64_t>(minute) * kMinute, RSTWATCH_DIR_SENT,
		          Cause::Refused);
	EXPECT_EQ(tally.expired(), 1u);
	EXPECT_EQ(tally.count({}).resets, ForgottenTally::kMaxBuckets + 1);
	EXPECT_EQ(tally.count({.since_ns = kStart}).resets, ForgottenTally::kMaxBuckets);
}

TEST(EventStore, ForgetsIntoTheTallyWhenFullAndWhenShrunk)
{
	EventStore store(4);
	for (uint64_t id = 1; id <= 6; id++)
		store.append(refused_at(id, kStart + static_cast<int64_t>(id)));
	EXPECT_EQ(store.forgotten().total(), 2u);
	store.set_capacity(3);
	EXPECT_EQ(store.forgotten().total(), 3u);
	EXPECT_EQ(store.oldest_id(), 4u);
	EXPECT_EQ(store.forgotten().count({.cause = Cause::Refused}).resets, 3u);
}

TEST(StoreCoverage, AWindowPastTheOldestEventIsIncomplete)
{
	EventStore store(2);
	for (uint64_t id = 1; id <= 5; id++)
		store.append(refused_at(id, kStart + static_cast<int64_t>(id) * kMinute));
	query::EventFilter everything;
	query::Coverage coverage = query::store_coverage(store, everything);
	EXPECT_FALSE(coverage.window_complete);
	EXPECT_EQ(coverage.oldest_id, 4u);
	EXPECT_EQ(coverage.forgotten, 3u);
	EXPECT_EQ(coverage.older_resets, 3u);
	EXPECT_EQ(coverage.older_by_cause[static_cast<size_t>(Cause::Refused)], 3u);

	query::EventFilter recent;
	recent.since_ns = kStart + 4 * kMinute;
	EXPECT_TRUE(query::store_coverage(store, recent).window_complete);
	query::EventFilter after;
	after.after_id = 3;
	EXPECT_TRUE(query::store_coverage(store, after).window_complete);

	query::EventFilter by_pid;
	by_pid.pid = 42;
	EXPECT_FALSE(query::store_coverage(store, by_pid).older_filtered);

	nlohmann::json answer = query::top_to_json({}, coverage);
	EXPECT_EQ(cli::coverage_note(answer),
	          "store covers since " + format_timestamp(kStart + 4 * kMinute) +
	              " (id 4); 3 older resets are only in the totals: refused 3");
	EXPECT_EQ(cli::coverage_note(query::top_to_json({}, query::store_coverage(store, after))),
	          "");
}

TEST(StoreCoverage, ANoteFromAPartialAnswerDoesNotTrustItsFields)
{
	nlohmann::json partial = {{"coverage", {{"window_complete", false}}}};
	EXPECT_EQ(cli::coverage_note(partial).rfind("store covers since now (it holds nothing)", 0),
	          0u);
	EXPECT_EQ(cli::coverage_note({{"coverage", "not an object"}}), "");
}

} // namespace
} // namespace rstwatch::test
