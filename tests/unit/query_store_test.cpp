#include "core/event_store.h"
#include "support/event_builder.h"

#include <gtest/gtest.h>

#include <vector>

namespace rstwatch
{
namespace
{

std::vector<uint64_t> ids_newest_first(const EventStore &store)
{
	std::vector<uint64_t> ids;
	store.visit_newest_first([&](const ResetEvent &event) {
		ids.push_back(event.id);
		return true;
	});
	return ids;
}

void fill(EventStore &store, uint64_t first, uint64_t last)
{
	for (uint64_t id = first; id <= last; id++)
		store.append(test::refused_connect_event({.id = id}));
}

TEST(QueryStore, KeepsTheNewestUpToItsCapacity)
{
	EventStore store(4);
	EXPECT_TRUE(store.empty());
	EXPECT_EQ(store.oldest_id(), 0u);
	EXPECT_EQ(store.find(1), nullptr);
	fill(store, 1, 3);
	EXPECT_EQ(ids_newest_first(store), (std::vector<uint64_t>{3, 2, 1}));
	fill(store, 4, 10);
	EXPECT_EQ(store.size(), 4u);
	EXPECT_EQ(store.oldest_id(), 7u);
	EXPECT_EQ(store.newest_id(), 10u);
	EXPECT_EQ(ids_newest_first(store), (std::vector<uint64_t>{10, 9, 8, 7}));
	EXPECT_EQ(store.at(0).id, 7u);
	EXPECT_EQ(store.at(3).id, 10u);
}

TEST(QueryStore, FindsByIdAcrossTheWrap)
{
	EventStore store(5);
	fill(store, 1, 13);
	for (uint64_t id = 9; id <= 13; id++) {
		const ResetEvent *event = store.find(id);
		ASSERT_NE(event, nullptr) << id;
		EXPECT_EQ(event->id, id);
	}
	EXPECT_EQ(store.find(8), nullptr);
	EXPECT_EQ(store.find(14), nullptr);
	EXPECT_EQ(store.find(0), nullptr);
}

TEST(QueryStore, VisitStopsWhenAsked)
{
	EventStore store(10);
	fill(store, 1, 10);
	size_t visited = 0;
	store.visit_newest_first([&](const ResetEvent &) { return ++visited < 3; });
	EXPECT_EQ(visited, 3u);
}

TEST(QueryStore, ResizingKeepsTheNewest)
{
	EventStore store(6);
	fill(store, 1, 9);
	store.set_capacity(3);
	EXPECT_EQ(store.capacity(), 3u);
	EXPECT_EQ(ids_newest_first(store), (std::vector<uint64_t>{9, 8, 7}));
	store.set_capacity(5);
	fill(store, 10, 12);
	EXPECT_EQ(ids_newest_first(store), (std::vector<uint64_t>{12, 11, 10, 9, 8}));
	EXPECT_THROW(store.set_capacity(0), std::invalid_argument);
	EXPECT_THROW(EventStore(0), std::invalid_argument);
}

// Capacities that are not a whole number of the store's allocation chunks,
// wrapped several times, and resized across chunk boundaries.
TEST(QueryStore, WrapsAndResizesAcrossAllocationChunks)
{
	EventStore store(10000);
	fill(store, 1, 25001);
	ASSERT_EQ(store.size(), 10000u);
	for (size_t i = 0; i < store.size(); i++)
		ASSERT_EQ(store.at(i).id, 15002u + i) << i;
	for (uint64_t id : {15002u, 16000u, 20000u, 25001u}) {
		const ResetEvent *event = store.find(id);
		ASSERT_NE(event, nullptr) << id;
		EXPECT_EQ(event->id, id);
	}
	store.set_capacity(4097);
	EXPECT_EQ(store.oldest_id(), 25001u - 4097u + 1);
	fill(store, 25002, 30000);
	EXPECT_EQ(store.size(), 4097u);
	EXPECT_EQ(store.oldest_id(), 30000u - 4097u + 1);
	EXPECT_EQ(store.newest_id(), 30000u);
	store.set_capacity(20000);
	EXPECT_EQ(store.size(), 4097u);
	fill(store, 30001, 50000);
	EXPECT_EQ(store.size(), 20000u);
	EXPECT_EQ(store.at(0).id, 30001u);
}

TEST(QueryStore, DefaultCapacityIs64kEvents)
{
	EventStore store;
	EXPECT_EQ(store.capacity(), 65536u);
	fill(store, 1, 70000);
	EXPECT_EQ(store.size(), 65536u);
	EXPECT_EQ(store.oldest_id(), 70000u - 65536u + 1);
}

} // namespace
} // namespace rstwatch
