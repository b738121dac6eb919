#include "subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char **environ;

namespace rstwatch::test
{

namespace
{

// The test's environment with `extra` entries added or replacing theirs.
std::vector<std::string> environment_with(const std::vector<std::string> &extra)
{
	std::vector<std::string> environment;
	for (char **entry = environ; *entry; entry++)
		environment.emplace_back(*entry);
	for (const std::string &entry : extra) {
		std::string name = entry.substr(0, entry.find('='));
		std::erase_if(environment, [&](const std::string &existing) {
			return existing.compare(0, name.size() + 1, name + "=") == 0;
		});
		environment.push_back(entry);
	}
	return environment;
}

std::vector<char *> null_terminated(const std::vector<std::string> &strings)
{
	std::vector<char *> pointers;
	for (const std::string &text : strings)
		pointers.push_back(const_cast<char *>(text.c_str()));
	pointers.push_back(nullptr);
	return pointers;
}

// In the forked child: exec, or report why on stderr and _exit(127).
[[noreturn]] void exec_or_exit(char *const argv[], char *const envp[])
{
	execve(argv[0], argv, envp);
	dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

} // namespace

pid_t spawn(const std::vector<std::string> &argv, const ChildStreams &streams,
            const std::vector<std::string> &env)
{
	// Everything is allocated before fork: the child of a threaded
	// process should only make system calls.
	std::vector<std::string> environment = environment_with(env);
	std::vector<char *> args = null_terminated(argv);
	std::vector<char *> envp = null_terminated(environment);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	// SIGTERM rather than SIGKILL: a proxy's master then stops its
	// workers too instead of orphaning them.
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (streams.in >= 0)
		dup2(streams.in, STDIN_FILENO);
	if (streams.out >= 0)
		dup2(streams.out, STDOUT_FILENO);
	if (streams.err >= 0)
		dup2(streams.err, STDERR_FILENO);
	exec_or_exit(args.data(), envp.data());
}

int wait_exit_code(pid_t pid)
{
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

CommandResult run_command(const std::vector<std::string> &argv, const std::vector<std::string> &env,
                          std::chrono::milliseconds timeout)
{
	CommandResult result;
	Subprocess command;
	if (!command.start(argv, env)) {
		result.err = command.error();
		return result;
	}
	bool timed_out =
	    command.wait_until([] { return false; }, timeout) == Subprocess::Wait::timed_out;
	if (timed_out)
		command.send_signal(SIGKILL);
	result.exit_code = command.wait();
	result.out = command.stdout_text();
	result.err = command.stderr_text();
	if (timed_out) {
		result.exit_code = -1;
		result.err += "[timed out]";
	}
	return result;
}

Subprocess::~Subprocess()
{
	stop();
}

bool Subprocess::start(const std::vector<std::string> &argv, const std::vector<std::string> &env,
                       LineHandler on_stdout_line)
{
	int out_pipe[2], err_pipe[2];
	if (pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC) ||
	    pipe2(reaped_signal_, O_CLOEXEC)) {
		error_ = "pipe failed: " + std::string(strerror(errno));
		output_closed_ = true;
		return false;
	}
	on_stdout_line_ = std::move(on_stdout_line);
	pid_ = spawn(argv, {.out = out_pipe[1], .err = err_pipe[1]}, env);
	if (pid_ < 0)
		error_ = "fork failed: " + std::string(strerror(errno));
	close(out_pipe[1]);
	close(err_pipe[1]);
	reader_ =
	    std::thread([this, out = out_pipe[0], err = err_pipe[0]] { read_output(out, err); });
	return pid_ > 0;
}

void Subprocess::read_output(int stdout_fd, int stderr_fd)
{
	pollfd fds[3] = {
	    {stdout_fd, POLLIN, 0}, {stderr_fd, POLLIN, 0}, {reaped_signal_[0], POLLIN, 0}};
	char buffer[65536];
	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		bool had_output = false;
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || fds[i].revents == 0)
				continue;
			had_output = true;
			ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				continue;
			}
			std::lock_guard lock(mutex_);
			if (i == 0)
				take_stdout(buffer, static_cast<size_t>(n));
			else
				stderr_.append(buffer, static_cast<size_t>(n));
			changed_.notify_all();
		}
		// What the child wrote before it exited is read first.
		if (!had_output && fds[2].revents != 0)
			break;
	}
	for (int i = 0; i < 2; i++) {
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	}
	std::lock_guard lock(mutex_);
	output_closed_ = true;
	changed_.notify_all();
}

void Subprocess::take_stdout(const char *data, size_t size)
{
	if (!on_stdout_line_) {
		stdout_.append(data, size);
		return;
	}
	// A last line without its newline is never handed over.
	partial_line_.append(data, size);
	size_t newline;
	while ((newline = partial_line_.find('\n')) != std::string::npos) {
		on_stdout_line_(partial_line_.substr(0, newline));
		partial_line_.erase(0, newline + 1);
	}
}

Subprocess::Wait Subprocess::wait_until(const std::function<bool()> &condition,
                                        std::chrono::milliseconds timeout)
{
	std::unique_lock lock(mutex_);
	bool met = false;
	bool woken = changed_.wait_for(lock, timeout, [&] {
		met = condition();
		return met || output_closed_;
	});
	if (met)
		return Wait::met;
	return woken ? Wait::output_closed : Wait::timed_out;
}

Subprocess::Wait Subprocess::wait_for_stderr(const std::string &text,
                                             std::chrono::milliseconds timeout)
{
	return wait_until([&] { return stderr_.find(text) != std::string::npos; }, timeout);
}

void Subprocess::with_output_locked(const std::function<void()> &work)
{
	std::lock_guard lock(mutex_);
	work();
}

void Subprocess::send_signal(int signal) const
{
	// Once reaped, the pid may already be someone else's.
	if (pid_ > 0 && !reaped_)
		kill(pid_, signal);
}

bool Subprocess::running() const
{
	return pid_ > 0 && !reaped_ && kill(pid_, 0) == 0;
}

int Subprocess::wait()
{
	int exit_code = -1;
	if (pid_ > 0 && !reaped_) {
		exit_code = wait_exit_code(pid_);
		reaped_ = true;
		if (write(reaped_signal_[1], "", 1) != 1)
			perror("signalling the output reader");
	}
	if (reader_.joinable())
		reader_.join();
	for (int &fd : reaped_signal_) {
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	return exit_code;
}

int Subprocess::stop(int signal)
{
	send_signal(signal);
	return wait();
}

std::string Subprocess::stdout_text()
{
	std::lock_guard lock(mutex_);
	return stdout_;
}

std::string Subprocess::stderr_text()
{
	std::lock_guard lock(mutex_);
	return stderr_;
}

} // namespace rstwatch::test
