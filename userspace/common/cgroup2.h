// Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup on unified
// systems, /sys/fs/cgroup/unified on hybrid ones.
#pragma once

#include <string>

namespace rstwatch
{

// The first cgroup2 mount point in /proc/self/mountinfo, "" when none.
std::string cgroup2_mount(const std::string &mountinfo_path = "/proc/self/mountinfo");

} // namespace rstwatch
