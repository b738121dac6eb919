// The one exception type of the generator: what failed and why, printed as a
// single line before exiting non-zero.
#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace rstwatch::bench
{

class StormError : public std::runtime_error
{
public:
	using std::runtime_error::runtime_error;
};

inline std::string errno_text(int err)
{
	return std::string(std::strerror(err < 0 ? -err : err));
}

// Throws StormError naming `what` and the current errno.
[[noreturn]] inline void fail_errno(const std::string &what)
{
	throw StormError(what + ": " + errno_text(errno));
}

} // namespace rstwatch::bench
