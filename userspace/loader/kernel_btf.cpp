#include "loader/kernel_btf.h"

#include "common/error.h"

#include <cerrno>
#include <string>

namespace rstwatch
{

KernelBtf KernelBtf::load(const std::string &path)
{
	KernelBtf result;
	result.path_ = path;
	btf *parsed = btf__parse(path.c_str(), nullptr);
	if (!parsed) {
		int err = errno;
		if (err == ENOENT)
			throw Error("kernel BTF not found at " + path +
			            ": rstwatch needs a kernel built with CONFIG_DEBUG_INFO_BTF=y "
			            "(or --btf pointing at this kernel's BTF)");
		throw Error("cannot read kernel BTF from " + path + ": " + errno_text(err));
	}
	result.btf_.reset(parsed);
	return result;
}

int KernelBtf::tracepoint_type_id(std::string_view tracepoint) const
{
	std::string name = "btf_trace_" + std::string(tracepoint);
	return btf__find_by_name_kind(btf_.get(), name.c_str(), BTF_KIND_TYPEDEF);
}

int KernelBtf::tracepoint_arg_count(std::string_view tracepoint) const
{
	int id = tracepoint_type_id(tracepoint);
	if (id < 0)
		return -1;
	// typedef btf_trace_X -> pointer -> func_proto(void *__data, args...)
	const btf_type *type = btf__type_by_id(btf_.get(), id);
	while (type && (btf_is_typedef(type) || btf_is_ptr(type)))
		type = btf__type_by_id(btf_.get(), type->type);
	if (!type || !btf_is_func_proto(type))
		return -1;
	return static_cast<int>(btf_vlen(type)) - 1;
}

bool KernelBtf::tracepoint_has_own_record(std::string_view tracepoint) const
{
	std::string name = "trace_event_raw_" + std::string(tracepoint);
	return btf__find_by_name_kind(btf_.get(), name.c_str(), BTF_KIND_STRUCT) > 0;
}

std::vector<std::string> KernelBtf::enum_names(std::string_view enum_name,
                                               std::string_view strip_prefix) const
{
	std::vector<std::string> names;
	std::string wanted(enum_name);
	int id = btf__find_by_name_kind(btf_.get(), wanted.c_str(), BTF_KIND_ENUM);
	if (id < 0)
		return names;
	const btf_type *type = btf__type_by_id(btf_.get(), id);
	const struct btf_enum *values = btf_enum(type);
	for (unsigned i = 0; i < btf_vlen(type); i++) {
		// Values past a sane bound would only be sentinels like MAX.
		if (values[i].val < 0 || values[i].val > 4096)
			continue;
		std::string name = btf__name_by_offset(btf_.get(), values[i].name_off);
		if (name.starts_with(strip_prefix))
			name.erase(0, strip_prefix.size());
		if (names.size() <= static_cast<size_t>(values[i].val))
			names.resize(values[i].val + 1);
		names[values[i].val] = std::move(name);
	}
	return names;
}

} // namespace rstwatch
