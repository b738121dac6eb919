// Peer linking: a received reset finds the sent reset on the mirrored
// 4-tuple, in either order and across address forms.
#include "core/enrich.h"
#include "support/event_builder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace rstwatch
{
namespace
{

ResetEvent make_event(uint64_t id, uint8_t direction, const char *local, uint16_t local_port,
                      const char *remote, uint16_t remote_port, bool as_v4_mapped = false)
{
	const std::string form = as_v4_mapped ? "::ffff:" : "";
	ResetEvent event = test::EventBuilder()
	                       .id(id)
	                       .direction(direction)
	                       .local(form + local, local_port)
	                       .remote(form + remote, remote_port)
	                       .event();
	event.raw.timestamp_ns = 1'000'000'000ULL + id;
	return event;
}

TEST(PeerLinker, LinksReceivedBeforeSentInOneBatch)
{
	std::vector<ResetEvent> batch;
	batch.push_back(make_event(1, RSTWATCH_DIR_RECEIVED, "127.0.0.1", 5000, "127.0.0.1", 80));
	batch.push_back(make_event(2, RSTWATCH_DIR_SENT, "127.0.0.1", 80, "127.0.0.1", 5000));
	batch[1].raw.cause = RSTWATCH_CAUSE_CLOSE_WITH_UNREAD_DATA;
	batch[1].raw.owner_source = RSTWATCH_OWNER_CURRENT;
	batch[1].raw.owner_pid = 42;
	std::strcpy(batch[1].raw.owner_comm, "server");
	batch[0].raw.cause = RSTWATCH_CAUSE_PEER_RESET;

	PeerLinker linker;
	linker.link(batch);
	EXPECT_EQ(batch[0].peer.event_id, 2u);
	EXPECT_EQ(batch[0].peer.pid, 42u);
	EXPECT_STREQ(batch[0].peer.comm, "server");
	EXPECT_EQ(batch[0].peer.cause, RSTWATCH_CAUSE_CLOSE_WITH_UNREAD_DATA);
	EXPECT_EQ(batch[1].peer.event_id, 1u);
	EXPECT_EQ(batch[1].peer.cause, RSTWATCH_CAUSE_PEER_RESET);
}

TEST(PeerLinker, LinksAcrossBatchesAndAddressForms)
{
	PeerLinker linker;
	std::vector<ResetEvent> first{
	    make_event(1, RSTWATCH_DIR_SENT, "127.0.0.1", 80, "127.0.0.1", 5000, true)};
	linker.link(first);
	std::vector<ResetEvent> second{
	    make_event(2, RSTWATCH_DIR_RECEIVED, "127.0.0.1", 5000, "127.0.0.1", 80)};
	linker.link(second);
	EXPECT_EQ(second[0].peer.event_id, 1u);
}

TEST(PeerLinker, DoesNotLinkOtherTuplesOrStaleEvents)
{
	PeerLinker linker;
	std::vector<ResetEvent> batch{
	    make_event(1, RSTWATCH_DIR_SENT, "127.0.0.1", 80, "127.0.0.1", 5000),
	    make_event(2, RSTWATCH_DIR_RECEIVED, "127.0.0.1", 5001, "127.0.0.1", 80)};
	linker.link(batch);
	EXPECT_EQ(batch[1].peer.event_id, 0u);

	std::vector<ResetEvent> later{
	    make_event(3, RSTWATCH_DIR_RECEIVED, "127.0.0.1", 5000, "127.0.0.1", 80)};
	later[0].raw.timestamp_ns += 10 * PeerLinker::kWindowNs;
	linker.link(later);
	EXPECT_EQ(later[0].peer.event_id, 0u);
	EXPECT_EQ(linker.remembered(), 0u);
}

} // namespace
} // namespace rstwatch
