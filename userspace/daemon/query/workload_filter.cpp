#include "daemon/query/workload_filter.h"

#include "common/wire.h"
#include "core/workload.h"

#include <algorithm>
#include <cctype>

namespace rstwatch::query
{

namespace
{

constexpr const char *kNamespacesDiffer = "namespace and the namespace in pod differ";

std::optional<std::string> set_unit(std::string text, WorkloadFilter &filter)
{
	// "nginx" means nginx.service, as systemctl takes it.
	if (!is_unit_name(text) && is_unit_name(text + ".service"))
		text += ".service";
	if (!is_unit_name(text))
		return "unit must be a systemd unit name (nginx.service, session-2.scope)";
	filter.unit = std::move(text);
	return std::nullopt;
}

std::optional<std::string> set_container(std::string text, WorkloadFilter &filter)
{
	std::transform(text.begin(), text.end(), text.begin(),
	               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
	bool hex = std::all_of(text.begin(), text.end(), [](char c) {
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
	});
	if (text.empty() || text.size() > 64 || !hex)
		return "container must be a container id or its first hex digits";
	filter.container = std::move(text);
	return std::nullopt;
}

std::optional<std::string> set_pod(std::string text, WorkloadFilter &filter)
{
	constexpr const char *kShape = "pod must be a pod name, namespace/name or a pod uid";
	if (size_t slash = text.find('/'); slash != std::string::npos) {
		std::string pod_namespace = text.substr(0, slash);
		if (!is_pod_namespace(pod_namespace))
			return kShape;
		if (filter.pod_namespace && *filter.pod_namespace != pod_namespace)
			return kNamespacesDiffer;
		filter.pod_namespace = std::move(pod_namespace);
		text.erase(0, slash + 1);
	}
	if (!is_pod_name(text) && !is_pod_uid(text))
		return kShape;
	filter.pod = std::move(text);
	return std::nullopt;
}

std::optional<std::string> set_namespace(std::string text, WorkloadFilter &filter)
{
	if (!is_pod_namespace(text))
		return "namespace must be a Kubernetes namespace name (a DNS label: a-z, 0-9, "
		       "'-', at most 63)";
	if (filter.pod_namespace && *filter.pod_namespace != text)
		return kNamespacesDiffer;
	filter.pod_namespace = std::move(text);
	return std::nullopt;
}

} // namespace

bool is_workload_field(std::string_view field)
{
	return field == wire::field::kUnit || field == wire::field::kContainer ||
	       field == wire::field::kPod || field == wire::field::kNamespace ||
	       field == wire::field::kNetns;
}

std::optional<std::string> set_workload_filter(std::string_view field, std::string text,
                                               WorkloadFilter &filter)
{
	if (field == wire::field::kUnit)
		return set_unit(std::move(text), filter);
	if (field == wire::field::kContainer)
		return set_container(std::move(text), filter);
	if (field == wire::field::kPod)
		return set_pod(std::move(text), filter);
	if (field == wire::field::kNamespace)
		return set_namespace(std::move(text), filter);
	return std::string(field) + " is not a workload filter";
}

bool WorkloadFilter::matches(const ResetEvent &event) const
{
	return matches(event.raw.netns, event.cgroup);
}

bool WorkloadFilter::matches(uint32_t socket_netns, const CgroupInfo *cgroup) const
{
	if (netns && socket_netns != *netns)
		return false;
	if (!unit && !container && !pod && !pod_namespace)
		return true;
	if (!cgroup)
		return false;
	if (unit && cgroup->unit != *unit)
		return false;
	if (container && (cgroup->container.empty() || !cgroup->container.starts_with(*container)))
		return false;
	if (pod_namespace && cgroup->pod_namespace != *pod_namespace)
		return false;
	if (pod && cgroup->pod_name != *pod && cgroup->pod_uid != *pod)
		return false;
	return true;
}

} // namespace rstwatch::query
