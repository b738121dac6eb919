// What the daemon's settings, metrics and queries need to know of the loader
// (its options, which hook runs as which variant, the kernel's counters)
// without pulling in libbpf.
#pragma once

#include "rstwatch/classify.h"
#include "rstwatch/event.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rstwatch
{

inline constexpr const char *kDefaultBtfPath = "/sys/kernel/btf/vmlinux";

enum class HookVariant { TpBtf, RawTp, Tracepoint, CgroupSkb };

std::string_view variant_name(HookVariant variant);
std::optional<HookVariant> parse_variant(std::string_view name);

struct TracerOptions {
	std::string btf_path = kDefaultBtfPath;
	// Use this variant for every hook instead of the best available one.
	std::optional<HookVariant> forced_variant;
	uint32_t ring_buffer_bytes = 4u << 20;
	// Closed connections whose closer is remembered at once (LRU).
	uint32_t owner_entries = 65536;
	// Per-packet TTL baseline (cgroup_skb ingress on the root cgroup) for
	// the middlebox_injected evidence: opt-in, since it runs for every
	// packet of every flow.
	bool ttl_tracking = false;
	// Every segment instead of only SYN-ACKs and RSTs (costlier per packet,
	// but gives accepted sockets a baseline too).
	bool ttl_every_segment = false;
	// The cgroup v2 hierarchy the hook attaches to; found from mountinfo
	// when empty.
	std::string cgroup_root;
	// Received resets after this much silence count as idle timeouts.
	uint32_t idle_threshold_ms = 1000;
};

struct HookStatus {
	std::string name;       // e.g. "tcp_send_reset"
	std::string tracepoint; // e.g. "tcp:tcp_send_reset"
	HookVariant variant = HookVariant::TpBtf;
	bool attached = false;
	std::string detail; // what the variant can and cannot see on this kernel
};

struct KernelCounters {
	uint64_t lost_events = 0;
	uint64_t sent = 0;
	uint64_t received = 0;
	uint64_t owner_map_full = 0;
	std::array<uint64_t, RSTWATCH_MAX_REASONS> sent_by_reason{};
	std::array<uint64_t, RSTWATCH_MAX_STATES> received_by_state{};
	// Exact per-cause totals, [0] for sent and [1] for received resets,
	// indexed by enum rstwatch_cause.
	std::array<std::array<uint64_t, RSTWATCH_CAUSE_COUNT>, 2> by_cause{};
};

// What the kernel's BPF run-time statistics say of one of rstwatch's
// programs (counted only while kernel.bpf_stats_enabled is on).
struct ProgramStats {
	std::string name;
	uint64_t runs = 0;
	uint64_t run_time_ns = 0;
};

} // namespace rstwatch
