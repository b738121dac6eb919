#include "loader/hooks.h"

#include "common/error.h"
#include "rstwatch_bpf.skel.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

namespace rstwatch
{

namespace
{

bool tracefs_has(const char *category, const char *name)
{
	for (const char *root :
	     {"/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"}) {
		std::error_code ec;
		if (std::filesystem::exists(std::filesystem::path(root) / category / name / "id",
		                            ec))
			return true;
	}
	return false;
}

// tp_btf needs BPF_PROG_TYPE_TRACING, which some kernels (and some lockdown
// or LSM setups) refuse even where the tracepoint's BTF exists; loading a
// two-instruction program against it is the only reliable answer.
bool tp_btf_loads(int btf_type_id)
{
	bpf_insn insns[2] = {};
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K; // r0 = 0
	insns[1].code = BPF_JMP | BPF_EXIT;
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP,
	            .attach_btf_id = static_cast<__u32>(btf_type_id));
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, nullptr, "GPL", insns, 2, &opts);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

} // namespace

// No syscall tracepoint: one anywhere puts every task on the host on the
// syscall slow path. The owner of an accepted socket is resolved when a reset
// needs it (docs/design.md, "Attribution").
std::array<HookPrograms, 4> hook_programs(rstwatch_bpf *skel)
{
	auto &p = skel->progs;
	return {{
	    {"tcp", "tcp_send_reset", p.rstw_send_reset_btf, p.rstw_send_reset_raw,
	     p.rstw_send_reset_tp, true, nullptr},
	    {"tcp", "tcp_receive_reset", p.rstw_receive_reset_btf, p.rstw_receive_reset_raw,
	     p.rstw_receive_reset_tp, true, nullptr},
	    {"sock", "inet_sock_set_state", p.rstw_set_state_btf, p.rstw_set_state_raw,
	     p.rstw_set_state_tp, true, nullptr},
	    {"tcp", "tcp_destroy_sock", p.rstw_destroy_sock_btf, p.rstw_destroy_sock_raw,
	     p.rstw_destroy_sock_tp, true, nullptr},
	}};
}

HookChoice choose_variants(std::span<const HookPrograms> hooks, const KernelBtf &btf,
                           const TracerOptions &options)
{
	HookChoice choice;
	for (const HookPrograms &hook : hooks) {
		HookStatus status;
		status.name = hook.name;
		status.tracepoint = std::string(hook.category) + ":" + hook.name;

		int type_id = btf.tracepoint_type_id(hook.name);
		auto available = [&](HookVariant v) {
			if (!hook.program(v))
				return false;
			switch (v) {
			case HookVariant::TpBtf:
				return type_id > 0 && tp_btf_loads(type_id);
			case HookVariant::RawTp:
				return type_id > 0;
			case HookVariant::Tracepoint:
				return tracefs_has(hook.category, hook.name);
			case HookVariant::CgroupSkb:
				return false;
			}
			return false;
		};

		std::optional<HookVariant> chosen;
		if (options.forced_variant && hook.program(*options.forced_variant)) {
			if (!available(*options.forced_variant))
				throw Error("hook variant " +
				            std::string(variant_name(*options.forced_variant)) +
				            " is not available for tracepoint " +
				            status.tracepoint + " on this kernel");
			chosen = options.forced_variant;
		} else {
			for (HookVariant v :
			     {HookVariant::TpBtf, HookVariant::RawTp, HookVariant::Tracepoint}) {
				if (available(v)) {
					chosen = v;
					break;
				}
			}
		}
		if (!chosen && hook.required)
			throw Error(
			    "tracepoint " + status.tracepoint +
			    " not found in this kernel (neither in its BTF nor in tracefs): "
			    "rstwatch cannot see these resets here");
		for (HookVariant v :
		     {HookVariant::TpBtf, HookVariant::RawTp, HookVariant::Tracepoint})
			if (bpf_program *program = hook.program(v))
				bpf_program__set_autoload(program, chosen && v == *chosen);
		if (!chosen) {
			status.detail = std::string("missing: ") + hook.missing_effect;
			choice.missing_hooks.push_back(std::move(status));
			continue;
		}
		status.variant = *chosen;
		choice.hooks.push_back(std::move(status));
	}
	return choice;
}

} // namespace rstwatch
