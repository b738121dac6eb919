// When both ends of a reset are on this host, the received event's remedy
// is the sender's: what to change is on the side that sent it.
#include "core/classifier.h"
#include "core/event_format.h"
#include "support/event_builder.h"

#include <gtest/gtest.h>

#include <string>

namespace rstwatch
{
namespace
{

// A received reset on an idle established connection: on its own, a
// peer_idle_timeout ("keep connections active (keepalive) ...").
ResetEvent idle_received_reset()
{
	ResetEvent event = test::EventBuilder()
	                       .id(8)
	                       .version(RSTWATCH_EVENT_VERSION)
	                       .direction(RSTWATCH_DIR_RECEIVED)
	                       .state(1) // TCP_ESTABLISHED
	                       .kernel_reason(RSTWATCH_REASON_UNAVAILABLE)
	                       .flags(RSTWATCH_F_HAS_SOCKET | RSTWATCH_F_FULL_SOCKET)
	                       .cause(RSTWATCH_CAUSE_PEER_IDLE_TIMEOUT)
	                       .local("127.0.0.1", 8080)
	                       .remote("127.0.0.1", 40000)
	                       .event();
	event.raw.idle_since_send_ms = 5000;
	event.raw.idle_since_receive_ms = 5000;
	return event;
}

OutputContext context()
{
	return OutputContext{ReasonNames(), make_classify_config({}, 1000)};
}

TEST(PeerRemedy, LinkedSenderCauseDecidesTheReceivedRemedy)
{
	ResetEvent received = idle_received_reset();
	nlohmann::json alone = event_to_json(received, context());
	EXPECT_EQ(alone["cause"], "peer_idle_timeout");
	EXPECT_EQ(alone["remedy"], cause_remedy(Cause::PeerIdleTimeout));

	received.peer.event_id = 7;
	received.peer.cause = RSTWATCH_CAUSE_LINGER_ZERO_CLOSE;
	nlohmann::json linked = event_to_json(received, context());
	EXPECT_EQ(linked["cause"], "peer_idle_timeout") << "the cause stays the receiver's";
	const std::string remedy = linked["remedy"];
	EXPECT_EQ(remedy, linked_sender_remedy(Cause::LingerZeroClose));
	EXPECT_EQ(remedy.find("keepalive"), std::string::npos) << remedy;
	EXPECT_NE(remedy.find(std::string(cause_remedy(Cause::LingerZeroClose))), std::string::npos)
	    << remedy;
	EXPECT_NE(remedy.find("linger_zero_close"), std::string::npos) << remedy;

	// The direct writer says the same as the tree.
	std::string text;
	append_event_json(text, received, context());
	EXPECT_EQ(nlohmann::json::parse(text)["remedy"], remedy);
}

TEST(PeerRemedy, UnknownOrMirroredSenderCauseAndSentEventsKeepTheirOwnRemedy)
{
	ResetEvent received = idle_received_reset();
	received.peer.event_id = 7;
	received.peer.cause = RSTWATCH_CAUSE_UNKNOWN;
	EXPECT_EQ(event_to_json(received, context())["remedy"],
	          cause_remedy(Cause::PeerIdleTimeout));

	// A refused connect's remedy already names the sender's side.
	ResetEvent refused =
	    test::refused_connect_event({.id = 4, .direction = RSTWATCH_DIR_RECEIVED});
	refused.peer.event_id = 3;
	refused.peer.cause = RSTWATCH_CAUSE_REFUSED;
	EXPECT_EQ(event_to_json(refused, context())["remedy"], cause_remedy(Cause::PeerRefused));

	ResetEvent sent = test::refused_connect_event({.id = 3});
	sent.peer.event_id = 4;
	sent.peer.cause = RSTWATCH_CAUSE_PEER_REFUSED;
	EXPECT_EQ(event_to_json(sent, context())["remedy"], cause_remedy(Cause::Refused));
}

TEST(PeerRemedy, EveryCauseHasASenderRemedy)
{
	for (Cause cause : all_causes()) {
		std::string_view remedy = linked_sender_remedy(cause);
		EXPECT_NE(remedy.find(cause_name(cause)), std::string_view::npos) << remedy;
		EXPECT_NE(remedy.find(cause_remedy(cause)), std::string_view::npos) << remedy;
	}
}

} // namespace
} // namespace rstwatch
