#include "proxy_process.h"

#include "subprocess.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace rstwatch::test
{

namespace
{

constexpr auto kPollInterval = std::chrono::milliseconds(10);
constexpr auto kStopGrace = std::chrono::seconds(10);

std::string errno_text()
{
	return strerror(errno);
}

// The fields of /proc/<pid>/stat after the command name, which may itself
// hold spaces and parentheses: state first, then ppid.
bool read_stat(pid_t pid, char &state, pid_t &parent)
{
	std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
	std::string text;
	if (!std::getline(file, text))
		return false;
	size_t name_end = text.rfind(')');
	if (name_end == std::string::npos)
		return false;
	std::istringstream rest(text.substr(name_end + 1));
	return static_cast<bool>(rest >> state >> parent);
}

// Ended: no such process, or a zombie nobody has reaped yet.
bool process_ended(pid_t pid)
{
	char state = 0;
	pid_t parent = 0;
	return !read_stat(pid, state, parent) || state == 'Z' || state == 'X';
}

bool wait_until_ended(pid_t pid, std::chrono::milliseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	while (!process_ended(pid)) {
		if (std::chrono::steady_clock::now() >= deadline)
			return false;
		std::this_thread::sleep_for(kPollInterval);
	}
	return true;
}

// From the SigCgt mask in /proc/<pid>/status: has the process a handler
// for `signal`?
bool catches_signal(pid_t pid, int signal)
{
	std::ifstream status("/proc/" + std::to_string(pid) + "/status");
	std::string line;
	while (std::getline(status, line)) {
		if (line.rfind("SigCgt:", 0) != 0)
			continue;
		unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
		return (mask >> (signal - 1)) & 1;
	}
	return false;
}

} // namespace

TempDir::TempDir()
{
	char pattern[] = "/tmp/rstwatch-proxy-XXXXXX";
	if (!mkdtemp(pattern))
		throw std::runtime_error("mkdtemp failed: " + errno_text());
	path_ = pattern;
	// Workers drop root (nginx runs them as nobody) and may still need to
	// create their temp directories below the prefix.
	chmod(path_.c_str(), 0755);
}

TempDir::~TempDir()
{
	std::error_code error;
	std::filesystem::remove_all(path_, error);
	if (error)
		fprintf(stderr, "warning: could not remove %s: %s\n", path_.c_str(),
		        error.message().c_str());
}

void TempDir::write(const std::string &name, const std::string &text) const
{
	std::ofstream out(file(name));
	out << text;
	if (!out.flush())
		throw std::runtime_error("cannot write " + file(name));
}

std::string TempDir::read(const std::string &name) const
{
	std::ifstream in(file(name));
	std::stringstream text;
	text << in.rdbuf();
	return text.str();
}

std::string find_executable(const std::string &name)
{
	std::string directories = getenv("PATH") ? getenv("PATH") : "";
	directories += ":/usr/sbin:/sbin:/usr/local/sbin";
	std::istringstream list(directories);
	std::string directory;
	while (std::getline(list, directory, ':')) {
		if (directory.empty())
			continue;
		std::string candidate = directory + "/" + name;
		if (access(candidate.c_str(), X_OK) == 0)
			return candidate;
	}
	return "";
}

uint16_t pick_free_port()
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		throw std::runtime_error("socket failed: " + errno_text());
	sockaddr_in address{};
	address.sin_family = AF_INET;
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t length = sizeof(address);
	if (bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0 ||
	    getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
		std::string why = errno_text();
		close(fd);
		throw std::runtime_error("cannot pick a free port: " + why);
	}
	close(fd);
	return ntohs(address.sin_port);
}

bool listening_on_loopback(uint16_t port)
{
	std::ifstream table("/proc/net/tcp");
	std::string line;
	std::getline(table, line); // header
	while (std::getline(table, line)) {
		std::istringstream fields(line);
		std::string slot, local, remote, state;
		if (!(fields >> slot >> local >> remote >> state))
			continue;
		size_t colon = local.find(':');
		if (colon == std::string::npos || state != "0A") // TCP_LISTEN
			continue;
		std::string address = local.substr(0, colon);
		unsigned long listening_port = std::stoul(local.substr(colon + 1), nullptr, 16);
		if (listening_port == port && (address == "0100007F" || address == "00000000"))
			return true;
	}
	return false;
}

std::vector<pid_t> children_of(pid_t parent)
{
	std::vector<pid_t> children;
	DIR *proc = opendir("/proc");
	if (!proc)
		throw std::runtime_error("cannot open /proc: " + errno_text());
	while (dirent *entry = readdir(proc)) {
		char *end = nullptr;
		long pid = strtol(entry->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		char state = 0;
		pid_t ppid = 0;
		if (read_stat(static_cast<pid_t>(pid), state, ppid) && ppid == parent &&
		    state != 'Z')
			children.push_back(static_cast<pid_t>(pid));
	}
	closedir(proc);
	return children;
}

std::string comm_of(pid_t pid)
{
	std::ifstream file("/proc/" + std::to_string(pid) + "/comm");
	std::string comm;
	std::getline(file, comm);
	return comm;
}

ForegroundServer::ForegroundServer(const std::vector<std::string> &argv,
                                   const std::string &log_path)
    : log_path_(log_path)
{
	int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log < 0)
		throw std::runtime_error("cannot open " + log_path + ": " + errno_text());
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	master_pid_ = spawn(argv, {.in = devnull, .out = log, .err = log});
	std::string why = errno_text();
	close(devnull);
	close(log);
	if (master_pid_ < 0)
		throw std::runtime_error("fork failed: " + why);
}

ForegroundServer::~ForegroundServer()
{
	stop();
}

std::string ForegroundServer::log() const
{
	std::ifstream file(log_path_);
	std::stringstream text;
	text << file.rdbuf();
	return text.str();
}

std::vector<pid_t> ForegroundServer::wait_for_workers(const std::string &worker_comm, size_t count,
                                                      uint16_t port,
                                                      std::chrono::milliseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	for (;;) {
		int status = 0;
		if (!reaped_ && waitpid(master_pid_, &status, WNOHANG) == master_pid_) {
			reaped_ = true;
			exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
			throw std::runtime_error("the master (" + std::to_string(master_pid_) +
			                         ") exited with " + std::to_string(exit_code_) +
			                         " before its worker was up; its log:\n" + log());
		}
		std::vector<pid_t> workers;
		for (pid_t child : children_of(master_pid_))
			if (comm_of(child) == worker_comm)
				workers.push_back(child);
		// The master must also catch SIGTERM by now: HAProxy's master
		// re-executes itself after forking the worker, and a SIGTERM in
		// that window kills it outright and orphans the worker.
		if (workers.size() == count && listening_on_loopback(port) &&
		    catches_signal(master_pid_, SIGTERM)) {
			workers_.insert(workers_.end(), workers.begin(), workers.end());
			return workers;
		}
		if (std::chrono::steady_clock::now() >= deadline)
			throw std::runtime_error("not " + std::to_string(count) + " " +
			                         worker_comm + " worker(s) listening on port " +
			                         std::to_string(port) + " (" +
			                         std::to_string(workers.size()) +
			                         " workers found); the server's log:\n" + log());
		std::this_thread::sleep_for(kPollInterval);
	}
}

int ForegroundServer::stop()
{
	if (master_pid_ > 0 && !reaped_) {
		// Workers forked since wait_for_worker() must go as well.
		for (pid_t child : children_of(master_pid_))
			workers_.push_back(child);
		kill(master_pid_, SIGTERM);
		auto deadline = std::chrono::steady_clock::now() + kStopGrace;
		int status = 0;
		for (;;) {
			pid_t result = waitpid(master_pid_, &status, WNOHANG);
			if (result == master_pid_ || (result < 0 && errno != EINTR))
				break;
			if (std::chrono::steady_clock::now() >= deadline) {
				stragglers_ += "master " + std::to_string(master_pid_) + " ";
				kill(master_pid_, SIGKILL);
				waitpid(master_pid_, &status, 0);
				break;
			}
			std::this_thread::sleep_for(kPollInterval);
		}
		reaped_ = true;
		exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	}
	for (pid_t worker : workers_) {
		if (!wait_until_ended(worker, kStopGrace)) {
			stragglers_ += "worker " + std::to_string(worker) + " ";
			kill(worker, SIGKILL);
		}
	}
	workers_.clear();
	return exit_code_;
}

} // namespace rstwatch::test
