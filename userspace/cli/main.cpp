// rstwatch: asks a running rstwatchd about recent resets over its query
// socket and prints aligned tables (or the daemon's JSON with --json).
//
// Exit codes: 0 success, 1 any other failure (including an event id the
// store no longer holds), 2 bad request (usage or the daemon rejected it),
// 3 no daemon answering on the socket, 4 permission denied.
#include "common/defaults.h"
#include "common/json_text.h"
#include "common/wire.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace
{

using nlohmann::json;
namespace wire = rstwatch::wire;

enum ExitCode : int {
	kSuccess = 0,
	kFailure = 1,
	kBadRequest = 2,
	kNoDaemon = 3,
	kPermissionDenied = 4,
};

// An error that ends the program with this exit code and message.
struct Failure {
	int code;
	std::string message;
};

struct Filters {
	std::optional<std::string> since;
	std::optional<uint64_t> after_id;
	std::optional<std::string> direction;
	std::optional<std::string> cause;
	std::optional<uint32_t> pid;
	std::optional<std::string> comm;
	std::optional<uint16_t> local_port;
	std::optional<uint16_t> remote_port;
	std::optional<std::string> address;

	void add_to(json &request) const
	{
		if (since) {
			// Plain digits are Unix seconds; the daemon takes them as a
			// number, durations and times as strings.
			if (!since->empty() && since->size() <= 12 &&
			    since->find_first_not_of("0123456789") == std::string::npos)
				request[wire::field::kSince] = std::stoull(*since);
			else
				request[wire::field::kSince] = *since;
		}
		if (after_id)
			request[wire::field::kAfterId] = *after_id;
		if (direction)
			request[wire::field::kDirection] = *direction;
		if (cause)
			request[wire::field::kCause] = *cause;
		if (pid)
			request[wire::field::kPid] = *pid;
		if (comm)
			request[wire::field::kComm] = *comm;
		if (local_port)
			request[wire::field::kLocalPort] = *local_port;
		if (remote_port)
			request[wire::field::kRemotePort] = *remote_port;
		if (address)
			request[wire::field::kAddress] = *address;
	}
};

void add_filter_options(CLI::App &command, Filters &filters)
{
	command.add_option("--since", filters.since,
	                   "Only resets since: a duration back from now (90s, 5m, 1h30m, 2d), an "
	                   "RFC 3339 time or Unix seconds");
	command.add_option("--after-id", filters.after_id, "Only resets with a larger id");
	command.add_option("--direction", filters.direction, "sent or received")
	    ->check(CLI::IsMember({wire::direction::kSent, wire::direction::kReceived}));
	command.add_option("--cause", filters.cause, "One cause (refused, peer_reset, ...)");
	command.add_option("--pid", filters.pid, "Attributed to this process id");
	command.add_option("--comm", filters.comm, "Attributed to this process name");
	command.add_option("--local-port", filters.local_port, "This local port");
	command.add_option("--remote-port", filters.remote_port, "This remote port");
	command.add_option("--address", filters.address,
	                   "Either end is this address or in this prefix (10.0.0.0/8)");
}

class Connection
{
public:
	Connection(const std::string &path, int timeout_ms) : timeout_ms_(timeout_ms)
	{
		fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd_ < 0)
			throw Failure{kFailure, std::string("socket: ") + strerror(errno)};
		sockaddr_un address{};
		address.sun_family = AF_UNIX;
		if (path.size() >= sizeof(address.sun_path))
			throw Failure{kBadRequest, "socket path too long: " + path};
		std::memcpy(address.sun_path, path.data(), path.size());
		if (connect(fd_, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
			int error = errno;
			if (error == EACCES || error == EPERM)
				throw Failure{
				    kPermissionDenied,
				    "permission denied on " + path +
				        " (rstwatchd answers root and the rstwatch group)"};
			if (error == ENOENT || error == ECONNREFUSED || error == ENOTDIR)
				throw Failure{kNoDaemon, "no rstwatchd is answering on " + path +
				                             " (" + strerror(error) +
				                             "); is the rstwatch service running?"};
			throw Failure{kFailure,
			              "cannot connect to " + path + ": " + strerror(error)};
		}
	}
	~Connection() { close(fd_); }
	Connection(const Connection &) = delete;
	Connection &operator=(const Connection &) = delete;

	// False when the daemon has already hung up: it may have said why
	// (refused the connection) before the request went out.
	// Returns 0, or the errno of a failed send.
	int send_line(const std::string &line)
	{
		std::string data = line + "\n";
		size_t sent = 0;
		while (sent < data.size()) {
			ssize_t n = send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return n < 0 ? errno : EPIPE;
			sent += static_cast<size_t>(n);
		}
		return 0;
	}

	// The next line, or nullopt when the daemon closed the connection.
	// `wait` false: no timeout (follow).
	std::optional<std::string> read_line(bool wait_limited = true)
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
			pollfd ready{fd_, POLLIN, 0};
			int n = poll(&ready, 1, wait_limited ? timeout_ms_ : -1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0)
				throw Failure{kFailure, "rstwatchd did not answer within " +
				                            std::to_string(timeout_ms_) + " ms"};
			char chunk[65536];
			ssize_t got = recv(fd_, chunk, sizeof(chunk), 0);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				return std::nullopt;
			buffer_.append(chunk, static_cast<size_t>(got));
		}
	}

private:
	int fd_ = -1;
	int timeout_ms_;
	std::string buffer_;
};

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
	int exit_code = kFailure;
	if (code == wire::error::kBadRequest || code == wire::error::kUnknownCommand ||
	    code == wire::error::kRequestTooLarge)
		exit_code = kBadRequest;
	else if (code == wire::error::kPermissionDenied)
		exit_code = kPermissionDenied;
	throw Failure{exit_code, "rstwatchd: " + code + ": " + message};
}

std::string send_request_raw(Connection &connection, const json &request);

// The daemon's first answer to `request`.
json send_request(Connection &connection, const json &request)
{
	return parse_response(send_request_raw(connection, request));
}

std::string text(const json &value)
{
	if (value.is_null())
		return "-";
	if (value.is_string())
		return value.get<std::string>();
	return value.dump();
}

// "2026-11-23T20:25:00.123456789Z" -> "2026-11-23T20:25:00.123Z"
std::string short_time(const json &timestamp)
{
	std::string value = text(timestamp);
	if (value.size() > 24 && value.back() == 'Z')
		return value.substr(0, 23) + "Z";
	return value;
}

class Table
{
public:
	Table() = default;
	explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
	void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
	void print() const
	{
		if (rows_.empty())
			return;
		std::vector<size_t> widths(rows_.front().size(), 0);
		for (const auto &row : rows_) {
			for (size_t i = 0; i < row.size() && i < widths.size(); i++)
				widths[i] = std::max(widths[i], row[i].size());
		}
		for (const auto &row : rows_)
			print_row(row, widths);
	}
	static void print_row(const std::vector<std::string> &row,
	                      const std::vector<size_t> &widths)
	{
		std::string line;
		for (size_t i = 0; i < row.size(); i++) {
			line += row[i];
			if (i + 1 < row.size())
				line.append(
				    widths[i] > row[i].size() ? widths[i] - row[i].size() + 2 : 2,
				    ' ');
		}
		std::puts(line.c_str());
	}

private:
	std::vector<std::vector<std::string>> rows_;
};

const std::vector<std::string> kEventHeader = {"ID",     "TIME",  "DIR", "LOCAL",
                                               "REMOTE", "CAUSE", "PID", "COMM"};

std::vector<std::string> event_row(const json &event)
{
	return {text(event["id"]),        short_time(event["timestamp"]),
	        text(event["direction"]), text(event["local"]),
	        text(event["remote"]),    text(event["cause"]),
	        text(event["pid"]),       text(event["comm"])};
}

// The daemon's first answer to `request`, unparsed.
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

int run_recent(Connection &connection, json request, bool as_json)
{
	if (as_json) {
		// Each event goes out as the daemon wrote it: parsing a
		// thousand events only to print them again took longer than
		// the daemon took to write them.
		std::string line = send_request_raw(connection, request);
		std::optional<rstwatch::ArrayMember> split =
		    rstwatch::split_array_member(line, wire::response::kEvents);
		parse_response(split ? split->rest : line);
		if (split) {
			// stdout is line-buffered (for follow): hand it large
			// pieces, not a write per event.
			std::string out;
			for (std::string_view event : split->elements) {
				out.append(event);
				out.push_back('\n');
				if (out.size() >= 64 * 1024) {
					fwrite(out.data(), 1, out.size(), stdout);
					out.clear();
				}
			}
			fwrite(out.data(), 1, out.size(), stdout);
		}
		return kSuccess;
	}
	json response = send_request(connection, request);
	const json &events = response[wire::response::kEvents];
	if (events.empty()) {
		std::puts("no resets match");
		return kSuccess;
	}
	Table table(kEventHeader);
	for (const json &event : events)
		table.add(event_row(event));
	table.print();
	return kSuccess;
}

int run_top(Connection &connection, json request, bool as_json)
{
	json response = send_request(connection, request);
	if (as_json) {
		std::puts(response.dump().c_str());
		return kSuccess;
	}
	const std::string by = response.value(wire::field::kBy, "");
	const json &groups = response["groups"];
	if (groups.empty()) {
		std::puts("no resets match");
		return kSuccess;
	}
	std::vector<std::string> header;
	if (by == wire::group_by::kProcess)
		header = {"COMM", "PID"};
	else if (by == wire::group_by::kRemoteAddress)
		header = {"REMOTE ADDRESS"};
	else if (by == wire::group_by::kLocalPort)
		header = {"LOCAL PORT"};
	else
		header = {"CAUSE"};
	for (const char *column : {"COUNT", "SENT", "RECEIVED", "TOP CAUSE", "LAST SEEN"})
		header.emplace_back(column);
	Table table(header);
	for (const json &group : groups) {
		std::vector<std::string> row;
		if (by == wire::group_by::kProcess) {
			row = {group["comm"].is_null() ? "(unattributed)" : text(group["comm"]),
			       text(group["pid"])};
		} else {
			row = {text(group["key"])};
		}
		for (const char *field : {"count", "sent", "received", "top_cause"})
			row.push_back(text(group[field]));
		row.push_back(short_time(group["last_seen"]));
		table.add(std::move(row));
	}
	table.print();
	std::printf("%s resets in %s groups\n", text(response["matched"]).c_str(),
	            text(response["group_count"]).c_str());
	return kSuccess;
}

int run_stats(Connection &connection, bool as_json)
{
	json response = send_request(connection, {{wire::field::kCommand, wire::command::kStats}});
	if (as_json) {
		std::puts(response.dump().c_str());
		return kSuccess;
	}
	Table table;
	auto add = [&](const std::string &name, const json &value) {
		table.add({name, text(value)});
	};
	add("version", response["version"]);
	add("started", response["started"]);
	add("uptime seconds", response["uptime_seconds"]);
	add("resets sent", response["sent"]);
	add("resets received", response["received"]);
	add("events decoded", response["events"]);
	add("events lost", response["lost_events"]);
	add("decode errors", response["decode_errors"]);
	const json &store = response["store"];
	table.add({"store", text(store["events"]) + " of " + text(store["capacity"]) +
	                        " events (ids " + text(store["oldest_id"]) + " to " +
	                        text(store["newest_id"]) + ")"});
	add("clients", response["clients"]);
	add("followers", response["followers"]);
	for (const char *direction : {wire::direction::kSent, wire::direction::kReceived}) {
		for (const auto &[cause, count] : response["by_cause"][direction].items())
			table.add({std::string(direction) + " " + cause, text(count)});
	}
	for (const auto &[reason, count] : response["clients_dropped"].items())
		table.add({"clients dropped: " + reason, text(count)});
	for (const json &hook : response["hooks"])
		table.add({"hook " + text(hook["tracepoint"]), text(hook["variant"])});
	table.print();
	return kSuccess;
}

int run_follow(Connection &connection, json request, bool as_json)
{
	setvbuf(stdout, nullptr, _IOLBF, 0);
	send_request(connection, request);
	// Rows arrive one at a time, so columns get fixed widths.
	const std::vector<size_t> widths = {8, 24, 8, 22, 22, 22, 7, 15};
	if (!as_json)
		Table::print_row(kEventHeader, widths);
	while (std::optional<std::string> line = connection.read_line(false)) {
		if (as_json) {
			std::puts(line->c_str());
			continue;
		}
		json event = json::parse(*line, nullptr, false);
		if (event.is_discarded() || !event.is_object())
			continue;
		if (event.contains(wire::response::kOk))
			parse_response(*line); // an error line ends the stream
		else
			Table::print_row(event_row(event), widths);
	}
	throw Failure{kFailure, "rstwatchd ended the stream (it drops followers that fall too "
	                        "far behind, and stops on SIGTERM)"};
}

void print_line(const std::string &name, const std::string &value)
{
	std::printf("%-12s %s\n", (name + ":").c_str(), value.c_str());
}

int run_explain(Connection &connection, uint64_t id, bool as_json)
{
	json response = send_request(
	    connection, {{wire::field::kCommand, wire::command::kExplain}, {wire::field::kId, id}});
	if (as_json) {
		std::puts(response.dump().c_str());
		return kSuccess;
	}
	const json &event = response["event"];
	std::printf("reset %s at %s: %s %s %s %s\n", text(event["id"]).c_str(),
	            text(event["timestamp"]).c_str(), text(event["direction"]).c_str(),
	            text(event["local"]).c_str(),
	            event["direction"] == wire::direction::kSent ? "->" : "<-",
	            text(event["remote"]).c_str());
	print_line("cause", text(event["cause"]));
	std::string evidence;
	for (const json &fact : event["evidence"])
		evidence += (evidence.empty() ? "" : ", ") + text(fact);
	print_line("evidence", evidence.empty() ? "-" : evidence);
	print_line("remedy", text(event["remedy"]));
	std::string process = event["pid"].is_null()
	                          ? "unknown (the kernel sent it for no process)"
	                          : text(event["comm"]) + " (pid " + text(event["pid"]) +
	                                ", known as " + text(event["owner_source"]) + ")";
	print_line("process", process);
	if (event.value("exiting", false))
		print_line("exiting", "yes, signal " + text(event["exit_signal"]));
	print_line("state", text(event["state"]));
	print_line("reason", text(event["kernel_reason"]));
	print_line("unread", text(event["unread_bytes"]) + " bytes");
	print_line("unsent", text(event["unsent_bytes"]) + " bytes");
	if (event.value("linger_on", false))
		print_line("linger", text(event["linger_seconds"]) + " s");
	print_line("idle", "sent " + text(event["idle_since_send_ms"]) + " ms ago, received " +
	                       text(event["idle_since_receive_ms"]) + " ms ago");
	if (!event["cgroup_path"].is_null() && !text(event["cgroup_path"]).empty())
		print_line("cgroup", text(event["cgroup_path"]));
	if (!event["peer_event_id"].is_null())
		print_line("peer", "reset " + text(event["peer_event_id"]) + " (" +
		                       text(event["peer_cause"]) + ") by " +
		                       text(event["peer_comm"]) + " (pid " +
		                       text(event["peer_pid"]) + ")");
	return kSuccess;
}

} // namespace

int main(int argc, char **argv)
{
	CLI::App app{"rstwatch: asks rstwatchd who sent the TCP resets on this host, and why.\n"
	             "Exit codes: 0 success, 1 failure, 2 bad request, 3 no daemon, 4 permission "
	             "denied."};
	app.set_version_flag("--version", std::string("rstwatch ") + RSTWATCH_VERSION);
	std::string socket_path = rstwatch::kDefaultSocketPath;
	bool as_json = false;
	int timeout_ms = 10000;
	app.add_option("--socket", socket_path, "rstwatchd's query socket")
	    ->envname("RSTWATCH_SOCKET")
	    ->capture_default_str();
	app.add_flag("--json", as_json, "Print the daemon's JSON instead of tables");
	app.add_option("--timeout-ms", timeout_ms, "How long to wait for an answer")
	    ->check(CLI::Range(1, 3600000))
	    ->capture_default_str();
	app.require_subcommand(1);
	// --json and --socket work after the command too: rstwatch recent --json.
	app.fallthrough();

	Filters filters;
	size_t limit = 0;
	std::string by = wire::group_by::kProcess;
	uint64_t id = 0;

	CLI::App *recent =
	    app.add_subcommand(wire::command::kRecent, "The latest resets, oldest first");
	add_filter_options(*recent, filters);
	recent->add_option("-n,--limit", limit, "How many (default 100, at most 10000)");
	CLI::App *top = app.add_subcommand(
	    wire::command::kTop, "Who sends or gets the most resets: resets grouped and counted");
	add_filter_options(*top, filters);
	top->add_option("--by", by, "process, remote_address, local_port or cause")
	    ->check(
	        CLI::IsMember({wire::group_by::kProcess, wire::group_by::kRemoteAddress, "remote",
	                       wire::group_by::kLocalPort, "port", wire::group_by::kCause}))
	    ->capture_default_str();
	top->add_option("-n,--limit", limit, "How many groups (default 10)");
	CLI::App *stats =
	    app.add_subcommand(wire::command::kStats, "Totals and the daemon's state");
	CLI::App *follow =
	    app.add_subcommand(wire::command::kFollow, "Print resets as they happen");
	add_filter_options(*follow, filters);
	CLI::App *explain =
	    app.add_subcommand(wire::command::kExplain, "Everything known about one reset");
	explain->add_option("id", id, "The reset's id (first column of recent)")->required();

	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		int code = app.exit(e);
		return code == 0 ? kSuccess : kBadRequest;
	}

	try {
		Connection connection(socket_path, timeout_ms);
		if (*stats)
			return run_stats(connection, as_json);
		if (*explain)
			return run_explain(connection, id, as_json);
		json request;
		filters.add_to(request);
		if (limit)
			request[wire::field::kLimit] = limit;
		if (*recent) {
			request[wire::field::kCommand] = wire::command::kRecent;
			return run_recent(connection, request, as_json);
		}
		if (*top) {
			request[wire::field::kCommand] = wire::command::kTop;
			request[wire::field::kBy] = by == "remote" ? wire::group_by::kRemoteAddress
			                            : by == "port" ? wire::group_by::kLocalPort
			                                           : by;
			return run_top(connection, request, as_json);
		}
		request[wire::field::kCommand] = wire::command::kFollow;
		return run_follow(connection, request, as_json);
	} catch (const Failure &failure) {
		std::fflush(stdout);
		std::fprintf(stderr, "rstwatch: %s\n", failure.message.c_str());
		return failure.code;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "rstwatch: %s\n", e.what());
		return kFailure;
	}
}
