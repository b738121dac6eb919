// rstwatchd's own cost on /metrics, read from a /proc laid out by the test.
#include "daemon/metrics/self_series.h"
#include "support/temp_tree.h"

#include <prometheus/text_serializer.h>

#include <gtest/gtest.h>

#include <unistd.h>

#include <sstream>
#include <string>

namespace rstwatch
{
namespace
{

std::string scrape(const SelfSeries &series)
{
	return prometheus::TextSerializer().Serialize(series.Collect());
}

// The sample "name{labels}" in a scrape, as a number; -1 when absent.
double sample(const std::string &text, const std::string &series)
{
	std::istringstream lines(text);
	for (std::string line; std::getline(lines, line);)
		if (line.rfind(series + " ", 0) == 0)
			return std::stod(line.substr(series.size() + 1));
	return -1;
}

void lay_out_proc(const test::TempTree &proc, const std::string &stats_enabled)
{
	// pid (comm with ") (" inside) state, then fields 4 to 24 of proc(5):
	// utime 250 and stime 150 ticks, starttime 1000 ticks, vsize 8 MiB,
	// rss 300 pages.
	proc.write("self/stat", "42 (we) (ird) S 1 42 42 0 -1 4194560 0 0 0 0 250 150 0 0 20 0 "
	                        "1 0 1000 8388608 300 18446744073709551615\n");
	proc.write("stat", "cpu  1 2 3\nbtime 1700000000\nprocesses 9\n");
	proc.write("self/fd/0", "");
	proc.write("self/fd/1", "");
	proc.write("self/fd/2", "");
	proc.write("sys/kernel/bpf_stats_enabled", stats_enabled + "\n");
}

TEST(SelfSeries, ProcessSeriesComeFromProcSelf)
{
	test::TempTree proc;
	lay_out_proc(proc, "0");
	SelfSeries series([] { return std::vector<ProgramStats>{{"rstw_x", 5, 7}}; }, proc.path());
	const std::string text = scrape(series);
	const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
	const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
	EXPECT_DOUBLE_EQ(sample(text, "process_cpu_seconds_total"), 400 / ticks) << text;
	EXPECT_DOUBLE_EQ(sample(text, "process_resident_memory_bytes"), 300 * page) << text;
	EXPECT_DOUBLE_EQ(sample(text, "process_virtual_memory_bytes"), 8388608) << text;
	EXPECT_DOUBLE_EQ(sample(text, "process_open_fds"), 3) << text;
	EXPECT_DOUBLE_EQ(sample(text, "process_start_time_seconds"), 1700000000 + 1000 / ticks)
	    << text;
	EXPECT_GT(sample(text, "process_max_fds"), 0) << text;
	// Statistics off: said so, and no per-program series.
	EXPECT_EQ(sample(text, "rstwatch_bpf_stats_enabled"), 0) << text;
	EXPECT_EQ(text.find("rstwatch_bpf_program_runs_total"), std::string::npos) << text;
}

TEST(SelfSeries, ProgramSeriesOnlyWhileStatsAreOn)
{
	test::TempTree proc;
	lay_out_proc(proc, "1");
	SelfSeries series(
	    [] {
		    return std::vector<ProgramStats>{{"rstw_send_reset_btf", 1000, 150000},
		                                     {"rstw_set_state_btf", 20, 2000000000}};
	    },
	    proc.path());
	const std::string text = scrape(series);
	EXPECT_EQ(sample(text, "rstwatch_bpf_stats_enabled"), 1) << text;
	EXPECT_EQ(sample(text, R"(rstwatch_bpf_program_runs_total{program="rstw_send_reset_btf"})"),
	          1000)
	    << text;
	EXPECT_DOUBLE_EQ(
	    sample(text, R"(rstwatch_bpf_program_run_seconds_total{program="rstw_set_state_btf"})"),
	    2.0)
	    << text;
}

} // namespace
} // namespace rstwatch
