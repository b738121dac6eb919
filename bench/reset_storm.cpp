// reset_storm: makes TCP resets happen on loopback at a chosen rate for a
// bounded time, and prints one JSON line saying how many it made, counted by
// the kernel's own MIB and by the generator's sockets, never by a tracer.
#include "kernel_counters.h"
#include "loopback_only.h"
#include "pacer.h"
#include "storm_error.h"
#include "storm_options.h"
#include "storm_worker.h"

#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

namespace
{

using namespace rstwatch::bench;

StormTally run_thread(StormWorker &worker, Pacer pacer)
{
	StormTally tally;
	uint64_t planned = 0;
	while (uint64_t count = pacer.next_batch(planned, worker.batch())) {
		worker.run(count, tally);
		planned += count;
	}
	return tally;
}

int run(const StormOptions &options)
{
	in_addr address = loopback_address(options.address);
	ensure_loopback_up();
	ClosedPort closed(address);

	// Everything a thread needs is set up before the clock starts.
	std::vector<std::unique_ptr<StormWorker>> workers;
	for (unsigned i = 0; i < options.threads; i++)
		workers.push_back(make_worker(options, closed, i));

	rstwatch::UniqueFd stats;
	if (options.bpf_stats)
		stats = enable_bpf_run_time_stats();
	uint64_t out_resets_before = tcp_out_resets();
	int64_t duration_ns = static_cast<int64_t>(options.duration_seconds * 1e9);
	double rate_per_thread = static_cast<double>(options.rate) / options.threads;

	int64_t start_ns = monotonic_ns();
	std::vector<StormTally> tallies(options.threads);
	{
		std::vector<std::jthread> threads;
		for (unsigned i = 0; i < options.threads; i++)
			threads.emplace_back([&, i] {
				tallies[i] = run_thread(
				    *workers[i], Pacer(start_ns, duration_ns, rate_per_thread));
			});
	}
	int64_t end_ns = monotonic_ns();
	// Loopback resets are processed before the system call that caused
	// them returns, so the counter is final here.
	uint64_t resets_sent = tcp_out_resets() - out_resets_before;
	stats.reset();

	StormTally total;
	for (const StormTally &tally : tallies)
		total.add(tally);
	double seconds = static_cast<double>(end_ns - start_ns) / 1e9;
	printf("{\"mode\":\"%s\",\"threads\":%u,\"rate_asked\":%llu,\"seconds\":%.6f,"
	       "\"operations\":%llu,\"operations_per_second\":%.1f,\"resets_sent\":%llu,"
	       "\"resets_received\":%llu,\"resets_per_second\":%.1f,\"failures\":%llu,"
	       "\"netns\":%llu,\"only_loopback\":%s",
	       std::string(mode_name(options.mode)).c_str(), options.threads,
	       static_cast<unsigned long long>(options.rate), seconds,
	       static_cast<unsigned long long>(total.operations),
	       static_cast<double>(total.operations) / seconds,
	       static_cast<unsigned long long>(resets_sent),
	       static_cast<unsigned long long>(total.resets_received),
	       static_cast<double>(resets_sent + total.resets_received) / seconds,
	       static_cast<unsigned long long>(total.failures),
	       static_cast<unsigned long long>(network_namespace_inode()),
	       only_loopback_interfaces() ? "true" : "false");
	if (total.failures) {
		std::string quoted;
		for (char c : total.first_failure)
			if (c != '"' && c != '\\')
				quoted.push_back(c);
		printf(",\"first_failure\":\"%s\"", quoted.c_str());
	}
	printf("}\n");
	return total.failures && total.failures == total.operations ? 1 : 0;
}

} // namespace

int main(int argc, char **argv)
{
	StormOptions options;
	int exit_code = 0;
	if (!parse_storm_options(argc, argv, options, exit_code))
		return exit_code;
	signal(SIGPIPE, SIG_IGN);
	try {
		return run(options);
	} catch (const std::exception &e) {
		fprintf(stderr, "reset_storm: error: %s\n", e.what());
		return 1;
	}
}
