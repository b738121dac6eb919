// /metrics scraped over HTTP from the real rstwatchd while the test makes
// resets happen: the series the test owns move by exactly the resets it
// caused, and the whole exposition stays small.
#include "support/operator_fixture.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace rstwatch::test
{
namespace
{

using nlohmann::json;

double value_or_zero(const std::string &scrape, const std::string &series)
{
	return metric(scrape, series).value_or(0);
}

class OperatorMetrics : public OperatorTest
{
protected:
	static void SetUpTestSuite()
	{
		// Enough series per process and port that this test's own
		// always get one, whatever else runs on the machine.
		start_suite_daemon("metrics", {.args = {"--top-series", "100"}});
	}
};

class OperatorMetricsDefaults : public OperatorTest
{
};

TEST_F(OperatorMetrics, CountersMoveByExactlyTheResetsCaused)
{
	constexpr int kResets = 5;
	uint16_t port = 0;
	int bound = bound_socket(AF_INET, port);
	const std::string sent_port =
	    R"(rstwatch_resets_by_local_port_total{direction="sent",local_port=")" +
	    std::to_string(port) + "\"}";
	const std::string process =
	    R"(rstwatch_resets_by_process_total{comm="opm-refused",direction="received"})";
	const std::string refused = R"(rstwatch_resets_total{direction="sent",cause="refused"})";
	const std::string peer_refused =
	    R"(rstwatch_resets_total{direction="received",cause="peer_refused"})";
	const std::string syn_sent = R"(rstwatch_resets_received_by_state_total{state="SYN_SENT"})";

	std::string before = daemon_->scrape();
	ASSERT_FALSE(before.empty()) << "no /metrics on port " << daemon_->metrics_port();
	pid_t client = refused_connects("opm-refused", port, kResets);

	// Every event has been drained once both ends of every reset are in
	// the store; the kernel counts before it queues, so totals are in too.
	const std::string port_text = std::to_string(port);
	auto sent =
	    daemon_->query_events({"--local-port", port_text, "--direction", "sent"}, kResets);
	auto received = daemon_->query_events(
	    {"--remote-port", port_text, "--direction", "received", "--comm", "opm-refused"},
	    kResets);
	ASSERT_EQ(sent.size(), static_cast<size_t>(kResets));
	ASSERT_EQ(received.size(), static_cast<size_t>(kResets));
	EXPECT_EQ(received[0]["pid"], client);
	std::string after = daemon_->scrape();
	close(bound);

	// Series only this test's resets can move: exact.
	EXPECT_EQ(value_or_zero(after, sent_port) - value_or_zero(before, sent_port), kResets)
	    << after;
	EXPECT_EQ(value_or_zero(after, process) - value_or_zero(before, process), kResets) << after;
	// Host-wide totals from the kernel: other resets on this machine may
	// add to them while the test runs, never take away.
	EXPECT_GE(*metric(after, refused) - *metric(before, refused), kResets);
	EXPECT_GE(*metric(after, peer_refused) - *metric(before, peer_refused), kResets);
	EXPECT_GE(*metric(after, syn_sent) - *metric(before, syn_sent), kResets);
	EXPECT_GE(*metric(after, "rstwatch_events_total") -
	              *metric(before, "rstwatch_events_total"),
	          2 * kResets);
	// The kernel's totals and the per-cause split agree with each other
	// within one scrape.
	double sent_by_cause = 0, sent_by_reason = 0;
	std::istringstream lines(after);
	for (std::string line; std::getline(lines, line);) {
		if (line.rfind(R"(rstwatch_resets_total{direction="sent")", 0) == 0)
			sent_by_cause += std::stod(line.substr(line.rfind(' ') + 1));
		if (line.rfind("rstwatch_resets_sent_by_reason_total{", 0) == 0)
			sent_by_reason += std::stod(line.substr(line.rfind(' ') + 1));
	}
	EXPECT_EQ(sent_by_cause, sent_by_reason);
}

TEST_F(OperatorMetrics, ExpositionNamesProbesAndBuildAndNoUnboundedLabels)
{
	std::string scrape = daemon_->scrape();
	ASSERT_FALSE(scrape.empty());
	EXPECT_TRUE(
	    metric(scrape, R"(rstwatch_probe_attached{hook="tcp:tcp_send_reset",variant="tp_btf"})")
	        .has_value() ||
	    metric(scrape, R"(rstwatch_probe_attached{hook="tcp:tcp_send_reset",variant="raw_tp"})")
	        .has_value() ||
	    metric(scrape,
	           R"(rstwatch_probe_attached{hook="tcp:tcp_send_reset",variant="tracepoint"})")
	        .has_value())
	    << scrape;
	EXPECT_NE(scrape.find("rstwatch_build_info{"), std::string::npos);
	EXPECT_NE(scrape.find("# TYPE rstwatch_received_reset_idle_seconds histogram"),
	          std::string::npos);
	EXPECT_TRUE(metric(scrape, R"(rstwatch_received_reset_idle_seconds_bucket{le="350"})"));
	EXPECT_TRUE(metric(scrape, R"(rstwatch_received_reset_idle_seconds_bucket{le="3600"})"));
	EXPECT_TRUE(
	    metric(scrape, R"(rstwatch_reset_unread_bytes_bucket{direction="sent",le="4096"})"));
	EXPECT_TRUE(
	    metric(scrape, R"(rstwatch_query_clients_dropped_total{reason="slow_follower"})"));
	EXPECT_TRUE(metric(scrape, "rstwatch_decode_errors_total"));
	std::set<std::string> labels;
	std::regex label(R"(([a-z_]+)=")");
	for (auto it = std::sregex_iterator(scrape.begin(), scrape.end(), label);
	     it != std::sregex_iterator(); ++it)
		labels.insert((*it)[1]);
	for (const std::string &name : labels) {
		EXPECT_EQ(name.find("pid"), std::string::npos) << name;
		EXPECT_EQ(name.find("addr"), std::string::npos) << name;
	}
	// Counters follow the naming convention.
	std::regex counter_type(R"(# TYPE (rstwatch_[a-z_]+) counter)");
	for (auto it = std::sregex_iterator(scrape.begin(), scrape.end(), counter_type);
	     it != std::sregex_iterator(); ++it) {
		std::string name = (*it)[1];
		EXPECT_EQ(name.substr(name.size() - 6), "_total") << name;
	}
}

// At default settings the exposition stays under 500 series, however many
// processes and ports reset: the per-process and per-port families are
// capped, and nothing else has a label drawn from the traffic.
// What rstwatchd costs is on its own /metrics, and its programs say whose
// they are wherever the kernel lists them.
TEST_F(OperatorMetrics, OwnCostIsExposedAndProgramsCarryTheirName)
{
	std::string scrape = daemon_->scrape();
	ASSERT_FALSE(scrape.empty());
	EXPECT_GT(value_or_zero(scrape, "process_resident_memory_bytes"), 1 << 20) << scrape;
	EXPECT_GT(value_or_zero(scrape, "process_open_fds"), 3) << scrape;
	EXPECT_GT(value_or_zero(scrape, "process_cpu_seconds_total"), 0) << scrape;
	EXPECT_GT(value_or_zero(scrape, "process_start_time_seconds"), 1.7e9) << scrape;
	std::ifstream setting("/proc/sys/kernel/bpf_stats_enabled");
	int stats_enabled = -1;
	setting >> stats_enabled;
	EXPECT_EQ(metric(scrape, "rstwatch_bpf_stats_enabled"), stats_enabled) << scrape;

	// The programs the daemon holds, by the names the kernel keeps.
	std::set<std::string> names;
	const std::string fdinfo = "/proc/" + std::to_string(daemon_->pid()) + "/fdinfo";
	for (const auto &entry : std::filesystem::directory_iterator(fdinfo)) {
		std::ifstream info(entry.path());
		for (std::string line; std::getline(info, line);) {
			if (line.rfind("prog_id:", 0) != 0)
				continue;
			const std::string id = line.substr(line.find_first_not_of(" \t", 8));
			CommandResult shown =
			    run_command({RSTWATCH_BPFTOOL, "prog", "show", "id", id, "-j"});
			if (shown.exit_code == 0)
				names.insert(json::parse(shown.out).value("name", ""));
		}
	}
	ASSERT_FALSE(names.empty()) << "no BPF program found in " << fdinfo;
	for (const std::string &name : names)
		EXPECT_EQ(name.rfind("rstw_", 0), 0u) << name;
}

TEST_F(OperatorMetricsDefaults, SeriesStayUnder500)
{
	OperatorDaemon daemon("metrics-defaults");
	ASSERT_TRUE(daemon.start({})) << daemon.error();
	constexpr int kProcesses = 30;
	uint16_t port = 0;
	int bound = bound_socket(AF_INET, port);
	for (int i = 0; i < kProcesses; i++)
		refused_connects("opm-many-" + std::to_string(i), port, 1);
	auto received = daemon.query_events(
	    {"--remote-port", std::to_string(port), "--direction", "received"}, kProcesses);
	close(bound);
	ASSERT_EQ(received.size(), static_cast<size_t>(kProcesses));
	std::string scrape = daemon.scrape();
	ASSERT_FALSE(scrape.empty());
	EXPECT_LT(series_count(scrape), 500u) << scrape;
	size_t process_series = 0;
	std::istringstream lines(scrape);
	for (std::string line; std::getline(lines, line);)
		process_series += line.rfind("rstwatch_resets_by_process_total{", 0) == 0;
	EXPECT_LE(process_series, 2u * (20 + 2))
	    << "20 processes per direction, other, unattributed";
	EXPECT_GT(*metric(scrape,
	                  R"(rstwatch_resets_by_process_total{comm="other",direction="received"})"),
	          0)
	    << "30 processes cannot all have a series of their own";
	EXPECT_EQ(daemon.stop().exit_code, 0);
}

} // namespace
} // namespace rstwatch::test
