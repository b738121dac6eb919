// What the running kernel is set up with beyond its BTF, inside the loader:
// its tick rate, whether it lets this process open perf events, and the
// capabilities this process has.
#pragma once

#include <string>

namespace rstwatch
{

// CONFIG_HZ of the running kernel, read from /proc/config.gz or
// /boot/config-<release>; 0 when neither is readable.
unsigned kernel_hz();

// Classic tracepoints attach through perf_event_open, which Debian's kernels
// (kernel.perf_event_paranoid = 3, their default) allow only with
// CAP_SYS_ADMIN, whatever CAP_PERFMON says. For an attach that failed with
// errno `err`: " (kernel.perf_event_paranoid is ...)" when that is the likely
// reason, else "".
std::string attach_hint(int err);

// Whether `capability` (CAP_NET_ADMIN, ...) is in this process's effective
// set; true when capget() cannot tell, so the kernel decides.
bool has_capability(int capability);

} // namespace rstwatch
