// The cause rules, case by case: with the kernel's reason (6.10+) and
// without it (older kernels decide from state, linger, unread bytes and
// context), plus the evidence and remedy each cause carries.
#include "core/classifier.h"
#include "core/enrich.h"
#include "support/event_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace rstwatch
{
namespace
{

// Reason numbering of the kernel under test; the rules must not care.
std::vector<std::string> reason_table()
{
	return {"NOT_SPECIFIED",
	        "NO_SOCKET",
	        "TCP_INVALID_ACK_SEQUENCE",
	        "TCP_RFC7323_PAWS",
	        "TCP_TOO_OLD_ACK",
	        "TCP_ACK_UNSENT_DATA",
	        "TCP_FLAGS",
	        "TCP_OLD_ACK",
	        "TCP_ABORT_ON_DATA",
	        "TCP_TIMEWAIT_SOCKET",
	        "INVALID_SYN",
	        "TCP_ABORT_ON_CLOSE",
	        "TCP_ABORT_ON_LINGER",
	        "TCP_ABORT_ON_MEMORY",
	        "TCP_STATE",
	        "TCP_KEEPALIVE_TIMEOUT",
	        "TCP_DISCONNECT_WITH_DATA"};
}

uint32_t reason(const std::string &name)
{
	auto names = reason_table();
	return static_cast<uint32_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

constexpr uint8_t kEstablished = 1, kSynSent = 2, kFinWait2 = 5, kTimeWait = 6, kClose = 7,
                  kCloseWait = 8, kListen = 10;

class Classifier : public ::testing::Test
{
protected:
	rstwatch_classify_config config = make_classify_config(reason_table(), 1000);

	static rstwatch_event sent(uint8_t state, uint32_t kernel_reason, uint32_t flags)
	{
		return test::EventBuilder()
		    .version(RSTWATCH_EVENT_VERSION)
		    .direction(RSTWATCH_DIR_SENT)
		    .state(state)
		    .kernel_reason(kernel_reason)
		    .flags(flags)
		    .raw();
	}
	static rstwatch_event received(uint8_t state)
	{
		return test::EventBuilder()
		    .version(RSTWATCH_EVENT_VERSION)
		    .direction(RSTWATCH_DIR_RECEIVED)
		    .state(state)
		    .kernel_reason(RSTWATCH_REASON_UNAVAILABLE)
		    .flags(RSTWATCH_F_HAS_SOCKET | RSTWATCH_F_FULL_SOCKET)
		    .raw();
	}
	Cause cause(const rstwatch_event &e) const { return classify_cause(e, config); }
	// What every output shows with a cause: its evidence and remedy.
	struct Explained {
		Cause cause;
		std::vector<std::string> evidence;
		std::string_view remedy;
	};
	Explained explain(const rstwatch_event &e) const
	{
		auto names = reason_table();
		Cause decided = classify_cause(e, config);
		std::string name = e.kernel_reason < names.size() ? names[e.kernel_reason] : "";
		return {decided, cause_evidence(e, decided, config, name), cause_remedy(decided)};
	}
};

constexpr uint32_t kSocket = RSTWATCH_F_HAS_SOCKET | RSTWATCH_F_FULL_SOCKET;
constexpr uint32_t kNone = RSTWATCH_REASON_UNAVAILABLE;

TEST_F(Classifier, NoSocketSynIsRefusedOtherwiseNoSocket)
{
	EXPECT_EQ(cause(sent(0, reason("NO_SOCKET"), RSTWATCH_F_HAS_SKB | RSTWATCH_F_REPLY_TO_SYN)),
	          Cause::Refused);
	EXPECT_EQ(cause(sent(0, reason("NO_SOCKET"), RSTWATCH_F_HAS_SKB)), Cause::NoSocket);
	// Without a reason the missing socket alone decides.
	EXPECT_EQ(cause(sent(0, kNone, RSTWATCH_F_HAS_SKB | RSTWATCH_F_REPLY_TO_SYN)),
	          Cause::Refused);
	EXPECT_EQ(cause(sent(0, kNone, RSTWATCH_F_HAS_SKB)), Cause::NoSocket);
}

TEST_F(Classifier, ListenerRefusingANonSynIsNoSocket)
{
	auto e = sent(kListen, reason("TCP_FLAGS"), kSocket | RSTWATCH_F_HAS_SKB);
	EXPECT_EQ(cause(e), Cause::NoSocket);
	e.flags |= RSTWATCH_F_REPLY_TO_SYN;
	EXPECT_EQ(cause(e), Cause::Protocol);
}

TEST_F(Classifier, CloseWithUnreadData)
{
	auto e = sent(kClose, reason("TCP_ABORT_ON_CLOSE"), kSocket | RSTWATCH_F_CURRENT_IS_OWNER);
	e.unread_bytes = 10;
	EXPECT_EQ(cause(e), Cause::CloseWithUnreadData);
	e.kernel_reason = kNone;
	EXPECT_EQ(cause(e), Cause::CloseWithUnreadData);
	// Without a reason, unread bytes alone are not enough: the owner must
	// be the one closing.
	e.flags &= ~RSTWATCH_F_CURRENT_IS_OWNER;
	EXPECT_NE(cause(e), Cause::CloseWithUnreadData);
}

TEST_F(Classifier, UnreadDataWinsOverLingerAsInTheKernel)
{
	auto e = sent(kClose, kNone, kSocket | RSTWATCH_F_CURRENT_IS_OWNER | RSTWATCH_F_LINGER_ON);
	e.unread_bytes = 1;
	EXPECT_EQ(cause(e), Cause::CloseWithUnreadData);
}

TEST_F(Classifier, LingerZeroClose)
{
	auto e = sent(kClose, reason("TCP_STATE"),
	              kSocket | RSTWATCH_F_CURRENT_IS_OWNER | RSTWATCH_F_LINGER_ON);
	EXPECT_EQ(cause(e), Cause::LingerZeroClose);
	e.kernel_reason = kNone;
	EXPECT_EQ(cause(e), Cause::LingerZeroClose);
	e.kernel_reason = reason("NOT_SPECIFIED");
	EXPECT_EQ(cause(e), Cause::LingerZeroClose);
	// A non-zero linger time does not abort.
	e.linger_seconds = 5;
	e.kernel_reason = reason("TCP_STATE");
	EXPECT_EQ(cause(e), Cause::Disconnect);
}

TEST_F(Classifier, ProcessExitWinsOverCloseAndLinger)
{
	auto e = sent(kClose, reason("TCP_ABORT_ON_CLOSE"),
	              kSocket | RSTWATCH_F_CURRENT_IS_OWNER | RSTWATCH_F_OWNER_EXITING);
	e.unread_bytes = 3;
	e.owner_exit_code = 9;
	EXPECT_EQ(cause(e), Cause::ProcessExit);
	auto why = explain(e);
	EXPECT_NE(std::find(why.evidence.begin(), why.evidence.end(), "exit_signal=9"),
	          why.evidence.end());
	auto linger = sent(kClose, kNone,
	                   kSocket | RSTWATCH_F_CURRENT_IS_OWNER | RSTWATCH_F_LINGER_ON |
	                       RSTWATCH_F_OWNER_EXITING);
	EXPECT_EQ(cause(linger), Cause::ProcessExit);
}

TEST_F(Classifier, DataAfterClose)
{
	EXPECT_EQ(cause(sent(kClose, reason("TCP_ABORT_ON_DATA"),
	                     kSocket | RSTWATCH_F_ORPHAN | RSTWATCH_F_HAS_SKB)),
	          Cause::DataAfterClose);
	// Older kernels: an orphan answering a segment.
	EXPECT_EQ(cause(sent(kFinWait2, kNone, kSocket | RSTWATCH_F_ORPHAN | RSTWATCH_F_HAS_SKB)),
	          Cause::DataAfterClose);
	// The FIN_WAIT2 orphan already swapped for a TIME_WAIT mini socket.
	EXPECT_EQ(cause(sent(kTimeWait, reason("TCP_TIMEWAIT_SOCKET"),
	                     RSTWATCH_F_HAS_SOCKET | RSTWATCH_F_HAS_SKB | RSTWATCH_F_TW_FIN_WAIT2)),
	          Cause::DataAfterClose);
}

TEST_F(Classifier, Timewait)
{
	EXPECT_EQ(cause(sent(kTimeWait, reason("TCP_TIMEWAIT_SOCKET"),
	                     RSTWATCH_F_HAS_SOCKET | RSTWATCH_F_HAS_SKB)),
	          Cause::Timewait);
	EXPECT_EQ(cause(sent(kTimeWait, kNone, RSTWATCH_F_HAS_SOCKET | RSTWATCH_F_HAS_SKB)),
	          Cause::Timewait);
}

TEST_F(Classifier, KeepaliveTimeout)
{
	auto e =
	    sent(kEstablished, reason("TCP_KEEPALIVE_TIMEOUT"), kSocket | RSTWATCH_F_KEEPALIVE_ON);
	EXPECT_EQ(cause(e), Cause::KeepaliveTimeout);
	// Older kernels: from a timer (no segment, nobody in a socket call)
	// with keepalive on.
	e.kernel_reason = kNone;
	EXPECT_EQ(cause(e), Cause::KeepaliveTimeout);
	e.flags &= ~RSTWATCH_F_KEEPALIVE_ON;
	EXPECT_EQ(cause(e), Cause::Unknown);
}

TEST_F(Classifier, MemoryPressureDisconnectAndProtocol)
{
	EXPECT_EQ(cause(sent(kFinWait2, reason("TCP_ABORT_ON_MEMORY"), kSocket)),
	          Cause::MemoryPressure);
	EXPECT_EQ(cause(sent(kClose, reason("TCP_DISCONNECT_WITH_DATA"), kSocket)),
	          Cause::Disconnect);
	EXPECT_EQ(cause(sent(kClose, reason("TCP_STATE"), kSocket | RSTWATCH_F_CURRENT_IS_OWNER)),
	          Cause::Disconnect);
	for (const char *name : {"TCP_INVALID_ACK_SEQUENCE", "TCP_RFC7323_PAWS", "TCP_TOO_OLD_ACK",
	                         "TCP_FLAGS", "INVALID_SYN", "TCP_ABORT_ON_LINGER"})
		EXPECT_EQ(cause(sent(kEstablished, reason(name), kSocket | RSTWATCH_F_HAS_SKB)),
		          Cause::Protocol)
		    << name;
	// Older kernels: an owner acting with no segment is an explicit abort,
	// a reply to a segment on a live socket a protocol reject.
	EXPECT_EQ(cause(sent(kClose, kNone, kSocket | RSTWATCH_F_CURRENT_IS_OWNER)),
	          Cause::Disconnect);
	EXPECT_EQ(cause(sent(kEstablished, kNone, kSocket | RSTWATCH_F_HAS_SKB)), Cause::Protocol);
}

TEST_F(Classifier, ReasonNumbersComeFromTheTableNotConstants)
{
	// Same rules, a kernel where the enum is ordered differently.
	std::vector<std::string> shuffled = reason_table();
	std::reverse(shuffled.begin(), shuffled.end());
	auto other = make_classify_config(shuffled, 1000);
	uint32_t abort_on_close = static_cast<uint32_t>(
	    std::find(shuffled.begin(), shuffled.end(), "TCP_ABORT_ON_CLOSE") - shuffled.begin());
	auto e = sent(kClose, abort_on_close, kSocket);
	e.unread_bytes = 1;
	EXPECT_EQ(classify_cause(e, other), Cause::CloseWithUnreadData);
	// A kernel that lacks a reason name maps it to UNAVAILABLE.
	auto sparse = make_classify_config({"NOT_SPECIFIED", "NO_SOCKET"}, 1000);
	EXPECT_EQ(sparse.abort_on_close, RSTWATCH_REASON_UNAVAILABLE);
}

// A kernel before 6.10 has no enum sk_rst_reason at all: every reason in
// the configuration and in every event is UNAVAILABLE, and equal values must
// not read as evidence.
TEST_F(Classifier, KernelWithoutAnyReasonDecidesFromContext)
{
	auto none = make_classify_config({}, 1000);
	EXPECT_EQ(none.abort_on_close, RSTWATCH_REASON_UNAVAILABLE);
	auto unread = sent(kClose, kNone, kSocket | RSTWATCH_F_CURRENT_IS_OWNER);
	unread.unread_bytes = 5;
	EXPECT_EQ(classify_cause(unread, none), Cause::CloseWithUnreadData);
	auto linger =
	    sent(kClose, kNone, kSocket | RSTWATCH_F_CURRENT_IS_OWNER | RSTWATCH_F_LINGER_ON);
	EXPECT_EQ(classify_cause(linger, none), Cause::LingerZeroClose);
	auto keepalive = sent(kEstablished, kNone, kSocket | RSTWATCH_F_KEEPALIVE_ON);
	EXPECT_EQ(classify_cause(keepalive, none), Cause::KeepaliveTimeout);
	auto orphan = sent(kFinWait2, kNone, kSocket | RSTWATCH_F_ORPHAN | RSTWATCH_F_HAS_SKB);
	EXPECT_EQ(classify_cause(orphan, none), Cause::DataAfterClose);
	auto refused = sent(0, kNone, RSTWATCH_F_HAS_SKB | RSTWATCH_F_REPLY_TO_SYN);
	EXPECT_EQ(classify_cause(refused, none), Cause::Refused);
	auto established = sent(kEstablished, kNone, kSocket | RSTWATCH_F_HAS_SKB);
	EXPECT_EQ(classify_cause(established, none), Cause::Protocol);
}

TEST_F(Classifier, ReceivedPeerRefused)
{
	EXPECT_EQ(cause(received(kSynSent)), Cause::PeerRefused);
}

TEST_F(Classifier, ReceivedMiddleboxByTtl)
{
	auto e = received(kEstablished);
	e.rst_ttl = 64;
	e.peer_ttl = 63;
	EXPECT_EQ(cause(e), Cause::MiddleboxInjected);
	auto why = explain(e);
	EXPECT_EQ(why.evidence, (std::vector<std::string>{"rst_ttl=64", "peer_ttl=63"}));
	e.rst_ttl = 63;
	EXPECT_EQ(cause(e), Cause::PeerReset);
	// No baseline: no verdict from TTLs.
	e.rst_ttl = 64;
	e.peer_ttl = 0;
	EXPECT_EQ(cause(e), Cause::PeerReset);
}

TEST_F(Classifier, ReceivedInCloseWait)
{
	// We wrote after the peer's FIN: stale reuse.
	auto wrote = received(kCloseWait);
	wrote.unacked_bytes = 4;
	EXPECT_EQ(cause(wrote), Cause::StaleConnectionReuse);
	// FIN then reset on a connection we left idle: an idle timeout, even
	// though the FIN itself was just received.
	auto idle = received(kCloseWait);
	idle.idle_since_send_ms = 5000;
	idle.idle_since_receive_ms = 0;
	EXPECT_EQ(cause(idle), Cause::PeerIdleTimeout);
	auto busy = received(kCloseWait);
	busy.idle_since_send_ms = 10;
	EXPECT_EQ(cause(busy), Cause::PeerReset);
}

TEST_F(Classifier, ReceivedStaleReuse)
{
	auto e = received(kEstablished);
	e.unacked_bytes = 100;
	e.idle_since_receive_ms = 5000;
	e.idle_since_send_ms = 1;
	EXPECT_EQ(cause(e), Cause::StaleConnectionReuse);
	e.idle_since_receive_ms = 999;
	EXPECT_EQ(cause(e), Cause::PeerReset);
}

TEST_F(Classifier, ReceivedPeerIdleTimeout)
{
	auto e = received(kEstablished);
	e.idle_since_send_ms = 60000;
	e.idle_since_receive_ms = 60000;
	EXPECT_EQ(cause(e), Cause::PeerIdleTimeout);
	auto why = explain(e);
	EXPECT_NE(std::find(why.evidence.begin(), why.evidence.end(), "idle_threshold_ms=1000"),
	          why.evidence.end());
	e.idle_since_send_ms = 10;
	EXPECT_EQ(cause(e), Cause::PeerReset);
}

TEST_F(Classifier, NamesRemediesAndParsing)
{
	for (Cause c : all_causes()) {
		EXPECT_EQ(parse_cause(cause_name(c)), c);
		EXPECT_FALSE(cause_remedy(c).empty()) << cause_name(c);
	}
	EXPECT_EQ(cause_name(Cause::CloseWithUnreadData), "close_with_unread_data");
	EXPECT_EQ(cause_name(Cause::MiddleboxInjected), "middlebox_injected");
	EXPECT_EQ(parse_cause("bogus"), std::nullopt);
	EXPECT_EQ(all_causes().size(), static_cast<size_t>(RSTWATCH_CAUSE_COUNT));
}

TEST(CgroupPath, UnitAndContainer)
{
	CgroupInfo service{"/system.slice/nginx.service", "", ""};
	describe_cgroup_path(service);
	EXPECT_EQ(service.unit, "nginx.service");
	EXPECT_EQ(service.container, "");

	const std::string id(64, 'a');
	CgroupInfo docker{"/system.slice/docker-" + id + ".scope", "", ""};
	describe_cgroup_path(docker);
	EXPECT_EQ(docker.container, id);
	EXPECT_EQ(docker.unit, "docker-" + id + ".scope");

	CgroupInfo plain{"/docker/" + id, "", ""};
	describe_cgroup_path(plain);
	EXPECT_EQ(plain.container, id);
	EXPECT_EQ(plain.unit, "");

	CgroupInfo root{"/", "", ""};
	describe_cgroup_path(root);
	EXPECT_EQ(root.unit, "");
	EXPECT_EQ(root.container, "");
}

} // namespace
} // namespace rstwatch
