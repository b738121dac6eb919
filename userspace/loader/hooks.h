// Hook choice, inside the loader: the tracepoints rstwatch hooks, the entry
// point each has in the BPF object per variant, and which variant of each the
// running kernel gets. Tracer::open() decides with it and attach() attaches
// what it decided.
#pragma once

#include "loader/kernel_btf.h"
#include "loader/tracer_types.h"

#include <array>
#include <span>
#include <vector>

struct bpf_program;
struct rstwatch_bpf;

namespace rstwatch
{

struct HookPrograms {
	const char *category;
	const char *name;
	bpf_program *tp_btf; // nullptr when the hook has no such entry point
	bpf_program *raw_tp;
	bpf_program *tracepoint;
	// Without a required hook rstwatchd refuses to start; without an
	// optional one it says what it cannot see and goes on.
	bool required;
	const char *missing_effect;

	bpf_program *program(HookVariant variant) const
	{
		switch (variant) {
		case HookVariant::TpBtf:
			return tp_btf;
		case HookVariant::RawTp:
			return raw_tp;
		case HookVariant::Tracepoint:
			return tracepoint;
		case HookVariant::CgroupSkb:
			return nullptr;
		}
		return nullptr;
	}
};

// Every hook rstwatch uses, with its entry points in `skel`.
std::array<HookPrograms, 4> hook_programs(rstwatch_bpf *skel);

struct HookChoice {
	std::vector<HookStatus> hooks;
	// Optional hooks this kernel lacks, with what that costs.
	std::vector<HookStatus> missing_hooks;
};

// One variant per hook: the forced one, else the first of tp_btf, raw_tp and
// tracepoint this kernel runs. Only the chosen programs are left to autoload.
// Throws Error when the forced variant is not available for a hook that has
// it, or a required hook has no variant at all.
HookChoice choose_variants(std::span<const HookPrograms> hooks, const KernelBtf &btf,
                           const TracerOptions &options);

} // namespace rstwatch
