#include "core/classifier.h"
#include "daemon/metrics/exposer.h"
#include "daemon/metrics/metrics.h"
#include "support/event_builder.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

namespace rstwatch
{
namespace
{

using test::refused_connect_event;

// "name{labels} value" lines of a scrape, keyed by everything before the
// value; comments dropped.
std::map<std::string, double> samples(const std::string &text)
{
	std::map<std::string, double> out;
	std::istringstream lines(text);
	std::string line;
	while (std::getline(lines, line)) {
		if (line.empty() || line[0] == '#')
			continue;
		size_t space = line.rfind(' ');
		out[line.substr(0, space)] = std::stod(line.substr(space + 1));
	}
	return out;
}

MetricsSources sources(KernelCounters *counters)
{
	MetricsSources sources;
	sources.version = "1.2.3";
	sources.kernel_counters = [counters] { return *counters; };
	sources.reason_names = {"NOT_SPECIFIED", "NO_SOCKET", "TCP_ABORT_ON_CLOSE", "MAX"};
	sources.kernel_has_reasons = true;
	HookStatus hook;
	hook.tracepoint = "tcp:tcp_send_reset";
	hook.variant = HookVariant::TpBtf;
	hook.attached = true;
	sources.hooks = {hook};
	HookStatus missing;
	missing.tracepoint = "syscalls:sys_exit_accept4";
	sources.missing_hooks = {missing};
	return sources;
}

TEST(MetricsSeries, KernelTotalsAreReadAtEveryScrape)
{
	KernelCounters counters;
	ResetMetrics metrics(sources(&counters), 20);
	auto before = samples(metrics.serialize());
	EXPECT_EQ(before.at(R"(rstwatch_resets_total{direction="sent",cause="refused"})"), 0);
	EXPECT_EQ(before.count(R"(rstwatch_resets_total{direction="sent",cause="peer_refused"})"),
	          0u)
	    << "received-only causes have no sent series until the kernel counts one";

	counters.by_cause[0][static_cast<size_t>(Cause::Refused)] = 7;
	counters.by_cause[1][static_cast<size_t>(Cause::PeerRefused)] = 7;
	counters.sent_by_reason[1] = 7;
	counters.received_by_state[2] = 7;
	counters.lost_events = 3;
	auto after = samples(metrics.serialize());
	EXPECT_EQ(after.at(R"(rstwatch_resets_total{direction="sent",cause="refused"})"), 7);
	EXPECT_EQ(after.at(R"(rstwatch_resets_total{direction="received",cause="peer_refused"})"),
	          7);
	EXPECT_EQ(after.at(R"(rstwatch_resets_sent_by_reason_total{reason="NO_SOCKET"})"), 7);
	EXPECT_EQ(after.at(R"(rstwatch_resets_sent_by_reason_total{reason="NOT_SPECIFIED"})"), 0);
	EXPECT_EQ(after.count(R"(rstwatch_resets_sent_by_reason_total{reason="MAX"})"), 0u);
	EXPECT_EQ(after.at(R"(rstwatch_resets_received_by_state_total{state="SYN_SENT"})"), 7);
	EXPECT_EQ(after.at("rstwatch_events_lost_total"), 3);
	EXPECT_EQ(
	    after.at(R"(rstwatch_probe_attached{hook="tcp:tcp_send_reset",variant="tp_btf"})"), 1);
	EXPECT_EQ(
	    after.at(R"(rstwatch_probe_attached{hook="syscalls:sys_exit_accept4",variant="none"})"),
	    0);
	EXPECT_EQ(after.at("rstwatch_build_info{event_version=\"" +
	                   std::to_string(RSTWATCH_EVENT_VERSION) +
	                   "\",kernel_reasons=\"true\",version=\"1.2.3\"}"),
	          1);
}

TEST(MetricsSeries, KernelsWithoutReasonsCountInUnavailable)
{
	KernelCounters counters;
	MetricsSources without = sources(&counters);
	without.kernel_has_reasons = false;
	without.reason_names.clear();
	ResetMetrics metrics(std::move(without), 20);
	counters.sent_by_reason[RSTWATCH_MAX_REASONS - 1] = 4;
	auto scrape = samples(metrics.serialize());
	EXPECT_EQ(scrape.at(R"(rstwatch_resets_sent_by_reason_total{reason="unavailable"})"), 4);
	EXPECT_EQ(scrape.count(R"(rstwatch_resets_sent_by_reason_total{reason="NO_SOCKET"})"), 0u);
}

// An accepted connection's reset is labelled by this host's listening port;
// a connection this host made by the port it connected to; neither by an
// ephemeral port, whatever the direction.
TEST(MetricsSeries, PortLabelsCarryTheServicePort)
{
	KernelCounters counters;
	ResetMetrics metrics(sources(&counters), 20);
	ResetEvent at_server =
	    test::EventBuilder()
	        .version(RSTWATCH_EVENT_VERSION)
	        .direction(RSTWATCH_DIR_RECEIVED)
	        .state(RSTWATCH_TCP_ESTABLISHED)
	        .flags(RSTWATCH_F_HAS_SOCKET | RSTWATCH_F_FULL_SOCKET | RSTWATCH_F_LOCAL_LISTENING)
	        .local("10.0.0.1", 443)
	        .remote("10.0.0.2", 51000)
	        .event();
	ResetEvent at_client = test::EventBuilder()
	                           .version(RSTWATCH_EVENT_VERSION)
	                           .direction(RSTWATCH_DIR_SENT)
	                           .state(RSTWATCH_TCP_CLOSE)
	                           .flags(RSTWATCH_F_HAS_SOCKET | RSTWATCH_F_FULL_SOCKET)
	                           .local("10.0.0.2", 51000)
	                           .remote("10.0.0.1", 443)
	                           .event();
	metrics.observe(at_server);
	metrics.observe(at_client);
	auto scrape = samples(metrics.serialize());
	EXPECT_EQ(
	    scrape.at(
	        R"(rstwatch_resets_by_local_port_total{direction="received",local_port="443"})"),
	    1);
	EXPECT_EQ(
	    scrape.at(
	        R"(rstwatch_resets_by_remote_port_total{direction="sent",remote_port="443"})"),
	    1);
	for (const auto &[series, value] : scrape)
		EXPECT_EQ(series.find("51000"), std::string::npos) << series;
	EXPECT_EQ(service_port(at_server.raw).port, 443);
	EXPECT_TRUE(service_port(at_server.raw).local);
	EXPECT_EQ(service_port(at_client.raw).port, 443);
	EXPECT_FALSE(service_port(at_client.raw).local);
}

TEST(MetricsSeries, EventsFeedProcessPortAndHistograms)
{
	KernelCounters counters;
	ResetMetrics metrics(sources(&counters), 20);
	for (int i = 0; i < 3; i++)
		metrics.observe(refused_connect_event({.direction = RSTWATCH_DIR_RECEIVED,
		                                       .comm = "curl",
		                                       .pid = 10,
		                                       .local_port = 40000,
		                                       .remote_port = 8080}));
	metrics.observe(
	    refused_connect_event({.direction = RSTWATCH_DIR_SENT, .local_port = 8080}));
	ResetEvent idle =
	    refused_connect_event({.direction = RSTWATCH_DIR_RECEIVED, .comm = "app", .pid = 11});
	idle.raw.idle_since_send_ms = 349'000;
	idle.raw.idle_since_receive_ms = 351'000;
	idle.raw.unread_bytes = 100;
	metrics.observe(idle);
	metrics.observe_decode_error();

	auto scrape = samples(metrics.serialize());
	EXPECT_EQ(scrape.at("rstwatch_events_total"), 5);
	EXPECT_EQ(scrape.at("rstwatch_decode_errors_total"), 1);
	EXPECT_EQ(
	    scrape.at(R"(rstwatch_resets_by_process_total{comm="curl",direction="received"})"), 3);
	EXPECT_EQ(
	    scrape.at(R"(rstwatch_resets_by_process_total{comm="unattributed",direction="sent"})"),
	    1);
	// The client's side of a refused connect is labelled by the port it
	// connected to, not by its own ephemeral one.
	EXPECT_EQ(
	    scrape.at(
	        R"(rstwatch_resets_by_remote_port_total{direction="received",remote_port="8080"})"),
	    3);
	EXPECT_EQ(
	    scrape.count(
	        R"(rstwatch_resets_by_local_port_total{direction="received",local_port="40000"})"),
	    0u);
	EXPECT_EQ(
	    scrape.at(R"(rstwatch_resets_by_local_port_total{direction="sent",local_port="8080"})"),
	    1);
	// Idle 349 s (the shorter of the two silences) lands in the 350 s
	// bucket, the AWS NAT gateway's idle timeout, and not in 300 s.
	EXPECT_EQ(scrape.at(R"(rstwatch_received_reset_idle_seconds_bucket{le="300"})"), 3);
	EXPECT_EQ(scrape.at(R"(rstwatch_received_reset_idle_seconds_bucket{le="350"})"), 4);
	EXPECT_EQ(scrape.at("rstwatch_received_reset_idle_seconds_count"), 4);
	EXPECT_EQ(scrape.at(R"(rstwatch_reset_unread_bytes_bucket{direction="received",le="64"})"),
	          3);
	EXPECT_EQ(scrape.at(R"(rstwatch_reset_unread_bytes_bucket{direction="received",le="512"})"),
	          4);
	EXPECT_EQ(scrape.at(R"(rstwatch_reset_unread_bytes_count{direction="sent"})"), 0)
	    << "resets for no socket have no socket fields to observe";
}

TEST(MetricsSeries, BusiestProcessesGetSeriesTheRestCountAsOther)
{
	KernelCounters counters;
	ResetMetrics metrics(sources(&counters), 2);
	auto sent_by = [](const char *comm) {
		return refused_connect_event(
		    {.direction = RSTWATCH_DIR_RECEIVED, .comm = comm, .pid = 1});
	};
	metrics.observe(sent_by("first"));
	metrics.observe(sent_by("second"));
	for (int i = 0; i < 3; i++)
		metrics.observe(sent_by("third"));
	auto scrape = samples(metrics.serialize());
	EXPECT_EQ(
	    scrape.at(R"(rstwatch_resets_by_process_total{comm="first",direction="received"})"), 1);
	EXPECT_EQ(
	    scrape.at(R"(rstwatch_resets_by_process_total{comm="other",direction="received"})"), 3);
	EXPECT_EQ(
	    scrape.count(R"(rstwatch_resets_by_process_total{comm="third",direction="received"})"),
	    0u);

	// A process that keeps resetting takes the quietest slot over.
	for (int i = 0; i < 10; i++)
		metrics.observe(sent_by("third"));
	scrape = samples(metrics.serialize());
	EXPECT_EQ(
	    scrape.count(R"(rstwatch_resets_by_process_total{comm="third",direction="received"})"),
	    1u);
	EXPECT_EQ(
	    scrape.count(R"(rstwatch_resets_by_process_total{comm="first",direction="received"})") +
	        scrape.count(
	            R"(rstwatch_resets_by_process_total{comm="second",direction="received"})"),
	    1u);
	// Every event is counted exactly once across the series that exist
	// now and the evicted one's history.
	double total = 0;
	for (const auto &[series, value] : scrape) {
		if (series.rfind("rstwatch_resets_by_process_total{", 0) == 0 &&
		    series.find("received") != std::string::npos)
			total += value;
	}
	EXPECT_EQ(total, 15 - 1) << "the evicted series took its one event with it";
}

// With default settings, even a host with thousands of distinct processes
// and ports stays far below the 500-series budget.
TEST(MetricsSeries, SeriesStayBoundedAtDefaults)
{
	KernelCounters counters;
	for (auto &per_direction : counters.by_cause)
		per_direction.fill(1);
	counters.sent_by_reason.fill(1);
	counters.received_by_state.fill(1);
	MetricsSources many = sources(&counters);
	for (int i = 0; i < 60; i++)
		many.reason_names.push_back("REASON_NAME_" + std::to_string(i));
	ResetMetrics metrics(std::move(many), 20);
	for (uint32_t i = 0; i < 20000; i++) {
		std::string comm = "proc" + std::to_string(i % 5000);
		for (uint8_t direction : {RSTWATCH_DIR_SENT, RSTWATCH_DIR_RECEIVED})
			metrics.observe(refused_connect_event(
			    {.direction = direction,
			     .comm = comm,
			     .pid = i,
			     .local_port = static_cast<uint16_t>(1024 + i % 7000)}));
		if (i % 5000 == 0)
			metrics.decay();
	}
	for (std::string_view reason : kClientDropReasons)
		metrics.client_dropped(reason);
	auto scrape = samples(metrics.serialize());
	EXPECT_LT(scrape.size(), 500u);
	size_t process_series = 0, port_series = 0;
	std::set<std::string> label_names;
	for (const auto &[series, value] : scrape) {
		process_series += series.rfind("rstwatch_resets_by_process_total", 0) == 0;
		port_series += series.rfind("rstwatch_resets_by_local_port_total", 0) == 0 ||
		               series.rfind("rstwatch_resets_by_remote_port_total", 0) == 0;
		for (size_t at = series.find('{'); at != std::string::npos;
		     at = series.find(',', at + 1)) {
			size_t equals = series.find('=', at);
			label_names.insert(series.substr(at + 1, equals - at - 1));
		}
	}
	EXPECT_LE(process_series, 2u * (20 + 2));
	EXPECT_LE(port_series, 2u * 2u * (20 + 1));
	// Never a pid or an address: those are unbounded.
	for (const std::string &name : label_names) {
		EXPECT_EQ(name.find("pid"), std::string::npos) << name;
		EXPECT_EQ(name.find("addr"), std::string::npos) << name;
	}
}

TEST(MetricsSeries, ListenAddressesAreChecked)
{
	EXPECT_EQ(validate_listen_address("127.0.0.1:9479"), "");
	EXPECT_NE(validate_listen_address("[::1]:0").find("IPv6 is not supported"),
	          std::string::npos);
	EXPECT_EQ(validate_listen_address("0.0.0.0:65535"), "");
	EXPECT_NE(validate_listen_address("127.0.0.1"), "");
	EXPECT_NE(validate_listen_address("127.0.0.1:65536"), "");
	EXPECT_NE(validate_listen_address("localhost:9479"), "");
	EXPECT_NE(validate_listen_address("::1:9479"), "");
	EXPECT_NE(validate_listen_address(":9479"), "");
}

TEST(MetricsSeries, ExposerServesOnAnEphemeralPort)
{
	KernelCounters counters;
	ResetMetrics metrics(sources(&counters), 20);
	MetricsExposer exposer("127.0.0.1:0", metrics);
	EXPECT_EQ(exposer.address().rfind("127.0.0.1:", 0), 0u);
	EXPECT_NE(exposer.address(), "127.0.0.1:0");
	// The same port twice is an error naming the address.
	try {
		MetricsExposer second(exposer.address(), metrics);
		ADD_FAILURE() << "a second exposer bound " << exposer.address();
	} catch (const std::exception &e) {
		EXPECT_NE(std::string(e.what()).find(exposer.address()), std::string::npos)
		    << e.what();
	}
}

} // namespace
} // namespace rstwatch
