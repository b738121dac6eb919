#include "loopback_only.h"

#include "common/unique_fd.h"
#include "storm_error.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

namespace rstwatch::bench
{

in_addr loopback_address(const std::string &text)
{
	in_addr address{};
	if (inet_pton(AF_INET, text.c_str(), &address) != 1)
		throw StormError("address " + text + " is not an IPv4 address");
	if ((ntohl(address.s_addr) >> 24) != 127)
		throw StormError("address " + text +
		                 " is not a loopback address: storms stay on 127.0.0.0/8");
	return address;
}

bool only_loopback_interfaces()
{
	struct if_nameindex *interfaces = if_nameindex();
	if (!interfaces)
		fail_errno("listing network interfaces");
	bool only_lo = true;
	for (struct if_nameindex *i = interfaces; i->if_index != 0; i++)
		if (std::strcmp(i->if_name, "lo") != 0)
			only_lo = false;
	if_freenameindex(interfaces);
	return only_lo;
}

void ensure_loopback_up()
{
	UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (!fd)
		fail_errno("socket for SIOCGIFFLAGS");
	ifreq request{};
	std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
	if (ioctl(fd.get(), SIOCGIFFLAGS, &request) != 0)
		fail_errno("reading the flags of lo");
	if (request.ifr_flags & IFF_UP)
		return;
	request.ifr_flags |= IFF_UP;
	if (ioctl(fd.get(), SIOCSIFFLAGS, &request) != 0)
		fail_errno("bringing lo up");
}

} // namespace rstwatch::bench
