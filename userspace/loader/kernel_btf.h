// What the running kernel's BTF says about the hooks rstwatch uses: which
// tracepoints exist, their argument lists, and the names behind enum values
// that shift between kernels (enum sk_rst_reason).
#pragma once

#include "loader/tracer_types.h"

#include <bpf/btf.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rstwatch
{

class KernelBtf
{
public:
	static constexpr const char *kDefaultPath = kDefaultBtfPath;

	// Throws Error naming the path and the reason when BTF cannot be read.
	static KernelBtf load(const std::string &path);

	const std::string &path() const { return path_; }
	// BTF id of the `btf_trace_<name>` typedef that tp_btf programs attach to,
	// or a negative errno when the kernel has no such tracepoint.
	int tracepoint_type_id(std::string_view tracepoint) const;
	// Number of arguments in the tracepoint's TP_PROTO, -1 if it is absent.
	int tracepoint_arg_count(std::string_view tracepoint) const;
	// Whether the tracepoint has a record type of its own
	// (struct trace_event_raw_<name>) rather than its event class's.
	bool tracepoint_has_own_record(std::string_view tracepoint) const;
	// Names of an enum's values indexed by value, with `strip_prefix` removed;
	// empty when the kernel has no such enum.
	std::vector<std::string> enum_names(std::string_view enum_name,
	                                    std::string_view strip_prefix) const;

private:
	struct BtfDeleter {
		void operator()(btf *b) const noexcept { btf__free(b); }
	};
	std::string path_;
	std::unique_ptr<btf, BtfDeleter> btf_;
};

} // namespace rstwatch
