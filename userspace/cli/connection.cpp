#include "cli/connection.h"

#include "common/unix_address.h"
#include "common/wire.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace rstwatch::cli
{

using nlohmann::json;

int exit_code_for_error(std::string_view code)
{
	if (code == wire::error::kBadRequest || code == wire::error::kUnknownCommand ||
	    code == wire::error::kRequestTooLarge)
		return kBadRequest;
	if (code == wire::error::kPermissionDenied)
		return kPermissionDenied;
	return kFailure;
}

Connection::Connection(const std::string &path, int timeout_ms) : timeout_ms_(timeout_ms)
{
	fd_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!fd_)
		throw Failure{kFailure, std::string("socket: ") + strerror(errno)};
	std::optional<sockaddr_un> address = unix_socket_address(path);
	if (!address)
		throw Failure{kBadRequest, "socket path too long: " + path};
	if (connect(fd_.get(), reinterpret_cast<sockaddr *>(&*address), sizeof(*address)) != 0) {
		int error = errno;
		if (error == EACCES || error == EPERM)
			throw Failure{kPermissionDenied,
			              "permission denied on " + path +
			                  " (rstwatchd answers root and the rstwatch group)"};
		if (error == ENOENT || error == ECONNREFUSED || error == ENOTDIR)
			throw Failure{kNoDaemon, "no rstwatchd is answering on " + path + " (" +
			                             strerror(error) +
			                             "); is the rstwatch service running?"};
		throw Failure{kFailure, "cannot connect to " + path + ": " + strerror(error)};
	}
}

int Connection::send_line(const std::string &line)
{
	std::string data = line + "\n";
	size_t sent = 0;
	while (sent < data.size()) {
		ssize_t n = send(fd_.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EPIPE;
		sent += static_cast<size_t>(n);
	}
	return 0;
}

std::optional<std::string> Connection::read_line(bool wait_limited)
{
	// Only what arrived since the last look is searched: an answer
	// of a megabyte comes in many pieces.
	size_t searched = 0;
	for (;;) {
		size_t newline = buffer_.find('\n', searched);
		if (newline != std::string::npos) {
			std::string line;
			if (newline + 1 == buffer_.size()) {
				// The usual case: the line is all there is.
				buffer_.pop_back();
				line.swap(buffer_);
			} else {
				line = buffer_.substr(0, newline);
				buffer_.erase(0, newline + 1);
			}
			return line;
		}
		searched = buffer_.size();
		pollfd ready{fd_.get(), POLLIN, 0};
		int n = poll(&ready, 1, wait_limited ? timeout_ms_ : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			throw Failure{kFailure, "rstwatchd did not answer within " +
			                            std::to_string(timeout_ms_) + " ms"};
		char chunk[65536];
		ssize_t got = recv(fd_.get(), chunk, sizeof(chunk), 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return std::nullopt;
		buffer_.append(chunk, static_cast<size_t>(got));
	}
}

json parse_response(const std::string &line)
{
	json response = json::parse(line, nullptr, false);
	if (response.is_discarded() || !response.is_object())
		throw Failure{kFailure,
		              "rstwatchd sent something that is not JSON: " + line.substr(0, 200)};
	if (response.value(wire::response::kOk, false))
		return response;
	std::string code = wire::error::kInternal, message = "no message";
	if (response.contains(wire::response::kError) &&
	    response[wire::response::kError].is_object()) {
		const json &error = response[wire::response::kError];
		code = error.value(wire::response::kCode, code);
		message = error.value(wire::response::kMessage, message);
	}
	throw Failure{exit_code_for_error(code), "rstwatchd: " + code + ": " + message};
}

std::string send_request_raw(Connection &connection, const json &request)
{
	int send_error = connection.send_line(request.dump());
	std::optional<std::string> line = connection.read_line();
	if (!line)
		throw Failure{kFailure, send_error
		                            ? "sending the request failed: " +
		                                  std::string(strerror(send_error))
		                            : "rstwatchd closed the connection without answering"};
	return std::move(*line);
}

json send_request(Connection &connection, const json &request)
{
	return parse_response(send_request_raw(connection, request));
}

} // namespace rstwatch::cli
