// Pod names from the kubelet's log directories: /var/log/pods holds one
// NAMESPACE_NAME_UID directory per pod on the node, created before the pod's
// containers start. It is the one place on a node that maps a pod uid to its
// namespace and name without asking the API server.
#pragma once

#include "core/workload.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rstwatch
{

class PodDirectory
{
public:
	// `directory` is the kubelet's pod log directory; "" disables names.
	explicit PodDirectory(std::string directory);

	// The names of the pod with this uid, nullptr when unknown; valid
	// until the next call. A uid not
	// known sends a fresh scan, at most once a second: pods come and go
	// far more rarely than resets arrive.
	const PodLogName *find(const std::string &uid);
	size_t size() const { return by_uid_.size(); }

	// Entries read per scan: a node runs a few hundred pods at most, and
	// a directory stuffed with more must not make a scan unbounded.
	static constexpr size_t kMaxEntries = 16384;
	static constexpr int64_t kRescanIntervalNs = 1'000'000'000;

private:
	void rescan();

	std::string directory_;
	std::unordered_map<std::string, PodLogName> by_uid_;
	int64_t last_scan_ns_ = 0;
	bool scanned_ = false;
};

} // namespace rstwatch
