#include "core/pod_directory.h"

#include "common/clock.h"

#include <filesystem>
#include <unordered_set>

namespace rstwatch
{

PodDirectory::PodDirectory(std::string directory) : directory_(std::move(directory)) {}

const PodLogName *PodDirectory::find(const std::string &uid)
{
	if (directory_.empty())
		return nullptr;
	if (auto found = by_uid_.find(uid); found != by_uid_.end())
		return &found->second;
	int64_t now = monotonic_now_ns();
	if (scanned_ && now - last_scan_ns_ < kRescanIntervalNs)
		return nullptr;
	scanned_ = true;
	last_scan_ns_ = now;
	rescan();
	auto found = by_uid_.find(uid);
	return found == by_uid_.end() ? nullptr : &found->second;
}

void PodDirectory::rescan()
{
	namespace fs = std::filesystem;
	std::unordered_map<std::string, PodLogName> by_uid;
	// Two directories claiming one uid: neither is believed.
	std::unordered_set<std::string> contested;
	std::error_code ec;
	size_t read = 0;
	for (fs::directory_iterator
	         it(directory_, fs::directory_options::skip_permission_denied, ec),
	     end;
	     !ec && it != end && read < kMaxEntries; it.increment(ec), read++) {
		// The kubelet makes directories; anything else (a symlink to
		// elsewhere included) is not its.
		std::error_code type_ec;
		if (it->symlink_status(type_ec).type() != fs::file_type::directory)
			continue;
		std::optional<PodLogName> name = parse_pod_log_name(it->path().filename().native());
		if (!name)
			continue;
		auto [existing, inserted] = by_uid.try_emplace(name->pod_uid, *name);
		if (!inserted && (existing->second.pod_namespace != name->pod_namespace ||
		                  existing->second.pod_name != name->pod_name))
			contested.insert(name->pod_uid);
	}
	for (const std::string &uid : contested)
		by_uid.erase(uid);
	by_uid_ = std::move(by_uid);
}

} // namespace rstwatch
