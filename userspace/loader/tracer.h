// The BPF side as rstwatchd sees it: open, configure, load and attach as
// separate steps, then drain the ring buffer. One hook variant per hook is
// chosen at load time from what the running kernel supports.
#pragma once

#include "loader/bpf_handles.h"
#include "loader/tracer_types.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct rstwatch_bpf;

namespace rstwatch
{

class Tracer
{
public:
	// Called for every record read from the ring buffer, valid or not.
	using RecordHandler = std::function<void(const void *data, size_t size)>;

	// Opens the BPF object and picks a variant per hook; throws Error.
	static std::unique_ptr<Tracer> open(const TracerOptions &options);
	~Tracer();
	Tracer(const Tracer &) = delete;
	Tracer &operator=(const Tracer &) = delete;

	void load();
	void attach();
	// Must be set before consume().
	void set_record_handler(RecordHandler handler);
	// Hands on at most `max_records` waiting records; returns how many
	// (max_records when more may be waiting) or a negative errno.
	int consume(size_t max_records);
	// Becomes readable when the kernel wakes the consumer.
	int ring_epoll_fd() const;

	KernelCounters read_counters() const;
	// Hooks that are attached (after attach()) or chosen to be.
	const std::vector<HookStatus> &hooks() const { return hooks_; }
	// Optional hooks this kernel lacks, with what that costs.
	const std::vector<HookStatus> &missing_hooks() const { return missing_hooks_; }
	bool send_reset_has_reason() const { return send_reset_has_reason_; }
	// Whether tcp:tcp_send_reset fires for resets sent without a full socket
	// (no socket, TIME_WAIT, request sockets): only from Linux 6.10.
	bool sent_resets_without_socket_traced() const
	{
		return sent_resets_without_socket_traced_;
	}
	unsigned hz() const { return hz_; }
	// enum sk_rst_reason names from this kernel's BTF, indexed by value.
	const std::vector<std::string> &reason_names() const { return reason_names_; }
	// Run-time statistics of the attached programs (zero while
	// kernel.bpf_stats_enabled is off).
	std::vector<ProgramStats> program_stats() const;
	// The map of listener owners (for SocketOwners).
	int listeners_fd() const;
	// The cause rules' configuration, as loaded into the kernel.
	const rstwatch_classify_config &classify_config() const { return classify_config_; }

private:
	Tracer() = default;
	static int on_record(void *ctx, void *data, size_t size);

	struct SkeletonDeleter {
		void operator()(rstwatch_bpf *skel) const noexcept;
	};
	std::unique_ptr<rstwatch_bpf, SkeletonDeleter> skel_;
	std::vector<HookStatus> hooks_;
	std::vector<HookStatus> missing_hooks_;
	std::vector<LinkPtr> links_;
	std::vector<const bpf_program *> attached_;
	RingBufferPtr ring_;
	RecordHandler handler_;
	size_t budget_ = 0;   // records this consume() may still hand on
	size_t consumed_ = 0; // records this consume() handed on
	std::vector<std::string> reason_names_;
	rstwatch_classify_config classify_config_{};
	bool send_reset_has_reason_ = false;
	bool sent_resets_without_socket_traced_ = false;
	unsigned hz_ = 0;
	std::string cgroup_root_;
	int possible_cpus_ = 1;
};

} // namespace rstwatch
