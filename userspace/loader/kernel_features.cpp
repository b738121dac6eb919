#include "loader/kernel_features.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <fstream>
#include <string_view>

namespace rstwatch
{

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

std::string attach_hint(int err)
{
	if (err != EACCES && err != EPERM)
		return "";
	std::ifstream file("/proc/sys/kernel/perf_event_paranoid");
	int paranoid = 0;
	if (!(file >> paranoid) || paranoid < 3)
		return "";
	return " (kernel.perf_event_paranoid is " + std::to_string(paranoid) +
	       ": this kernel lets only CAP_SYS_ADMIN open perf events)";
}

bool has_capability(int capability)
{
	// libcap's cap_get_proc() is this one call; not worth a library.
	__user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
	__user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
	if (syscall(SYS_capget, &header, data) != 0 || capability < 0 ||
	    capability >= 32 * _LINUX_CAPABILITY_U32S_3)
		return true;
	return (data[capability / 32].effective & (1u << (capability % 32))) != 0;
}

} // namespace rstwatch
