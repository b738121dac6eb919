#include "kernel_counters.h"

#include "storm_error.h"

#include <linux/bpf.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace rstwatch::bench
{

uint64_t tcp_out_resets()
{
	// Two "Tcp:" lines: the field names, then the values.
	std::ifstream snmp("/proc/self/net/snmp");
	if (!snmp)
		fail_errno("opening /proc/self/net/snmp");
	std::string line;
	std::vector<std::string> names;
	while (std::getline(snmp, line)) {
		if (!line.starts_with("Tcp:"))
			continue;
		std::istringstream fields(line.substr(4));
		std::vector<std::string> words;
		for (std::string word; fields >> word;)
			words.push_back(word);
		if (names.empty()) {
			names = std::move(words);
			continue;
		}
		for (size_t i = 0; i < names.size() && i < words.size(); i++)
			if (names[i] == "OutRsts")
				return std::stoull(words[i]);
	}
	throw StormError("/proc/self/net/snmp has no Tcp OutRsts counter");
}

uint64_t network_namespace_inode()
{
	struct stat ns {
	};
	if (stat("/proc/self/ns/net", &ns) != 0)
		fail_errno("reading /proc/self/ns/net");
	return ns.st_ino;
}

UniqueFd enable_bpf_run_time_stats()
{
	bpf_attr attr{};
	attr.enable_stats.type = BPF_STATS_RUN_TIME;
	int fd = static_cast<int>(syscall(__NR_bpf, BPF_ENABLE_STATS, &attr, sizeof(attr)));
	if (fd < 0)
		fail_errno("BPF_ENABLE_STATS (needs CAP_SYS_ADMIN)");
	return UniqueFd(fd);
}

} // namespace rstwatch::bench
