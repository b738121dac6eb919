// The address of a unix socket by path, for rstwatchd's query listener and
// rstwatch's connection to it.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <optional>
#include <string>

namespace rstwatch
{

// nullopt when `path` does not fit in sun_path with its terminating NUL.
inline std::optional<sockaddr_un> unix_socket_address(const std::string &path)
{
	sockaddr_un address{};
	address.sun_family = AF_UNIX;
	if (path.size() >= sizeof(address.sun_path))
		return std::nullopt;
	std::memcpy(address.sun_path, path.data(), path.size());
	return address;
}

} // namespace rstwatch
