// rstwatch audit without a kernel: the risk rules on sockets built by hand,
// the records of several holders merged into one socket, the request and its
// answer, and the idle timeout read off the histogram.
#include "core/audit_risks.h"
#include "core/live_socket.h"
#include "daemon/query/audit.h"
#include "daemon/query/request.h"
#include "support/event_builder.h"
#include "support/request_parsing.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace rstwatch
{
namespace
{

using nlohmann::json;

// include/net/tcp_states.h
constexpr uint8_t kEstablished = 1;
constexpr uint8_t kSynSent = 2;
constexpr uint8_t kCloseWait = 8;
constexpr uint8_t kListen = 10;

constexpr uint64_t kIdleOver = 2000;

// A healthy connection held by `comm`: just exchanged data, no linger, no
// keepalive, nothing unread; times in milliseconds (CONFIG_HZ known).
rstwatch_event live_socket(uint8_t state, uint32_t pid = 42, const char *comm = "app",
                           uint64_t inode = 1000)
{
	rstwatch_event raw =
	    test::EventBuilder()
	        .version(RSTWATCH_EVENT_VERSION)
	        .state(state)
	        .flags(RSTWATCH_F_HAS_SOCKET | RSTWATCH_F_FULL_SOCKET | RSTWATCH_F_HZ_KNOWN)
	        .local("10.0.0.1", 8080)
	        .remote("10.0.0.2", 40000)
	        .owner(RSTWATCH_OWNER_SOCKET, pid, pid, comm)
	        .raw();
	raw.socket_inode = inode;
	raw.netns = 4026531840u;
	raw.keepalive_idle_seconds = 7200;
	raw.keepalive_interval_seconds = 75;
	raw.keepalive_count = 9;
	return raw;
}

uint8_t risks_of(const rstwatch_event &raw, uint64_t idle_over_ms = kIdleOver)
{
	return socket_risks(raw, idle_over_ms);
}

TEST(AuditRisks, LingerZeroOnlyWhereCloseSendsAReset)
{
	rstwatch_event raw = live_socket(kEstablished);
	raw.flags |= RSTWATCH_F_LINGER_ON;
	EXPECT_EQ(risks_of(raw), risk_bit(Risk::LingerZero));
	raw.state = kCloseWait;
	EXPECT_TRUE(risks_of(raw) & risk_bit(Risk::LingerZero));
	// A linger time, a listener and a connect in progress close quietly.
	raw.state = kEstablished;
	raw.linger_seconds = 5;
	EXPECT_EQ(risks_of(raw), 0);
	raw.linger_seconds = 0;
	raw.state = kListen;
	EXPECT_EQ(risks_of(raw), 0);
	raw.state = kSynSent;
	EXPECT_EQ(risks_of(raw), 0);
}

TEST(AuditRisks, UnreadDataCountsOnceNothingArrivedForASecond)
{
	rstwatch_event raw = live_socket(kEstablished);
	raw.unread_bytes = 100;
	raw.idle_since_receive_ms = kStuckAfterMs - 1;
	EXPECT_EQ(risks_of(raw), 0) << "still arriving: its owner may be about to read";
	raw.idle_since_receive_ms = kStuckAfterMs;
	EXPECT_EQ(risks_of(raw), risk_bit(Risk::UnreadData));
	raw.unread_bytes = 0;
	EXPECT_EQ(risks_of(raw), 0);
}

TEST(AuditRisks, CloseWaitWithUnreadDataIsBothRisks)
{
	rstwatch_event raw = live_socket(kCloseWait);
	raw.unread_bytes = 100;
	raw.idle_since_receive_ms = 1500;
	EXPECT_EQ(risks_of(raw), risk_bit(Risk::UnreadData) | risk_bit(Risk::PeerClosed));
	raw.idle_since_receive_ms = 999;
	EXPECT_EQ(risks_of(raw), 0) << "the FIN just came: the owner may be closing";
}

TEST(AuditRisks, IdleWithoutKeepaliveNeedsSilenceBothWays)
{
	rstwatch_event raw = live_socket(kEstablished);
	raw.idle_since_send_ms = 5000;
	raw.idle_since_receive_ms = 5000;
	EXPECT_EQ(risks_of(raw), risk_bit(Risk::IdleWithoutKeepalive));
	EXPECT_EQ(socket_idle_ms(raw), 5000u);
	EXPECT_EQ(risks_of(raw, 5000), 0) << "idle longer than, not as long as";
	EXPECT_EQ(risks_of(raw, kDefaultIdleOverMs), 0);
	raw.idle_since_send_ms = 100; // sending keeps an intermediary's timer fresh
	EXPECT_EQ(risks_of(raw), 0);
	raw.idle_since_send_ms = 5000;
	raw.state = kCloseWait; // not ESTABLISHED: peer_closed's business
	raw.idle_since_receive_ms = 500;
	EXPECT_EQ(risks_of(raw), 0);
}

TEST(AuditRisks, KeepaliveProtectsOnlyWhenItsFirstProbeComesInTime)
{
	rstwatch_event raw = live_socket(kEstablished);
	raw.idle_since_send_ms = 5000;
	raw.idle_since_receive_ms = 5000;
	raw.flags |= RSTWATCH_F_KEEPALIVE_ON;
	raw.keepalive_idle_seconds = 2;
	EXPECT_EQ(risks_of(raw), 0);
	raw.keepalive_idle_seconds = 3; // after the 2 s an intermediary allows
	EXPECT_EQ(risks_of(raw), risk_bit(Risk::IdleWithoutKeepalive));
}

TEST(AuditRisks, TimesInJiffiesJudgeOnlyLinger)
{
	rstwatch_event raw = live_socket(kCloseWait);
	raw.flags &= ~RSTWATCH_F_HZ_KNOWN;
	raw.flags |= RSTWATCH_F_LINGER_ON;
	raw.unread_bytes = 10;
	raw.idle_since_receive_ms = 100000;
	raw.idle_since_send_ms = 100000;
	EXPECT_EQ(risks_of(raw), risk_bit(Risk::LingerZero));
}

TEST(AuditRisks, NamesRoundTripAndPredictTheirCauses)
{
	for (Risk risk : all_risks()) {
		EXPECT_EQ(parse_risk(risk_name(risk)), risk);
		EXPECT_FALSE(risk_remedy(risk).empty());
	}
	EXPECT_EQ(risk_name(Risk::IdleWithoutKeepalive), "idle_without_keepalive");
	EXPECT_EQ(predicted_cause(Risk::LingerZero), Cause::LingerZeroClose);
	EXPECT_EQ(predicted_cause(Risk::UnreadData), Cause::CloseWithUnreadData);
	EXPECT_EQ(predicted_cause(Risk::PeerClosed), Cause::StaleConnectionReuse);
	EXPECT_EQ(predicted_cause(Risk::IdleWithoutKeepalive), Cause::PeerIdleTimeout);
	EXPECT_FALSE(parse_risk("linger"));
}

TEST(AuditRisks, IdleTimeoutIsTheBusiestBucketAfterASecondOfSilence)
{
	const double inf = std::numeric_limits<double>::infinity();
	const std::vector<double> bounds = {0.1, 1, 5, 10, 15, 30, 60, 120, inf};
	// 50 fast resets (not idle timeouts), 3 after 1-5 s, 7 after 60-120 s.
	std::vector<uint64_t> cumulative = {20, 50, 53, 53, 53, 53, 53, 60, 60};
	std::optional<IdleTimeoutSeen> seen = idle_timeout_seen(bounds, cumulative);
	ASSERT_TRUE(seen);
	EXPECT_EQ(seen->seconds, 60u);
	EXPECT_EQ(seen->resets, 7u);
	// Past the last bound: the +Inf bucket's lower bound.
	cumulative = {0, 0, 0, 0, 0, 0, 0, 0, 4};
	seen = idle_timeout_seen(bounds, cumulative);
	ASSERT_TRUE(seen);
	EXPECT_EQ(seen->seconds, 120u);
	cumulative = {20, 50, 50, 50, 50, 50, 50, 50, 50};
	EXPECT_FALSE(idle_timeout_seen(bounds, cumulative));
}

// What a walk keeps: the sockets at risk, each with every process holding
// it, from the records of all of them.
LiveSockets collect(const std::vector<rstwatch_event> &records, uint64_t idle_over_ms = kIdleOver)
{
	LiveSocketCollector collector(idle_over_ms);
	for (const rstwatch_event &record : records)
		collector.add(record);
	return collector.finish();
}

rstwatch_event lingering(rstwatch_event raw)
{
	raw.flags |= RSTWATCH_F_LINGER_ON;
	return raw;
}

TEST(LiveSockets, RecordsOfOneSocketBecomeOneWithEveryHolder)
{
	// Socket 7 at risk, held by three processes (one twice, dup); socket 8
	// safe. The record of the lowest pid may come last.
	std::vector<rstwatch_event> records = {
	    lingering(live_socket(kEstablished, 300, "worker", 7)),
	    live_socket(kEstablished, 9, "other", 8),
	    lingering(live_socket(kEstablished, 200, "master", 7)),
	    lingering(live_socket(kEstablished, 300, "worker", 7))};
	LiveSockets sockets = collect(records);
	EXPECT_EQ(sockets.total, 2u);
	ASSERT_EQ(sockets.at_risk.size(), 1u) << "a safe socket is counted, not kept";
	const LiveSocket &socket = sockets.at_risk[0];
	EXPECT_EQ(socket.raw->socket_inode, 7u);
	EXPECT_EQ(socket.raw->owner_pid, 200u) << "the lowest pid names the socket";
	EXPECT_EQ(comm_text(socket.raw->owner_comm), "master");
	ASSERT_EQ(socket.holders.size(), 2u);
	EXPECT_EQ(socket.holders[0].pid, 200u);
	EXPECT_EQ(comm_text(socket.holders[1].comm), "worker");
}

TEST(LiveSockets, HoldersComeFromEveryRecordEvenOnesJudgedSafe)
{
	// The second holder's record was read just before the socket's idle
	// time passed the threshold: it still names a holder.
	rstwatch_event early = live_socket(kEstablished, 5, "early", 9);
	early.idle_since_send_ms = early.idle_since_receive_ms = kIdleOver;
	rstwatch_event late = live_socket(kEstablished, 6, "late", 9);
	late.idle_since_send_ms = late.idle_since_receive_ms = kIdleOver + 1;
	LiveSockets sockets = collect({early, late});
	ASSERT_EQ(sockets.at_risk.size(), 1u);
	ASSERT_EQ(sockets.at_risk[0].holders.size(), 2u);
	EXPECT_EQ(sockets.at_risk[0].raw->owner_pid, 5u);
	EXPECT_EQ(comm_text(sockets.at_risk[0].raw->owner_comm), "early");
}

query::Request audit_request(const std::string &line)
{
	return test::parse_ok(line, 0);
}

std::string audit_error(const std::string &line)
{
	return test::parse_error(line, 0).message;
}

TEST(AuditRequest, TakesItsOptionsAndTheSocketFilters)
{
	query::Request request = audit_request(
	    R"({"command":"audit","idle_over_ms":2000,"risk":"peer_closed","summary":true,)"
	    R"("pid":42,"comm":"app","local_port":8080,"remote_port":40000,"address":"10.0.0.0/8",)"
	    R"("limit":5})");
	EXPECT_EQ(request.command, query::Command::Audit);
	EXPECT_EQ(request.audit.idle_over_ms, 2000u);
	EXPECT_EQ(request.audit.risk, Risk::PeerClosed);
	EXPECT_TRUE(request.audit.summary);
	EXPECT_EQ(request.filter.pid, 42u);
	EXPECT_EQ(request.filter.local_port, 8080);
	EXPECT_EQ(request.limit, 5u);

	request = audit_request(R"({"command":"audit"})");
	EXPECT_EQ(request.audit.idle_over_ms, kDefaultIdleOverMs);
	EXPECT_EQ(request.limit, query::kDefaultAuditLimit);
	EXPECT_FALSE(request.audit.risk);
	EXPECT_FALSE(request.audit.summary);
}

TEST(AuditRequest, RefusesWhatALiveSocketDoesNotHave)
{
	EXPECT_EQ(audit_error(R"({"command":"audit","since":"5m"})"),
	          R"(unknown field "since" for audit)");
	EXPECT_EQ(audit_error(R"({"command":"audit","cause":"refused"})"),
	          R"(unknown field "cause" for audit)");
	EXPECT_EQ(audit_error(R"({"command":"recent","risk":"linger_zero"})"),
	          R"(unknown field "risk" for recent)");
	EXPECT_NE(audit_error(R"({"command":"audit","risk":"linger"})").find("risk must be"),
	          std::string::npos);
	EXPECT_NE(audit_error(R"({"command":"audit","idle_over_ms":0})").find("out of range"),
	          std::string::npos);
	EXPECT_NE(audit_error(R"({"command":"audit","idle_over_ms":"5m"})").find("integer"),
	          std::string::npos);
	EXPECT_EQ(audit_error(R"({"command":"audit","summary":1})"),
	          "summary must be true or false");
}

// Every socket of the sample, judged at a small idle time so all are kept.
LiveSockets sample_sockets()
{
	rstwatch_event linger = live_socket(kEstablished, 42, "app", 1);
	linger.flags |= RSTWATCH_F_LINGER_ON;
	rstwatch_event close_wait = live_socket(kCloseWait, 7, "srv", 2);
	close_wait.unread_bytes = 100;
	close_wait.idle_since_receive_ms = 1500;
	close_wait.local_port = 9000;
	rstwatch_event healthy = live_socket(kEstablished, 42, "app", 3);
	// The healthy one is kept only as the collector would at 1 ms.
	healthy.idle_since_send_ms = healthy.idle_since_receive_ms = 1;
	LiveSockets sockets = collect({linger, close_wait, healthy}, 0);
	EXPECT_EQ(sockets.at_risk.size(), 3u);
	return sockets;
}

TEST(AuditAnswer, OneRowPerSocketAndRiskInRiskOrder)
{
	LiveSockets sample = sample_sockets();
	const std::vector<LiveSocket> &sockets = sample.at_risk;
	query::AuditResult result =
	    query::run_audit(sockets, sockets.size(), audit_request(R"({"command":"audit"})"));
	EXPECT_EQ(result.sockets, 3u);
	EXPECT_EQ(result.matched, 3u);
	ASSERT_EQ(result.rows.size(), 3u);
	EXPECT_EQ(result.rows[0].risk, Risk::LingerZero);
	EXPECT_EQ(result.rows[1].risk, Risk::UnreadData);
	EXPECT_EQ(result.rows[2].risk, Risk::PeerClosed);
	EXPECT_EQ(result.by_risk[static_cast<size_t>(Risk::PeerClosed)], 1u);

	query::AuditContext context;
	context.idle_over_ms = 300000;
	context.hostname = "node-1";
	json body = query::audit_to_json(result, context);
	EXPECT_EQ(body["command"], "audit");
	EXPECT_EQ(body["sockets"], 3);
	EXPECT_EQ(body["count"], 3);
	EXPECT_EQ(body["at_risk"]["unread_data"], 1);
	EXPECT_EQ(body["at_risk"]["idle_without_keepalive"], 0);
	EXPECT_TRUE(body["idle_timeout_seen_seconds"].is_null());
	const json &row = body["rows"][1];
	EXPECT_EQ(row["hostname"], "node-1");
	EXPECT_EQ(row["risk"], "unread_data");
	EXPECT_EQ(row["predicted_cause"], "close_with_unread_data");
	EXPECT_EQ(row["pid"], 7);
	EXPECT_EQ(row["comm"], "srv");
	EXPECT_EQ(row["owner_source"], "socket_owner");
	EXPECT_TRUE(row["holders"].is_null());
	EXPECT_EQ(row["local"], "10.0.0.1:9000");
	EXPECT_EQ(row["remote"], "10.0.0.2:40000");
	EXPECT_EQ(row["state"], "CLOSE_WAIT");
	EXPECT_EQ(row["idle_ms"], 0);
	EXPECT_EQ(row["unread_bytes"], 100);
	EXPECT_EQ(row["linger_on"], false);
	EXPECT_EQ(row["linger_seconds"], 0);
	EXPECT_EQ(row["keepalive_on"], false);
	EXPECT_EQ(row["keepalive_idle_seconds"], 7200);
	EXPECT_EQ(row["netns"], 4026531840u);
	EXPECT_EQ(row["socket_inode"], 2);
	EXPECT_EQ(row["systemd_unit"], "");
	EXPECT_EQ(row["container_id"], "");
	EXPECT_EQ(row["pod_name"], "");
	EXPECT_EQ(row["remedy"], risk_remedy(Risk::UnreadData));
}

TEST(AuditAnswer, WorkloadFiltersAndFieldsComeFromTheSocketsCgroup)
{
	LiveSockets sample = sample_sockets();
	CgroupInfo pod;
	pod.path = "/kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope";
	pod.container = std::string(64, 'a');
	pod.pod_uid = "8c7e3c4e-5f1a-4b2e-9d1c-0123456789ab";
	pod.pod_namespace = "shop";
	pod.pod_name = "cart-7d9f";
	sample.at_risk[1].cgroup = &pod; // the CLOSE_WAIT socket of srv
	const std::vector<LiveSocket> &sockets = sample.at_risk;

	query::AuditResult in_pod =
	    query::run_audit(sockets, sockets.size(),
	                     audit_request(R"({"command":"audit","pod":"shop/cart-7d9f"})"));
	ASSERT_EQ(in_pod.matched, 2u) << "unread_data and peer_closed";
	EXPECT_EQ(in_pod.rows[0].socket->raw->owner_pid, 7u);
	EXPECT_EQ(query::run_audit(sockets, sockets.size(),
	                           audit_request(R"({"command":"audit","container":"aaaa"})"))
	              .matched,
	          2u);
	EXPECT_EQ(query::run_audit(sockets, sockets.size(),
	                           audit_request(R"({"command":"audit","unit":"nginx"})"))
	              .matched,
	          0u);
	EXPECT_EQ(query::run_audit(sockets, sockets.size(),
	                           audit_request(R"({"command":"audit","netns":4026531840})"))
	              .matched,
	          3u);

	json row = query::audit_row_to_json(*in_pod.rows[0].socket, in_pod.rows[0].risk, "");
	EXPECT_EQ(row["cgroup_path"], pod.path);
	EXPECT_EQ(row["container_id"], pod.container);
	EXPECT_EQ(row["pod_namespace"], "shop");
	EXPECT_EQ(row["pod_name"], "cart-7d9f");
	EXPECT_EQ(row["pod_uid"], pod.pod_uid);
}

TEST(AuditAnswer, FiltersLimitAndSummary)
{
	LiveSockets sample = sample_sockets();
	const std::vector<LiveSocket> &sockets = sample.at_risk;
	query::AuditResult by_pid = query::run_audit(
	    sockets, sockets.size(), audit_request(R"({"command":"audit","pid":7})"));
	EXPECT_EQ(by_pid.matched, 2u);
	query::AuditResult by_risk = query::run_audit(
	    sockets, sockets.size(),
	    audit_request(R"({"command":"audit","risk":"peer_closed","comm":"srv"})"));
	ASSERT_EQ(by_risk.rows.size(), 1u);
	EXPECT_EQ(by_risk.rows[0].risk, Risk::PeerClosed);
	query::AuditResult by_port = query::run_audit(
	    sockets, sockets.size(), audit_request(R"({"command":"audit","local_port":8080})"));
	EXPECT_EQ(by_port.matched, 1u);

	query::AuditResult limited = query::run_audit(
	    sockets, sockets.size(), audit_request(R"({"command":"audit","limit":1})"));
	EXPECT_EQ(limited.matched, 3u);
	ASSERT_EQ(limited.rows.size(), 1u);
	EXPECT_EQ(limited.rows[0].risk, Risk::LingerZero);

	query::AuditResult summary =
	    query::run_audit(sockets, sockets.size(),
	                     audit_request(R"({"command":"audit","summary":true,"limit":1})"));
	EXPECT_TRUE(summary.rows.empty());
	ASSERT_EQ(summary.groups.size(), 3u) << "a summary is whole whatever the limit";
	query::AuditContext context;
	context.summary = true;
	context.idle_timeout_seen = IdleTimeoutSeen{60, 7};
	json body = query::audit_to_json(summary, context);
	EXPECT_FALSE(body.contains("rows"));
	EXPECT_EQ(body["groups"][0]["count"], 1);
	EXPECT_EQ(body["idle_timeout_seen_seconds"], 60);
	EXPECT_EQ(body["idle_timeout_seen_resets"], 7);
}

TEST(AuditAnswer, ASocketHeldTwiceNamesBothHoldersAndMatchesEither)
{
	rstwatch_event first = live_socket(kEstablished, 10, "master", 5);
	first.flags |= RSTWATCH_F_LINGER_ON;
	rstwatch_event second = first;
	second.owner_pid = 11;
	std::memcpy(second.owner_comm, "worker\0", 7);
	LiveSockets collected = collect({second, first});
	const std::vector<LiveSocket> &sockets = collected.at_risk;
	query::AuditResult result = query::run_audit(
	    sockets, sockets.size(), audit_request(R"({"command":"audit","pid":11})"));
	ASSERT_EQ(result.rows.size(), 1u);
	json row = query::audit_row_to_json(*result.rows[0].socket, Risk::LingerZero, "");
	EXPECT_EQ(row["pid"], 10);
	EXPECT_EQ(row["holders"], json::parse(R"([{"pid":10,"comm":"master"},)"
	                                      R"({"pid":11,"comm":"worker"}])"));
}

} // namespace
} // namespace rstwatch
