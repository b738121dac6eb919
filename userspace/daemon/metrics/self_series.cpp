#include "daemon/metrics/self_series.h"

#include "daemon/metrics/families.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace rstwatch
{

namespace
{

using prometheus::MetricFamily;
using prometheus::MetricType;

// Fields of /proc/self/stat after the command name, which may hold spaces
// and parentheses itself: everything after the last ')'.
std::vector<std::string> stat_fields(const std::string &proc)
{
	std::ifstream file(proc + "/self/stat");
	std::string line;
	std::getline(file, line);
	size_t end = line.rfind(')');
	std::vector<std::string> fields;
	if (end == std::string::npos)
		return fields;
	std::istringstream rest(line.substr(end + 1));
	for (std::string field; rest >> field;)
		fields.push_back(field);
	return fields;
}

double boot_time_seconds(const std::string &proc)
{
	std::ifstream file(proc + "/stat");
	for (std::string line; std::getline(file, line);)
		if (line.rfind("btime ", 0) == 0)
			return std::stod(line.substr(6));
	return 0;
}

} // namespace

SelfSeries::SelfSeries(ProgramReader programs, std::string proc)
    : programs_(std::move(programs)), proc_(std::move(proc))
{
}

void SelfSeries::add_process(std::vector<MetricFamily> &families) const
{
	const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
	const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
	// Indexes into the fields after ')': state is 0, so field N of proc(5)
	// (1-based, counting pid and comm) is at N - 3.
	std::vector<std::string> stat = stat_fields(proc_);
	if (stat.size() > 21 && ticks > 0) {
		MetricFamily cpu = counter_family("process_cpu_seconds_total",
		                                  "User and system CPU time rstwatchd has used");
		add_counter(cpu, {}, (std::stod(stat[11]) + std::stod(stat[12])) / ticks);
		families.push_back(std::move(cpu));
		MetricFamily start = metric_family(
		    "process_start_time_seconds",
		    "When rstwatchd started, in seconds since the epoch", MetricType::Gauge);
		add_gauge(start, {}, boot_time_seconds(proc_) + std::stod(stat[19]) / ticks);
		families.push_back(std::move(start));
		MetricFamily virt =
		    metric_family("process_virtual_memory_bytes", "rstwatchd's virtual memory size",
		                  MetricType::Gauge);
		add_gauge(virt, {}, std::stod(stat[20]));
		families.push_back(std::move(virt));
		MetricFamily rss = metric_family("process_resident_memory_bytes",
		                                 "rstwatchd's resident memory", MetricType::Gauge);
		add_gauge(rss, {}, std::stod(stat[21]) * page);
		families.push_back(std::move(rss));
	}
	std::error_code ec;
	size_t fds = 0;
	for (auto it = std::filesystem::directory_iterator(proc_ + "/self/fd", ec);
	     !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
		fds++;
	MetricFamily open =
	    metric_family("process_open_fds", "Descriptors rstwatchd has open", MetricType::Gauge);
	add_gauge(open, {}, static_cast<double>(fds));
	families.push_back(std::move(open));
	rlimit limit{};
	if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
		MetricFamily max =
		    metric_family("process_max_fds", "The most descriptors rstwatchd may have open",
		                  MetricType::Gauge);
		add_gauge(max, {}, static_cast<double>(limit.rlim_cur));
		families.push_back(std::move(max));
	}
}

void SelfSeries::add_programs(std::vector<MetricFamily> &families) const
{
	std::ifstream setting(proc_ + "/sys/kernel/bpf_stats_enabled");
	int enabled = 0;
	setting >> enabled;
	MetricFamily on = metric_family(
	    "rstwatch_bpf_stats_enabled",
	    "1 while kernel.bpf_stats_enabled is on and the per-program series below are "
	    "counted; rstwatchd never turns it on",
	    MetricType::Gauge);
	add_gauge(on, {}, enabled ? 1 : 0);
	families.push_back(std::move(on));
	if (!enabled || !programs_)
		return;
	MetricFamily runs = counter_family(
	    "rstwatch_bpf_program_runs_total",
	    "Runs of each of rstwatchd's BPF programs while kernel.bpf_stats_enabled was on");
	MetricFamily time =
	    counter_family("rstwatch_bpf_program_run_seconds_total",
	                   "Kernel time spent in each of rstwatchd's BPF programs while "
	                   "kernel.bpf_stats_enabled was on");
	for (const ProgramStats &program : programs_()) {
		add_counter(runs, {{"program", program.name}}, static_cast<double>(program.runs));
		add_counter(time, {{"program", program.name}}, program.run_time_ns / 1e9);
	}
	families.push_back(std::move(runs));
	families.push_back(std::move(time));
}

std::vector<MetricFamily> SelfSeries::Collect() const
{
	std::vector<MetricFamily> families;
	add_process(families);
	add_programs(families);
	return families;
}

} // namespace rstwatch
