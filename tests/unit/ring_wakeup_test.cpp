// The reset programs wake rstwatchd once, with the record that makes the
// data waiting in the ring reach the threshold. A window narrower than a
// record's step in the ring is stepped over, and then only the drain timer
// empties it: 2026-11-30, the 104-byte core records made a 512 KiB ring lose
// 58 % of a refused storm that way.
#include "rstwatch/event.h"
#include "rstwatch/ring.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace rstwatch
{
namespace
{

// Every record the ring carries.
const std::vector<uint32_t> kRecordSizes = {RSTWATCH_EVENT_CORE_SIZE, RSTWATCH_EVENT_SIZE,
                                            RSTWATCH_OWNER_NOTE_SIZE};

// Fills an empty ring with records of the sizes given in turn, as the
// kernel advances its producer position, and counts the wake-ups.
int wakeups_filling(uint64_t threshold, const std::vector<uint32_t> &sizes, uint64_t bytes)
{
	int wakeups = 0;
	uint64_t avail = 0;
	for (size_t i = 0; avail < bytes; i++) {
		uint32_t size = sizes[i % sizes.size()];
		avail += rstwatch_ring_step(size);
		wakeups += rstwatch_ring_crossed(avail, threshold, size);
	}
	return wakeups;
}

TEST(RingWakeup, StepIsTheRecordRoundedUpPlusItsHeader)
{
	EXPECT_EQ(rstwatch_ring_step(RSTWATCH_EVENT_CORE_SIZE), 112u);
	EXPECT_EQ(rstwatch_ring_step(RSTWATCH_EVENT_SIZE), 232u);
	EXPECT_EQ(rstwatch_ring_step(RSTWATCH_OWNER_NOTE_SIZE), 64u);
	EXPECT_EQ(rstwatch_ring_step(1), 16u);
}

TEST(RingWakeup, EveryRecordSizeWakesExactlyOncePerThresholdWhateverTheOffset)
{
	// Thresholds at every offset within the largest step, so that each
	// record size meets the threshold at every position of its step.
	for (uint64_t base : {uint64_t{4096}, uint64_t{1} << 20}) {
		for (uint64_t offset = 0; offset < rstwatch_ring_step(RSTWATCH_EVENT_SIZE);
		     offset++) {
			uint64_t threshold = base + offset;
			for (uint32_t size : kRecordSizes)
				ASSERT_EQ(wakeups_filling(threshold, {size}, 4 * threshold), 1)
				    << "record " << size << " bytes, threshold " << threshold;
			// A refused storm: a core record (sent) then a full one (received).
			ASSERT_EQ(wakeups_filling(threshold,
			                          {RSTWATCH_EVENT_CORE_SIZE, RSTWATCH_EVENT_SIZE},
			                          4 * threshold),
			          1)
			    << "threshold " << threshold;
			ASSERT_EQ(wakeups_filling(threshold,
			                          {RSTWATCH_EVENT_SIZE, RSTWATCH_OWNER_NOTE_SIZE,
			                           RSTWATCH_EVENT_CORE_SIZE},
			                          4 * threshold),
			          1)
			    << "threshold " << threshold;
		}
	}
}

TEST(RingWakeup, NothingBelowTheThreshold)
{
	EXPECT_EQ(wakeups_filling(1 << 20, {RSTWATCH_EVENT_SIZE}, (1 << 20) - 232), 0);
	EXPECT_FALSE(rstwatch_ring_crossed(0, 4096, RSTWATCH_EVENT_SIZE));
	EXPECT_FALSE(rstwatch_ring_crossed(4095, 4096, RSTWATCH_EVENT_SIZE));
	EXPECT_TRUE(rstwatch_ring_crossed(4096, 4096, RSTWATCH_EVENT_SIZE));
	EXPECT_TRUE(rstwatch_ring_crossed(4096 + 231, 4096, RSTWATCH_EVENT_SIZE));
	EXPECT_FALSE(rstwatch_ring_crossed(4096 + 232, 4096, RSTWATCH_EVENT_SIZE));
}

} // namespace
} // namespace rstwatch
