// The order of preference for owners the kernel left pending, and the order
// events leave in, with an OwnerLookup the test controls.
#include "core/owner_resolver.h"
#include "support/event_builder.h"

#include <gtest/gtest.h>

#include <cstring>

namespace rstwatch
{
namespace
{

using Clock = OwnerResolver::Clock;
using namespace std::chrono_literals;

class FakeLookup : public OwnerLookup
{
public:
	HolderMap holders;
	std::optional<rstwatch_owner> listener_owner;
	int lookups = 0;

	void find_holders(std::span<const uint64_t> inodes, HolderMap &out) override
	{
		lookups++;
		for (uint64_t inode : inodes)
			if (auto it = holders.find(inode); it != holders.end())
				out[inode] = it->second;
	}
	std::optional<rstwatch_owner> listener(uint32_t, uint16_t) override
	{
		return listener_owner;
	}
};

SocketHolder holder(uint32_t pid, const char *comm)
{
	SocketHolder h;
	h.pid = pid;
	std::strncpy(h.comm, comm, sizeof(h.comm) - 1);
	return h;
}

// A reset the kernel could not attribute: a sent one, so that it waits for
// its owner only.
ResetEvent pending(uint64_t socket_id, uint64_t inode, uint64_t timestamp_ns = 100)
{
	ResetEvent event =
	    test::EventBuilder()
	        .version(RSTWATCH_EVENT_VERSION)
	        .direction(RSTWATCH_DIR_SENT)
	        .state(RSTWATCH_TCP_ESTABLISHED)
	        .flags(RSTWATCH_F_HAS_SOCKET | RSTWATCH_F_FULL_SOCKET | RSTWATCH_F_OWNER_PENDING)
	        .event();
	event.raw.socket_id = socket_id;
	event.raw.socket_inode = inode;
	event.raw.timestamp_ns = timestamp_ns;
	return event;
}

ResetEvent attributed(uint8_t direction)
{
	return test::EventBuilder()
	    .version(RSTWATCH_EVENT_VERSION)
	    .direction(direction)
	    .owner(RSTWATCH_OWNER_CURRENT, 7, 7, "cur")
	    .event();
}

std::vector<ResetEvent> run(OwnerResolver &resolver, std::vector<ResetEvent> incoming,
                            Clock::time_point now, bool final = false)
{
	std::vector<ResetEvent> ready;
	resolver.process(incoming, now, ready, final);
	return ready;
}

TEST(OwnerResolver, HoldersOfTheInodeAreTheOwnerLowestPidFirst)
{
	FakeLookup lookup;
	lookup.holders[55] = {holder(10, "low"), holder(20, "high")};
	OwnerResolver resolver(&lookup, 100ms);
	auto ready = run(resolver, {pending(1, 55)}, Clock::now());
	ASSERT_EQ(ready.size(), 1u);
	EXPECT_EQ(ready[0].raw.owner_source, RSTWATCH_OWNER_SOCKET);
	EXPECT_EQ(ready[0].raw.owner_pid, 10u);
	EXPECT_STREQ(ready[0].raw.owner_comm, "low");
	ASSERT_TRUE(ready[0].holders);
	EXPECT_EQ(ready[0].holders->size(), 2u);
	EXPECT_EQ(lookup.lookups, 1);
}

TEST(OwnerResolver, ANoteFromTheClosingHolderWinsAndSaysWhetherItWasExiting)
{
	FakeLookup lookup;
	OwnerResolver resolver(&lookup, 100ms);
	Clock::time_point now = Clock::now();
	EXPECT_TRUE(run(resolver, {pending(1, 55, 100)}, now).empty()) << "nobody holds it yet";
	rstwatch_owner_note note{};
	note.socket_id = 1;
	note.timestamp_ns = 150;
	note.version = RSTWATCH_EVENT_VERSION;
	note.pid = 33;
	note.exiting = 1;
	note.exit_code = 9;
	std::strcpy(note.comm, "dying");
	resolver.add_note(note);
	auto ready = run(resolver, {}, now + 10ms);
	ASSERT_EQ(ready.size(), 1u);
	EXPECT_EQ(ready[0].raw.owner_source, RSTWATCH_OWNER_EXITED);
	EXPECT_EQ(ready[0].raw.owner_pid, 33u);
	EXPECT_EQ(ready[0].raw.owner_exit_code, 9u);
	EXPECT_TRUE(ready[0].raw.flags & RSTWATCH_F_OWNER_EXITING);
}

TEST(OwnerResolver, ANoteOlderThanTheResetIsNotItsOwner)
{
	FakeLookup lookup;
	OwnerResolver resolver(&lookup, 100ms);
	rstwatch_owner_note stale{};
	stale.socket_id = 1;
	stale.timestamp_ns = 50; // a socket that lived at this address before
	stale.pid = 44;
	resolver.add_note(stale);
	Clock::time_point now = Clock::now();
	EXPECT_TRUE(run(resolver, {pending(1, 55, 100)}, now).empty());
	auto ready = run(resolver, {}, now + 200ms);
	ASSERT_EQ(ready.size(), 1u);
	EXPECT_EQ(ready[0].raw.owner_source, RSTWATCH_OWNER_UNRESOLVED);
}

TEST(OwnerResolver, AfterTheHoldTheListenerThenNobody)
{
	FakeLookup lookup;
	OwnerResolver resolver(&lookup, 100ms);
	Clock::time_point now = Clock::now();
	EXPECT_TRUE(run(resolver, {pending(1, 55)}, now).empty());
	EXPECT_TRUE(run(resolver, {}, now + 50ms).empty()) << "still within the hold";
	rstwatch_owner listener{};
	listener.pid = 5;
	std::strcpy(listener.comm, "master");
	lookup.listener_owner = listener;
	auto ready = run(resolver, {}, now + 100ms);
	ASSERT_EQ(ready.size(), 1u);
	EXPECT_EQ(ready[0].raw.owner_source, RSTWATCH_OWNER_LISTENER);
	EXPECT_EQ(ready[0].raw.owner_pid, 5u);

	lookup.listener_owner.reset();
	EXPECT_TRUE(run(resolver, {pending(2, 66)}, now).empty());
	ready = run(resolver, {}, now + 100ms);
	ASSERT_EQ(ready.size(), 1u);
	EXPECT_EQ(ready[0].raw.owner_source, RSTWATCH_OWNER_UNRESOLVED);
	EXPECT_FALSE(owner_named(ready[0].raw.owner_source));
}

TEST(OwnerResolver, EventsLeaveInTheOrderTheyCame)
{
	FakeLookup lookup;
	OwnerResolver resolver(&lookup, 100ms);
	Clock::time_point now = Clock::now();
	ResetEvent first = pending(1, 55);
	ResetEvent second = attributed(RSTWATCH_DIR_SENT);
	EXPECT_TRUE(run(resolver, {first, second}, now).empty())
	    << "an attributed event waits behind a pending one";
	auto ready = run(resolver, {}, now, true);
	ASSERT_EQ(ready.size(), 2u);
	EXPECT_EQ(ready[0].raw.socket_id, 1u);
	EXPECT_EQ(ready[1].raw.owner_source, RSTWATCH_OWNER_CURRENT);
}

TEST(OwnerResolver, AReceivedResetWaitsOneBatchForItsSender)
{
	OwnerResolver resolver(nullptr, 100ms);
	Clock::time_point now = Clock::now();
	EXPECT_TRUE(run(resolver, {attributed(RSTWATCH_DIR_RECEIVED)}, now).empty());
	auto ready = run(resolver, {attributed(RSTWATCH_DIR_SENT)}, now);
	ASSERT_EQ(ready.size(), 2u) << "the sender's reset leaves with it";
	EXPECT_EQ(ready[0].raw.direction, RSTWATCH_DIR_RECEIVED);
	EXPECT_EQ(ready[1].raw.direction, RSTWATCH_DIR_SENT);
	EXPECT_EQ(run(resolver, {attributed(RSTWATCH_DIR_SENT)}, now).size(), 1u)
	    << "a sent reset alone does not wait";
}

} // namespace
} // namespace rstwatch
