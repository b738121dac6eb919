#include "daemon_process.h"
#include "test_support.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rstwatch::test
{

namespace
{

pid_t spawn(const std::vector<std::string> &argv, int stdout_fd, int stderr_fd)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	// A test binary that crashes must not leave its daemon running.
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	dup2(stdout_fd, STDOUT_FILENO);
	dup2(stderr_fd, STDERR_FILENO);
	exec_or_exit(argv);
}

int wait_exit_code(pid_t pid)
{
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace

std::string rstwatchd_path()
{
	return RSTWATCHD_PATH;
}

ExitResult run_command(const std::vector<std::string> &argv, std::chrono::milliseconds timeout)
{
	int err_pipe[2];
	if (pipe2(err_pipe, O_CLOEXEC))
		return {-1, "pipe failed"};
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid_t pid = spawn(argv, devnull, err_pipe[1]);
	close(err_pipe[1]);
	close(devnull);

	ExitResult result;
	auto deadline = std::chrono::steady_clock::now() + timeout;
	char buffer[4096];
	for (;;) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
		    deadline - std::chrono::steady_clock::now());
		if (left.count() <= 0) {
			kill(pid, SIGKILL);
			result.stderr_text += "[timed out]";
			break;
		}
		pollfd fd = {err_pipe[0], POLLIN, 0};
		if (poll(&fd, 1, static_cast<int>(left.count())) <= 0)
			continue;
		ssize_t n = read(err_pipe[0], buffer, sizeof(buffer));
		if (n <= 0)
			break;
		result.stderr_text.append(buffer, n);
	}
	close(err_pipe[0]);
	result.exit_code = wait_exit_code(pid);
	return result;
}

DaemonProcess::~DaemonProcess()
{
	// stop() also reaps a daemon that exited by itself and joins the
	// reader threads, which must not outlive this object.
	stop();
}

bool DaemonProcess::start(const std::vector<std::string> &extra_args)
{
	int out_pipe[2], err_pipe[2];
	if (pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC)) {
		error_ = "pipe failed";
		return false;
	}
	std::vector<std::string> argv = {rstwatchd_path(), "--json"};
	argv.insert(argv.end(), extra_args.begin(), extra_args.end());
	pid_ = spawn(argv, out_pipe[1], err_pipe[1]);
	close(out_pipe[1]);
	close(err_pipe[1]);
	stdout_reader_ = std::thread([this, fd = out_pipe[0]] { read_stdout(fd); });
	stderr_reader_ = std::thread([this, fd = err_pipe[0]] { read_stderr(fd); });

	std::unique_lock lock(mutex_);
	bool done =
	    changed_.wait_for(lock, std::chrono::seconds(30), [this] { return ready_ || exited_; });
	if (ready_)
		return true;
	error_ = done ? "rstwatchd exited before it was ready: " + stderr_
	              : "rstwatchd did not become ready within 30 s: " + stderr_;
	return false;
}

ExitResult DaemonProcess::stop()
{
	ExitResult result;
	if (pid_ > 0) {
		kill(pid_, SIGTERM);
		result.exit_code = wait_exit_code(pid_);
	}
	if (stdout_reader_.joinable())
		stdout_reader_.join();
	if (stderr_reader_.joinable())
		stderr_reader_.join();
	std::lock_guard lock(mutex_);
	exited_ = true;
	pid_ = -1;
	result.stderr_text = stderr_;
	return result;
}

void DaemonProcess::read_stdout(int fd)
{
	std::string pending;
	char buffer[1 << 16];
	ssize_t n;
	while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
		pending.append(buffer, n);
		size_t newline;
		std::lock_guard lock(mutex_);
		while ((newline = pending.find('\n')) != std::string::npos) {
			std::string line = pending.substr(0, newline);
			pending.erase(0, newline + 1);
			events_.push_back(nlohmann::json::parse(line, nullptr, false));
		}
		changed_.notify_all();
	}
	close(fd);
}

void DaemonProcess::read_stderr(int fd)
{
	char buffer[4096];
	ssize_t n;
	while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
		std::lock_guard lock(mutex_);
		stderr_.append(buffer, n);
		if (stderr_.find("rstwatchd: ready") != std::string::npos)
			ready_ = true;
		changed_.notify_all();
	}
	close(fd);
	std::lock_guard lock(mutex_);
	exited_ = true;
	changed_.notify_all();
}

std::optional<nlohmann::json> DaemonProcess::wait_for(const Predicate &predicate,
                                                      std::chrono::milliseconds timeout)
{
	std::unique_lock lock(mutex_);
	std::optional<nlohmann::json> found;
	size_t scanned = 0; // events before this index did not match
	changed_.wait_for(lock, timeout, [&] {
		for (; scanned < events_.size(); scanned++) {
			const nlohmann::json &event = events_[scanned];
			if (!event.is_discarded() && predicate(event)) {
				found = event;
				return true;
			}
		}
		return exited_;
	});
	return found;
}

std::vector<nlohmann::json> DaemonProcess::events_matching(const Predicate &predicate)
{
	std::lock_guard lock(mutex_);
	std::vector<nlohmann::json> matches;
	for (const nlohmann::json &event : events_)
		if (!event.is_discarded() && predicate(event))
			matches.push_back(event);
	return matches;
}

std::string DaemonProcess::stderr_text()
{
	std::lock_guard lock(mutex_);
	return stderr_;
}

} // namespace rstwatch::test
