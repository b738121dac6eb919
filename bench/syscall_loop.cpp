// syscall_loop: calls getppid() in a loop for a bounded time and prints one
// JSON line with the rate. A syscall tracepoint anywhere on the host puts
// every task on the syscall slow path; this is what shows it.
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char **argv)
{
	double seconds = 5.0;
	for (int i = 1; i < argc; i++) {
		if (std::strcmp(argv[i], "--duration") == 0 && i + 1 < argc) {
			seconds = std::strtod(argv[++i], nullptr);
		} else {
			std::fprintf(stderr, "usage: syscall_loop [--duration SECONDS]\n");
			return 2;
		}
	}
	if (!(seconds > 0 && seconds <= 600)) {
		std::fprintf(stderr, "syscall_loop: --duration must be in (0, 600]\n");
		return 2;
	}
	using Clock = std::chrono::steady_clock;
	const auto start = Clock::now();
	const auto end = start + std::chrono::duration<double>(seconds);
	unsigned long long calls = 0;
	auto now = start;
	while (now < end) {
		// Raw syscalls: glibc caches nothing for getppid, but be explicit.
		for (int i = 0; i < 4096; i++)
			syscall(SYS_getppid);
		calls += 4096;
		now = Clock::now();
	}
	double elapsed = std::chrono::duration<double>(now - start).count();
	std::printf("{\"mode\":\"syscalls\",\"seconds\":%.6f,\"operations\":%llu,"
	            "\"operations_per_second\":%.1f}\n",
	            elapsed, calls, static_cast<double>(calls) / elapsed);
	return 0;
}
