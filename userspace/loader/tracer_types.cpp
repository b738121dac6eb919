#include "loader/tracer_types.h"

namespace rstwatch
{

std::string_view variant_name(HookVariant variant)
{
	switch (variant) {
	case HookVariant::TpBtf:
		return "tp_btf";
	case HookVariant::RawTp:
		return "raw_tp";
	case HookVariant::Tracepoint:
		return "tracepoint";
	case HookVariant::CgroupSkb:
		return "cgroup_skb";
	}
	return "unknown";
}

std::optional<HookVariant> parse_variant(std::string_view name)
{
	for (HookVariant v : {HookVariant::TpBtf, HookVariant::RawTp, HookVariant::Tracepoint})
		if (variant_name(v) == name)
			return v;
	return std::nullopt;
}

} // namespace rstwatch
