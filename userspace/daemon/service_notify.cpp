#include "daemon/service_notify.h"

#include <systemd/sd-daemon.h>

#include <cstdio>
#include <ctime>
#include <string>

namespace rstwatch
{

ServiceNotifier::ServiceNotifier()
{
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0)
		watchdog_ = std::chrono::microseconds(usec);
}

void ServiceNotifier::send(const char *state)
{
	// A failed notification is not a reason to stop tracing; systemd
	// notices the missing READY=1 or WATCHDOG=1 by itself.
	sd_notify(0, state);
}

void ServiceNotifier::ready(std::string_view status)
{
	std::string state = "READY=1\nSTATUS=" + std::string(status);
	send(state.c_str());
}

void ServiceNotifier::reloading()
{
	// MONOTONIC_USEC lets systemd (Type=notify-reload, v253+) tell this
	// reload from an earlier one; older versions ignore it.
	timespec now{};
	clock_gettime(CLOCK_MONOTONIC, &now);
	std::string state = "RELOADING=1\nSTATUS=reloading configuration\nMONOTONIC_USEC=" +
	                    std::to_string(static_cast<uint64_t>(now.tv_sec) * 1000000 +
	                                   static_cast<uint64_t>(now.tv_nsec) / 1000);
	send(state.c_str());
}

void ServiceNotifier::stopping()
{
	send("STOPPING=1\nSTATUS=draining the ring buffer");
}

void ServiceNotifier::feed_watchdog(std::chrono::steady_clock::time_point now)
{
	if (watchdog_.count() == 0 || now - last_ping_ < watchdog_ / 2)
		return;
	last_ping_ = now;
	send("WATCHDOG=1");
}

} // namespace rstwatch
