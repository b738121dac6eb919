// What systemd (Type=notify) hears from rstwatchd: READY=1 once it is really
// serving, RELOADING=1 ... READY=1 around a SIGHUP, STOPPING=1 on the way out,
// and WATCHDOG=1 from the event loop, so a stuck loop gets the service
// restarted. Without NOTIFY_SOCKET every call is a no-op.
#pragma once

#include <chrono>
#include <string_view>

namespace rstwatch
{

class ServiceNotifier
{
public:
	ServiceNotifier();

	void ready(std::string_view status);
	void reloading();
	void stopping();
	// Sends WATCHDOG=1 when half the watchdog interval has passed since
	// the last one; call it on every loop iteration.
	void feed_watchdog(std::chrono::steady_clock::time_point now);

private:
	void send(const char *state);
	std::chrono::microseconds watchdog_{0};
	std::chrono::steady_clock::time_point last_ping_{};
};

} // namespace rstwatch
