// A store of 10 events after 28 resets (14 before 6.10): recent and top must say the window
// reaches past what the store holds, how many resets it lost and of which
// causes, in the JSON and in the tables; a window inside the store says
// nothing.
#include "support/operator_fixture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace rstwatch::test
{
namespace
{

using nlohmann::json;

class OperatorCoverage : public OperatorTest
{
protected:
	static void SetUpTestSuite()
	{
		start_suite_daemon("coverage", {.args = {"--store-events", "10"}});
	}

	// Every reset the daemon has decoded, once at least `least` have.
	static uint64_t events_seen(uint64_t least)
	{
		auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
		uint64_t events = 0;
		do {
			CommandResult stats = daemon_->rstwatch({"stats", "--json"});
			if (stats.exit_code == 0)
				events = json::parse(stats.out)["events"];
			if (events >= least)
				return events;
			std::this_thread::sleep_for(std::chrono::milliseconds(50));
		} while (std::chrono::steady_clock::now() < deadline);
		return events;
	}
};

TEST_F(OperatorCoverage, AWindowPastTheStoreSaysWhatItLost)
{
	uint16_t port = 0;
	int bound = bound_socket(AF_INET, port);
	// 14 refused connects: a sent and a received reset each.
	refused_connects("opc-refused", port, 14);
	close(bound);
	// Before 6.10 the kernel reports no reset sent for no socket: only the
	// received ones arrive (rstwatchd says so in rstwatch_probe_attached).
	const bool no_socket_blind =
	    metric(daemon_->scrape(), "rstwatch_probe_attached{hook=\"tcp:tcp_send_reset/"
	                              "no_socket\",variant=\"none\"}")
	        .has_value();
	const uint64_t made = no_socket_blind ? 14 : 28;
	const uint64_t events = events_seen(made);
	ASSERT_GE(events, made);
	const uint64_t forgotten = events - 10;

	CommandResult top = daemon_->rstwatch({"top", "--json", "--since", "1h"});
	ASSERT_EQ(top.exit_code, 0) << top.err;
	json answer = json::parse(top.out);
	EXPECT_EQ(answer["matched"], 10);
	const json &coverage = answer["coverage"];
	EXPECT_EQ(coverage["window_complete"], false);
	EXPECT_EQ(coverage["forgotten"], forgotten);
	EXPECT_EQ(coverage["older_resets"], forgotten);
	EXPECT_EQ(coverage["older_filtered"], true);
	EXPECT_EQ(coverage["oldest_id"], forgotten + 1);
	EXPECT_EQ(coverage["newest_id"], events);
	uint64_t by_cause = 0;
	for (const auto &[cause, count] : coverage["older_by_cause"].items())
		by_cause += count.get<uint64_t>();
	EXPECT_EQ(by_cause, forgotten);
	EXPECT_GE(coverage["older_by_cause"].value("peer_refused", 0), 4) << coverage.dump();
	const std::string note = "store covers since " +
	                         coverage["oldest_timestamp"].get<std::string>() + " (id " +
	                         std::to_string(forgotten + 1) + "); " + std::to_string(forgotten) +
	                         " older resets are only in the totals";
	EXPECT_NE(top.err.find(note), std::string::npos) << "--json puts it on stderr: " << top.err;

	CommandResult table = daemon_->rstwatch({"top", "--since", "1h", "--by", "cause"});
	ASSERT_EQ(table.exit_code, 0) << table.err;
	EXPECT_NE(table.out.find(note + ": "), std::string::npos) << table.out;
	EXPECT_NE(table.out.find("refused "), std::string::npos) << table.out;

	// Filters the tally cannot apply are named, not silently ignored.
	CommandResult by_comm = daemon_->rstwatch({"recent", "--comm", "opc-refused"});
	ASSERT_EQ(by_comm.exit_code, 0) << by_comm.err;
	EXPECT_NE(by_comm.out.find("older resets (of any process, port, address or workload) are "
	                           "only in the totals"),
	          std::string::npos)
	    << by_comm.out;

	// A window that starts inside the store is whole: no note.
	CommandResult inside =
	    daemon_->rstwatch({"recent", "--json", "--after-id", std::to_string(forgotten)});
	ASSERT_EQ(inside.exit_code, 0) << inside.err;
	EXPECT_EQ(inside.err, "");
	EXPECT_EQ(lines_of(inside.out).size(), 10u);
}

} // namespace
} // namespace rstwatch::test
