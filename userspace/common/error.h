// Startup errors: one line naming what failed and why, printed by main.
#pragma once

#include <cstring>
#include <stdexcept>
#include <string>

namespace rstwatch
{

class Error : public std::runtime_error
{
public:
	using std::runtime_error::runtime_error;
};

// libbpf and the kernel report failures as negative errno values.
inline std::string errno_text(int err)
{
	if (err < 0)
		err = -err;
	return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")";
}

} // namespace rstwatch
