#include "loader/tracer.h"

#include "common/cgroup2.h"
#include "common/error.h"
#include "core/classifier.h"
#include "loader/hooks.h"
#include "loader/kernel_btf.h"
#include "loader/kernel_features.h"
#include "rstwatch_bpf.skel.h"

#include <bpf/bpf.h>
#include <linux/capability.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <fcntl.h>

namespace rstwatch
{

namespace
{

void read_percpu_array(bpf_map *map, int possible_cpus, uint64_t *out, size_t count)
{
	std::vector<uint64_t> per_cpu(possible_cpus);
	int fd = bpf_map__fd(map);
	for (uint32_t key = 0; key < count; key++) {
		out[key] = 0;
		if (bpf_map_lookup_elem(fd, &key, per_cpu.data()))
			continue;
		for (uint64_t value : per_cpu)
			out[key] += value;
	}
}

constexpr const char *kTtlMissingEffect =
    ", so there is no TTL baseline and middlebox_injected cannot be detected";

std::string load_failure(int err)
{
	if (err == -EPERM)
		return "loading BPF programs failed: permission denied: rstwatchd needs root, or "
		       "CAP_BPF and CAP_PERFMON";
	// The verifier answers EACCES when it rejects a program.
	if (err == -EACCES)
		return "loading BPF programs failed: the kernel's verifier rejected a program "
		       "(run with --verbose for the verifier log)";
	return "loading BPF programs failed: " + errno_text(err) +
	       " (run with --verbose for the verifier log)";
}

} // namespace

void Tracer::SkeletonDeleter::operator()(rstwatch_bpf *skel) const noexcept
{
	rstwatch_bpf__destroy(skel);
}

Tracer::~Tracer()
{
	// Detach before the ring buffer and object go, so nothing writes into
	// a buffer no one reads.
	links_.clear();
	ring_.reset();
	skel_.reset();
}

std::unique_ptr<Tracer> Tracer::open(const TracerOptions &options)
{
	KernelBtf btf = KernelBtf::load(options.btf_path);
	std::unique_ptr<Tracer> tracer(new Tracer());

	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	if (options.btf_path != KernelBtf::kDefaultPath)
		open_opts.btf_custom_path = options.btf_path.c_str();
	rstwatch_bpf *skel = rstwatch_bpf__open_opts(&open_opts);
	if (!skel)
		throw Error("opening the BPF object failed: " + errno_text(errno));
	tracer->skel_.reset(skel);
	tracer->possible_cpus_ = libbpf_num_possible_cpus();
	if (tracer->possible_cpus_ <= 0)
		throw Error("cannot count possible CPUs: " + errno_text(tracer->possible_cpus_));

	HookChoice choice = choose_variants(hook_programs(skel), btf, options);
	tracer->hooks_ = std::move(choice.hooks);
	tracer->missing_hooks_ = std::move(choice.missing_hooks);
	tracer->cgroup_root_ = options.cgroup_root.empty() ? cgroup2_mount() : options.cgroup_root;
	// The TTL hook is optional: without it rstwatchd goes on, blind only to
	// middlebox_injected. The kernel refuses to even load a cgroup_skb
	// program without CAP_NET_ADMIN, which would fail every program.
	std::string ttl_blocker;
	if (options.ttl_tracking && tracer->cgroup_root_.empty())
		ttl_blocker = "no cgroup2 hierarchy is mounted";
	else if (options.ttl_tracking && !has_capability(CAP_NET_ADMIN))
		ttl_blocker = "loading a cgroup_skb program needs CAP_NET_ADMIN, which rstwatchd "
		              "does not have";
	bool ttl_tracking = options.ttl_tracking && ttl_blocker.empty();
	bpf_program__set_autoload(skel->progs.rstw_flow_ttl, ttl_tracking);
	if (options.ttl_tracking && !ttl_tracking) {
		HookStatus ttl;
		ttl.tracepoint = "cgroup_skb/ingress";
		ttl.detail = "missing: " + ttl_blocker + kTtlMissingEffect;
		tracer->missing_hooks_.push_back(std::move(ttl));
	}
	if (ttl_tracking) {
		HookStatus ttl;
		ttl.name = "flow_ttl";
		ttl.tracepoint = "cgroup_skb/ingress on " + tracer->cgroup_root_;
		ttl.variant = HookVariant::CgroupSkb;
		ttl.detail = "TTL baseline per flow (middlebox evidence; read by the tp_btf "
		             "tcp_receive_reset program only; runs for every packet)";
		tracer->hooks_.push_back(std::move(ttl));
	}
	tracer->reason_names_ = btf.enum_names("sk_rst_reason", "SK_RST_REASON_");
	tracer->hz_ = kernel_hz();

	// Configuration: everything below is frozen into rodata at load.
	tracer->send_reset_has_reason_ = btf.tracepoint_arg_count("tcp_send_reset") >= 3;
	skel->rodata->send_reset_has_reason = tracer->send_reset_has_reason_;
	// v6.10 "trace: tcp: fully support trace_tcp_send_reset" made the event a
	// TRACE_EVENT of its own and called it for every reset; before, it was an
	// instance of the tcp_event_sk_skb class, called only with a full socket.
	tracer->sent_resets_without_socket_traced_ =
	    btf.tracepoint_has_own_record("tcp_send_reset");
	skel->rodata->jiffies_per_second = tracer->hz_;
	skel->rodata->wakeup_bytes = options.ring_buffer_bytes / 4;
	skel->rodata->ttl_every_segment = options.ttl_every_segment;
	tracer->classify_config_ =
	    make_classify_config(tracer->reason_names_, options.idle_threshold_ms);
	skel->rodata->classify_config = tracer->classify_config_;
	if (int err = bpf_map__set_max_entries(skel->maps.events, options.ring_buffer_bytes))
		throw Error("sizing the ring buffer failed: " + errno_text(err));
	// A power of two, so a slot is a mask away from the 4-tuple's hash.
	uint32_t closer_slots = std::bit_floor(options.owner_entries);
	if (int err = bpf_map__set_max_entries(skel->maps.closers, closer_slots))
		throw Error("sizing the closer table failed: " + errno_text(err));
	skel->rodata->closer_slot_mask = closer_slots - 1;
	return tracer;
}

void Tracer::load()
{
	if (int err = rstwatch_bpf__load(skel_.get()))
		throw Error(load_failure(err));
	for (HookStatus &hook : hooks_) {
		if (hook.name != "tcp_send_reset")
			continue;
		// The argument and the tracepoint record field came in the same
		// change, so one BTF answer covers every variant.
		hook.detail = send_reset_has_reason_
		                  ? "kernel reason available"
		                  : "no kernel reason on this kernel (added in 6.10)";
		if (sent_resets_without_socket_traced_)
			continue;
		// Said at start and exported as a missing probe, so that an
		// absent refused or no_socket count is not read as "none happened".
		HookStatus blind;
		blind.name = "tcp_send_reset/no_socket";
		blind.tracepoint = hook.tracepoint + "/no_socket";
		blind.detail =
		    "missing: before Linux 6.10 " + hook.tracepoint +
		    " fires only for full sockets, so resets this host sends for no socket "
		    "(refused, no_socket), from TIME_WAIT or for a pending connection are "
		    "not seen; the received side of such resets still is";
		missing_hooks_.push_back(std::move(blind));
		break;
	}
}

void Tracer::attach()
{
	auto programs = hook_programs(skel_.get());
	std::vector<std::string> unattached;
	for (HookStatus &hook : hooks_) {
		bpf_link *link = nullptr;
		bpf_program *program = nullptr;
		const HookPrograms *optional = nullptr;
		if (hook.variant == HookVariant::CgroupSkb) {
			UniqueFd cgroup(
			    ::open(cgroup_root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
			std::string problem;
			if (!cgroup)
				problem =
				    "opening " + cgroup_root_ + " failed: " + errno_text(errno);
			else if (!(link = bpf_program__attach_cgroup(skel_->progs.rstw_flow_ttl,
			                                             cgroup.get())))
				problem = "attaching it failed: " + errno_text(errno);
			if (!link) {
				HookStatus missing = hook;
				missing.detail = "missing: " + problem + kTtlMissingEffect;
				missing_hooks_.push_back(std::move(missing));
				unattached.push_back(hook.name);
				continue;
			}
		} else {
			auto spec =
			    std::find_if(programs.begin(), programs.end(),
			                 [&](const auto &p) { return hook.name == p.name; });
			program = spec->program(hook.variant);
			link = bpf_program__attach(program);
			if (!spec->required)
				optional = &*spec;
		}
		const int err = link ? 0 : errno;
		if (!link && optional) {
			// An optional hook that cannot be attached costs what it
			// would have shown, not the daemon.
			HookStatus missing = hook;
			missing.detail = "missing: attaching it failed: " + errno_text(err) +
			                 attach_hint(err) + ": " + optional->missing_effect;
			missing_hooks_.push_back(std::move(missing));
			unattached.push_back(hook.name);
			continue;
		}
		if (!link)
			throw Error("attaching the " + std::string(variant_name(hook.variant)) +
			            " program to " + hook.tracepoint +
			            " failed: " + errno_text(err) + attach_hint(err));
		links_.emplace_back(link);
		attached_.push_back(program);
		hook.attached = true;
	}
	std::erase_if(hooks_, [&](const HookStatus &hook) {
		return std::find(unattached.begin(), unattached.end(), hook.name) !=
		       unattached.end();
	});
	ring_.reset(
	    ring_buffer__new(bpf_map__fd(skel_->maps.events), &Tracer::on_record, this, nullptr));
	if (!ring_)
		throw Error("creating the ring buffer reader failed: " + errno_text(errno));
}

void Tracer::set_record_handler(RecordHandler handler)
{
	handler_ = std::move(handler);
}

namespace
{
// Returned by the record callback to stop libbpf's loop once the budget is
// spent: libbpf consumes the record the callback was given, stops, and
// hands this value back from ring_buffer__consume().
constexpr int kBudgetSpent = -ECANCELED;
} // namespace

int Tracer::on_record(void *ctx, void *data, size_t size)
{
	auto *tracer = static_cast<Tracer *>(ctx);
	tracer->handler_(data, size);
	return ++tracer->consumed_ >= tracer->budget_ ? kBudgetSpent : 0;
}

int Tracer::consume(size_t max_records)
{
	if (max_records == 0)
		return 0;
	budget_ = max_records;
	consumed_ = 0;
	int result = ring_buffer__consume(ring_.get());
	if (result < 0 && result != kBudgetSpent)
		return result;
	return static_cast<int>(consumed_);
}

std::vector<ProgramStats> Tracer::program_stats() const
{
	std::vector<ProgramStats> stats;
	for (const bpf_program *program : attached_) {
		bpf_prog_info info{};
		uint32_t length = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(program), &info, &length) != 0)
			continue;
		stats.push_back({bpf_program__name(program), info.run_cnt, info.run_time_ns});
	}
	return stats;
}

int Tracer::listeners_fd() const
{
	return bpf_map__fd(skel_->maps.listeners);
}

int Tracer::ring_epoll_fd() const
{
	return ring_buffer__epoll_fd(ring_.get());
}

KernelCounters Tracer::read_counters() const
{
	KernelCounters counters;
	std::array<uint64_t, RSTWATCH_CNT_MAX> totals{};
	read_percpu_array(skel_->maps.counters, possible_cpus_, totals.data(), totals.size());
	counters.lost_events = totals[RSTWATCH_CNT_LOST_EVENTS];
	counters.sent = totals[RSTWATCH_CNT_SENT];
	counters.received = totals[RSTWATCH_CNT_RECEIVED];
	counters.owner_map_full = totals[RSTWATCH_CNT_OWNER_MAP_FULL];
	read_percpu_array(skel_->maps.sent_by_reason, possible_cpus_,
	                  counters.sent_by_reason.data(), counters.sent_by_reason.size());
	read_percpu_array(skel_->maps.received_by_state, possible_cpus_,
	                  counters.received_by_state.data(), counters.received_by_state.size());
	std::array<uint64_t, 2 * RSTWATCH_CAUSE_COUNT> by_cause{};
	read_percpu_array(skel_->maps.resets_by_cause, possible_cpus_, by_cause.data(),
	                  by_cause.size());
	for (size_t i = 0; i < RSTWATCH_CAUSE_COUNT; i++) {
		counters.by_cause[0][i] = by_cause[i];
		counters.by_cause[1][i] = by_cause[RSTWATCH_CAUSE_COUNT + i];
	}
	return counters;
}

} // namespace rstwatch
