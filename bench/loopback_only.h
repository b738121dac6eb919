// The guards that keep a storm off real networks: loopback targets only, and
// raw segments only inside a namespace with nothing but loopback in it.
#pragma once

#include <netinet/in.h>

#include <string>

namespace rstwatch::bench
{

// Parses an IPv4 loopback address (127.0.0.0/8); throws StormError for
// anything else.
in_addr loopback_address(const std::string &text);

// True when the calling thread's network namespace has no interface but lo:
// a namespace a test created, where nothing sent can leave the machine. The
// host's namespace always has others (and PID 1's namespace may be out of
// reach to compare with, in a container).
bool only_loopback_interfaces();

// Brings the namespace's loopback interface up (a fresh namespace starts
// with it down).
void ensure_loopback_up();

} // namespace rstwatch::bench
