// What the generator reads from the kernel around a storm: the namespace's
// count of resets sent, and the switch that makes the kernel time BPF
// programs.
#pragma once

#include "common/unique_fd.h"

#include <cstdint>

namespace rstwatch::bench
{

// Tcp OutRsts of the calling thread's network namespace (/proc/net/snmp):
// every reset this namespace's stack sent, independent of any tracer.
uint64_t tcp_out_resets();

// Network namespace inode of the calling process.
uint64_t network_namespace_inode();

// BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): while the descriptor is open the
// kernel accumulates run_time_ns and run_cnt for every BPF program, as
// kernel.bpf_stats_enabled does, and it stops by itself when the descriptor
// closes, even if the process is killed.
UniqueFd enable_bpf_run_time_stats();

} // namespace rstwatch::bench
