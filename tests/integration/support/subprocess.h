// Child processes the integration tests start: rstwatchd, the rstwatch
// client, proxies and tools. One fork/exec path, so every child gets the
// same environment handling and dies with a crashed test.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rstwatch::test
{

// Standard streams for a spawned child; -1 leaves the test's own.
struct ChildStreams {
	int in = -1;
	int out = -1;
	int err = -1;
};

// fork + exec of argv with extra "NAME=value" entries on top of the test's
// environment. The child gets SIGTERM when the test process dies, so a
// crashed test leaves nothing running. -1 (errno set) when fork fails.
pid_t spawn(const std::vector<std::string> &argv, const ChildStreams &streams,
            const std::vector<std::string> &env = {});
// Exit code of a child, -1 when a signal ended it.
int wait_exit_code(pid_t pid);

struct CommandResult {
	int exit_code = -1; // -1 when killed by a signal or timed out
	std::string out;
	std::string err;
};

// Runs argv to completion with extra "NAME=value" environment entries,
// capturing stdout and stderr; killed when it outlasts the timeout.
CommandResult run_command(const std::vector<std::string> &argv,
                          const std::vector<std::string> &env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A child whose stdout and stderr come back to the test through pipes,
// drained by a thread of its own so the child never blocks on a full pipe.
class Subprocess
{
public:
	enum class Wait { met, output_closed, timed_out };
	using LineHandler = std::function<void(std::string line)>;

	Subprocess() = default;
	// stop(): a child must not outlive the object that reads its output.
	~Subprocess();
	Subprocess(const Subprocess &) = delete;
	Subprocess &operator=(const Subprocess &) = delete;

	// Starts argv with extra "NAME=value" environment entries. With a
	// handler, every complete stdout line goes to it instead of into
	// stdout_text(); it runs under the lock wait_until() and
	// with_output_locked() hold, so what it records is read safely there.
	// False, the reason in error(), when no child could be started.
	bool start(const std::vector<std::string> &argv, const std::vector<std::string> &env = {},
	           LineHandler on_stdout_line = {});

	// Waits until `condition` holds (checked again whenever output
	// arrives), the child has closed its stdout and stderr, or the time
	// is up.
	Wait wait_until(const std::function<bool()> &condition, std::chrono::milliseconds timeout);
	Wait wait_for_stderr(const std::string &text, std::chrono::milliseconds timeout);
	void with_output_locked(const std::function<void()> &work);

	void send_signal(int signal) const;
	bool running() const;
	// Reaps the child and reads the rest of its output; the exit code, or
	// -1 when a signal ended it or it was reaped before.
	int wait();
	int stop(int signal = SIGTERM);

	pid_t pid() const { return pid_; }
	const std::string &error() const { return error_; }
	std::string stdout_text();
	std::string stderr_text();

private:
	void read_output(int stdout_fd, int stderr_fd);
	void take_stdout(const char *data, size_t size);

	pid_t pid_ = -1;
	bool reaped_ = false;
	// Written once the child is reaped: a process it left behind may hold
	// the pipes open, and the reader must not wait for that one.
	int reaped_signal_[2] = {-1, -1};
	std::thread reader_;
	std::mutex mutex_;
	std::condition_variable changed_;
	LineHandler on_stdout_line_;
	std::string partial_line_; // the reader's alone
	std::string stdout_;
	std::string stderr_;
	bool output_closed_ = false;
	std::string error_;
};

} // namespace rstwatch::test
