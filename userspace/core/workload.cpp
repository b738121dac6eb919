#include "core/workload.h"

#include <algorithm>

namespace rstwatch
{

namespace
{

bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool is_lower_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

bool all_lower_hex(std::string_view text)
{
	return std::all_of(text.begin(), text.end(), is_lower_hex);
}

// DNS-1123: [a-z0-9] at both ends, [a-z0-9] or one of `inner` between.
bool is_dns_name(std::string_view text, size_t max, std::string_view inner)
{
	if (text.empty() || text.size() > max || !is_lower_alnum(text.front()) ||
	    !is_lower_alnum(text.back()))
		return false;
	return std::all_of(text.begin(), text.end(), [inner](char c) {
		return is_lower_alnum(c) || inner.find(c) != std::string_view::npos;
	});
}

// "kubepods-burstable-pod<uid>.slice" (systemd driver: the uid's dashes
// escaped as '_', since '-' separates the slice hierarchy), or "pod<uid>"
// below a "kubepods" directory (cgroupfs driver).
std::optional<std::string> pod_uid_of(std::string_view component, bool below_kubepods)
{
	std::string uid;
	if (component.ends_with(".slice")) {
		std::string_view stem = component.substr(0, component.size() - 6);
		size_t pod = stem.rfind("-pod");
		if (pod == std::string_view::npos)
			return std::nullopt;
		// The slice's own name says it is the kubelet's: "kubepods" is
		// one of its dash-separated words.
		std::string words = "-" + std::string(stem.substr(0, pod)) + "-";
		if (words.find("-kubepods-") == std::string::npos)
			return std::nullopt;
		uid = stem.substr(pod + 4);
		if (uid.find('-') != std::string::npos)
			return std::nullopt;
		std::replace(uid.begin(), uid.end(), '_', '-');
	} else if (below_kubepods && component.starts_with("pod")) {
		uid = component.substr(3);
	}
	if (!is_pod_uid(uid))
		return std::nullopt;
	return uid;
}

// "<64 hex>" (cgroupfs), or "<runtime>-<64 hex>[.scope]": docker-,
// cri-containerd-, crio-, libpod-. CRI-O's "crio-conmon-<id>.scope" holds
// the container's monitor, not the container.
std::optional<std::string_view> container_id_of(std::string_view component)
{
	std::string_view stem = component;
	if (stem.ends_with(".scope"))
		stem.remove_suffix(6);
	if (is_container_id(stem))
		return stem;
	size_t dash = stem.rfind('-');
	if (dash == std::string_view::npos || dash == 0)
		return std::nullopt;
	std::string_view runtime = stem.substr(0, dash);
	std::string_view id = stem.substr(dash + 1);
	if (!is_container_id(id) || runtime.ends_with("conmon"))
		return std::nullopt;
	bool runtime_shaped = std::all_of(runtime.begin(), runtime.end(), [](char c) {
		return (c >= 'a' && c <= 'z') || c == '-';
	});
	if (!runtime_shaped)
		return std::nullopt;
	return id;
}

} // namespace

bool is_unit_name(std::string_view text)
{
	if (text.size() > 255)
		return false;
	std::string_view stem;
	for (std::string_view suffix : {".service", ".scope", ".socket"}) {
		if (text.size() > suffix.size() && text.ends_with(suffix))
			stem = text.substr(0, text.size() - suffix.size());
	}
	if (stem.empty())
		return false;
	return std::all_of(text.begin(), text.end(), [](char c) {
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		       std::string_view(":-_.\\@").find(c) != std::string_view::npos;
	});
}

bool is_container_id(std::string_view text)
{
	return text.size() == 64 && all_lower_hex(text);
}

bool is_pod_uid(std::string_view text)
{
	if (text.size() == 32)
		return all_lower_hex(text);
	if (text.size() != 36)
		return false;
	for (size_t i = 0; i < text.size(); i++) {
		bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash_here ? text[i] != '-' : !is_lower_hex(text[i]))
			return false;
	}
	return true;
}

bool is_pod_namespace(std::string_view text)
{
	return is_dns_name(text, 63, "-");
}

bool is_pod_name(std::string_view text)
{
	return is_dns_name(text, 253, "-.");
}

std::optional<PodLogName> parse_pod_log_name(std::string_view text)
{
	size_t first = text.find('_');
	size_t last = text.rfind('_');
	if (first == std::string_view::npos || first == last)
		return std::nullopt;
	PodLogName name{std::string(text.substr(0, first)),
	                std::string(text.substr(first + 1, last - first - 1)),
	                std::string(text.substr(last + 1))};
	// A '_' inside the middle part is caught by is_pod_name().
	if (!is_pod_namespace(name.pod_namespace) || !is_pod_name(name.pod_name) ||
	    !is_pod_uid(name.pod_uid))
		return std::nullopt;
	return name;
}

void describe_cgroup_path(CgroupInfo &info)
{
	std::string_view path = info.path;
	if (path.size() > kMaxCgroupPathBytes)
		return;
	bool below_kubepods = false;
	size_t depth = 0;
	while (!path.empty() && depth < kMaxCgroupDepth) {
		size_t slash = path.find('/');
		std::string_view component = path.substr(0, slash);
		path =
		    slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
		if (component.empty())
			continue;
		depth++;
		// A pod counts only where no unit or container encloses it: a
		// delegated service or a container may make any cgroup below
		// itself, "kubepods/pod<uid of someone else>" included.
		bool enclosed = !info.unit.empty() || !info.container.empty();
		if (info.pod_uid.empty() && !enclosed) {
			if (std::optional<std::string> uid =
			        pod_uid_of(component, below_kubepods)) {
				info.pod_uid = std::move(*uid);
				continue;
			}
		}
		below_kubepods |= component == "kubepods";
		// A container's own units are not the host's.
		if (info.unit.empty() && info.container.empty() && is_unit_name(component))
			info.unit = component;
		if (info.container.empty()) {
			if (std::optional<std::string_view> id = container_id_of(component))
				info.container = *id;
		}
	}
}

} // namespace rstwatch
