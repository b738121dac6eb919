// The README documents /metrics for people writing queries against it: what
// it says about a series must be what the daemon exposes.
#include "daemon/metrics/metrics.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace rstwatch
{
namespace
{

std::string readme()
{
	std::ifstream file(std::string(RSTWATCH_SOURCE_DIR) + "/README.md");
	std::stringstream text;
	text << file.rdbuf();
	return text.str();
}

TEST(ReadmeMetrics, IdleHistogramBucketsAreTheExposedOnes)
{
	const std::string text = readme();
	size_t row = text.find("| `rstwatch_received_reset_idle_seconds` |");
	ASSERT_NE(row, std::string::npos) << "the README's metrics table has no idle histogram";
	std::string line = text.substr(row, text.find('\n', row) - row);
	std::smatch list;
	ASSERT_TRUE(std::regex_search(line, list, std::regex("buckets at ([0-9., and]+) s")))
	    << line;
	std::set<double> documented;
	std::string numbers = std::regex_replace(list[1].str(), std::regex(",| and "), " ");
	std::istringstream words(numbers);
	for (double value; words >> value;)
		documented.insert(value);

	MetricsSources sources;
	sources.kernel_counters = [] { return KernelCounters{}; };
	ResetMetrics metrics(std::move(sources), 1);
	std::set<double> exposed;
	const std::regex bucket(
	    R"re(rstwatch_received_reset_idle_seconds_bucket\{le="([0-9.e+]+)"\})re");
	std::istringstream scrape(metrics.serialize());
	for (std::string sample; std::getline(scrape, sample);) {
		std::smatch le;
		if (std::regex_search(sample, le, bucket))
			exposed.insert(std::stod(le[1].str()));
	}
	ASSERT_FALSE(exposed.empty());
	EXPECT_EQ(documented, exposed);
}

} // namespace
} // namespace rstwatch
