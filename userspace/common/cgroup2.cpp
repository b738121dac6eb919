#include "common/cgroup2.h"

#include <fstream>
#include <sstream>

namespace rstwatch
{

std::string cgroup2_mount(const std::string &mountinfo_path)
{
	// mountinfo: id parent major:minor root mount-point options ... - fstype source
	std::ifstream mountinfo(mountinfo_path);
	std::string line;
	while (std::getline(mountinfo, line)) {
		size_t separator = line.find(" - ");
		if (separator == std::string::npos)
			continue;
		std::istringstream after(line.substr(separator + 3));
		std::string fstype;
		after >> fstype;
		if (fstype != "cgroup2")
			continue;
		std::istringstream before(line.substr(0, separator));
		std::string id, parent, device, root, mount_point;
		before >> id >> parent >> device >> root >> mount_point;
		return mount_point;
	}
	return "";
}

} // namespace rstwatch
