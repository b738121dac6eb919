#include "operator_daemon.h"

#include "daemon_process.h"
#include "test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace rstwatch::test
{

namespace
{

// The next line from `fd` (a pipe or a socket), keeping what follows it in
// `buffer`; nullopt at end of file or when `timeout` passes first.
std::optional<std::string> read_line_from(int fd, std::string &buffer,
                                          std::chrono::milliseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	for (;;) {
		size_t newline = buffer.find('\n');
		if (newline != std::string::npos) {
			std::string line = buffer.substr(0, newline);
			buffer.erase(0, newline + 1);
			return line;
		}
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
		    deadline - std::chrono::steady_clock::now());
		pollfd ready{fd, POLLIN, 0};
		if (left.count() <= 0 || poll(&ready, 1, static_cast<int>(left.count())) <= 0)
			return std::nullopt;
		char chunk[65536];
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n <= 0)
			return std::nullopt;
		buffer.append(chunk, static_cast<size_t>(n));
	}
}

} // namespace

std::string rstwatch_client_path()
{
	return RSTWATCH_CLIENT_PATH;
}

std::optional<double> metric(const std::string &scrape, const std::string &series)
{
	std::istringstream lines(scrape);
	std::string line;
	while (std::getline(lines, line)) {
		if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
		    line[series.size()] == ' ')
			return std::stod(line.substr(series.size() + 1));
	}
	return std::nullopt;
}

size_t series_count(const std::string &scrape)
{
	std::istringstream lines(scrape);
	std::string line;
	size_t count = 0;
	while (std::getline(lines, line))
		count += !line.empty() && line[0] != '#';
	return count;
}

std::vector<std::string> lines_of(const std::string &text)
{
	std::vector<std::string> lines;
	std::istringstream stream(text);
	for (std::string line; std::getline(stream, line);)
		lines.push_back(line);
	return lines;
}

OperatorDaemon::OperatorDaemon(const std::string &name)
{
	std::string pattern = "/tmp/rstwatch-" + name + "-XXXXXX";
	std::vector<char> buffer(pattern.begin(), pattern.end());
	buffer.push_back('\0');
	if (!mkdtemp(buffer.data()))
		throw std::runtime_error("mkdtemp failed: " + std::string(strerror(errno)));
	directory_ = buffer.data();
	// Others may pass through (the permission tests run as nobody); the
	// daemon's own run/ directory is what keeps them out.
	chmod(directory_.c_str(), 0755);
	socket_path_ = directory_ + "/run/rstwatch.sock";
}

OperatorDaemon::~OperatorDaemon()
{
	stop();
	std::error_code ec;
	std::filesystem::remove_all(directory_, ec);
}

bool OperatorDaemon::start(const Options &options)
{
	std::vector<std::string> argv = options.prefix;
	argv.push_back(rstwatchd_path());
	argv.insert(argv.end(), {"--quiet", "--socket", socket_path_, "--metrics-listen",
	                         "127.0.0.1:0", "--config", options.config});
	argv.insert(argv.end(), options.args.begin(), options.args.end());
	error_ = process_.start(argv, options.env) ? wait_until_ready(process_) : process_.error();
	if (!error_.empty())
		return false;
	std::string stderr_text = process_.stderr_text();
	size_t ready = stderr_text.find("rstwatchd: ready");
	std::string line = stderr_text.substr(ready, stderr_text.find('\n', ready) - ready);
	size_t at = line.find("http://127.0.0.1:");
	if (at != std::string::npos)
		metrics_port_ = static_cast<uint16_t>(std::stoi(line.substr(at + 17)));
	return true;
}

CommandResult OperatorDaemon::stop(int signal)
{
	CommandResult result;
	result.exit_code = process_.stop(signal);
	result.err = process_.stderr_text();
	return result;
}

bool OperatorDaemon::wait_for_stderr(const std::string &text, std::chrono::milliseconds timeout)
{
	return process_.wait_for_stderr(text, timeout) == Subprocess::Wait::met;
}

std::string OperatorDaemon::scrape() const
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return "";
	sockaddr_in address{};
	address.sin_family = AF_INET;
	address.sin_port = htons(metrics_port_);
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	timeval timeout{10, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	std::string response;
	if (connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0) {
		const char request[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
		if (send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL) ==
		    static_cast<ssize_t>(sizeof(request) - 1)) {
			char buffer[65536];
			ssize_t n;
			while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0)
				response.append(buffer, static_cast<size_t>(n));
		}
	}
	close(fd);
	size_t body = response.find("\r\n\r\n");
	if (response.rfind("HTTP/1.", 0) != 0 || response.find(" 200 ") > 12 ||
	    body == std::string::npos)
		return "";
	return response.substr(body + 4);
}

std::vector<nlohmann::json> OperatorDaemon::query_events(const std::vector<std::string> &filters,
                                                         size_t count,
                                                         std::chrono::milliseconds timeout) const
{
	std::vector<std::string> args = {"recent", "--json", "-n", "10000"};
	args.insert(args.end(), filters.begin(), filters.end());
	auto deadline = std::chrono::steady_clock::now() + timeout;
	std::vector<nlohmann::json> events;
	for (;;) {
		events.clear();
		CommandResult result = rstwatch(args);
		std::istringstream lines(result.out);
		for (std::string line; std::getline(lines, line);) {
			nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
			if (!event.is_discarded())
				events.push_back(std::move(event));
		}
		if (events.size() >= count || std::chrono::steady_clock::now() > deadline)
			return events;
		usleep(20000);
	}
}

CommandResult OperatorDaemon::rstwatch(const std::vector<std::string> &args,
                                       const std::vector<std::string> &prefix) const
{
	std::vector<std::string> argv = prefix;
	argv.push_back(rstwatch_client_path());
	argv.insert(argv.end(), {"--socket", socket_path_});
	argv.insert(argv.end(), args.begin(), args.end());
	return run_command(argv);
}

pid_t refused_connects(const std::string &comm, uint16_t port, int count)
{
	Child client(comm, [port, count](const Channel &channel) {
		uint32_t refused = 0;
		for (int i = 0; i < count; i++) {
			uint16_t client_port = 0;
			int fd = connect_from_known_port(AF_INET, port, client_port);
			if (fd == -ECONNREFUSED)
				refused++;
			else if (fd >= 0)
				close(fd);
		}
		channel.send(refused);
	});
	uint32_t refused = client.channel().receive(std::chrono::seconds(30));
	if (refused != static_cast<uint32_t>(count))
		throw std::runtime_error("only " + std::to_string(refused) + " of " +
		                         std::to_string(count) + " connects were refused");
	if (client.wait() != 0)
		throw std::runtime_error(comm + " failed");
	return client.pid();
}

BackgroundCommand::BackgroundCommand(const std::vector<std::string> &argv)
{
	if (!process_.start(argv, {},
	                    [this](std::string line) { lines_.push_back(std::move(line)); }))
		throw std::runtime_error(process_.error());
}

std::optional<std::string> BackgroundCommand::read_line(std::chrono::milliseconds timeout)
{
	std::optional<std::string> line;
	process_.wait_until(
	    [&] {
		    if (lines_.empty())
			    return false;
		    line = std::move(lines_.front());
		    lines_.pop_front();
		    return true;
	    },
	    timeout);
	return line;
}

RawQueryClient::RawQueryClient(const std::string &path)
{
	fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_un address{};
	address.sun_family = AF_UNIX;
	std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
	if (connect(fd_, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
		error_ = errno;
		close(fd_);
		fd_ = -1;
	}
}

RawQueryClient::~RawQueryClient()
{
	if (fd_ >= 0)
		close(fd_);
}

bool RawQueryClient::send(const std::string &data) const
{
	size_t sent = 0;
	while (sent < data.size()) {
		ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
		if (n <= 0)
			return false;
		sent += static_cast<size_t>(n);
	}
	return true;
}

std::optional<std::string> RawQueryClient::read_line(std::chrono::milliseconds timeout)
{
	return read_line_from(fd_, buffer_, timeout);
}

bool RawQueryClient::wait_closed(std::chrono::milliseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	for (;;) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
		    deadline - std::chrono::steady_clock::now());
		pollfd ready{fd_, POLLIN, 0};
		if (left.count() <= 0 || poll(&ready, 1, static_cast<int>(left.count())) <= 0)
			return false;
		char chunk[65536];
		ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n > 0)
			buffer_.append(chunk, static_cast<size_t>(n));
	}
}

NotifySocket::NotifySocket(const std::string &path) : path_(path)
{
	fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sockaddr_un address{};
	address.sun_family = AF_UNIX;
	std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
	unlink(path.c_str());
	if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0)
		throw std::runtime_error("cannot bind the notify socket " + path + ": " +
		                         strerror(errno));
}

NotifySocket::~NotifySocket()
{
	close(fd_);
	unlink(path_.c_str());
}

std::optional<std::string> NotifySocket::receive(std::chrono::milliseconds timeout)
{
	pollfd ready{fd_, POLLIN, 0};
	if (poll(&ready, 1, static_cast<int>(timeout.count())) <= 0)
		return std::nullopt;
	char buffer[4096];
	ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
	if (n < 0)
		return std::nullopt;
	seen_.emplace_back(buffer, static_cast<size_t>(n));
	return seen_.back();
}

std::optional<std::string> NotifySocket::wait_for(const std::string &text,
                                                  std::chrono::milliseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	for (;;) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
		    deadline - std::chrono::steady_clock::now());
		if (left.count() <= 0)
			return std::nullopt;
		std::optional<std::string> message = receive(left);
		if (!message)
			return std::nullopt;
		if (message->find(text) != std::string::npos)
			return message;
	}
}

} // namespace rstwatch::test
