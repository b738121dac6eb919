#include "loader/kernel_btf.h"

#include "common/error.h"

#include <sys/utsname.h>
#include <zlib.h>

#include <cerrno>
#include <fstream>
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

namespace
{

unsigned hz_from_line(const std::string &line)
{
	static constexpr std::string_view key = "CONFIG_HZ=";
	if (!line.starts_with(key))
		return 0;
	return static_cast<unsigned>(std::stoul(line.substr(key.size())));
}

} // namespace

unsigned kernel_hz()
{
	if (gzFile config = gzopen("/proc/config.gz", "rb")) {
		char buffer[512];
		unsigned hz = 0;
		while (!hz && gzgets(config, buffer, sizeof(buffer))) {
			std::string line(buffer);
			while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
				line.pop_back();
			hz = hz_from_line(line);
		}
		gzclose(config);
		if (hz)
			return hz;
	}
	utsname uts{};
	if (uname(&uts) == 0) {
		std::ifstream config(std::string("/boot/config-") + uts.release);
		std::string line;
		while (std::getline(config, line))
			if (unsigned hz = hz_from_line(line))
				return hz;
	}
	return 0;
}

} // namespace rstwatch
