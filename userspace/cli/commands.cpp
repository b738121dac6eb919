#include "cli/commands.h"

#include "cli/coverage_note.h"
#include "cli/explain.h"
#include "cli/table.h"
#include "common/defaults.h"
#include "common/json_text.h"
#include "common/text_escape.h"
#include "common/wire.h"

#include <cstdio>
#include <string_view>
#include <vector>

namespace rstwatch::cli
{

using nlohmann::json;

void Filters::add_to(json &request) const
{
	// Plain digits are Unix seconds; the daemon takes them as a number,
	// durations and times as strings.
	auto add_time = [&request](const char *field, const std::optional<std::string> &time) {
		if (!time)
			return;
		if (!time->empty() && time->size() <= 12 &&
		    time->find_first_not_of("0123456789") == std::string::npos)
			request[field] = std::stoull(*time);
		else
			request[field] = *time;
	};
	add_time(wire::field::kSince, since);
	add_time(wire::field::kUntil, until);
	auto add_if_given = [&request](const char *field, const auto &value) {
		if (value)
			request[field] = *value;
	};
	add_if_given(wire::field::kAfterId, after_id);
	add_if_given(wire::field::kDirection, direction);
	add_if_given(wire::field::kCause, cause);
	add_if_given(wire::field::kPid, pid);
	add_if_given(wire::field::kComm, comm);
	add_if_given(wire::field::kLocalPort, local_port);
	add_if_given(wire::field::kRemotePort, remote_port);
	add_if_given(wire::field::kAddress, address);
	add_if_given(wire::field::kUnit, unit);
	add_if_given(wire::field::kContainer, container);
	add_if_given(wire::field::kPod, pod);
	add_if_given(wire::field::kNamespace, pod_namespace);
	add_if_given(wire::field::kNetns, netns);
}

namespace
{

// Event ids are unsigned 64-bit: without this, "-1" would wrap to the
// largest id instead of being refused.
const CLI::Validator kWholeNumber(
    [](std::string &value) -> std::string {
	    if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos)
		    return "must be a whole number of 0 or more (an id from the ID column of "
		           "recent), not " +
		           value;
	    return "";
    },
    "ID");

// The filters a live socket has too (audit takes only these).
void add_socket_filter_options(CLI::App &command, Filters &filters)
{
	command.add_option("--pid", filters.pid, "Attributed to this process id");
	command.add_option("--comm", filters.comm, "Attributed to this process name");
	command.add_option("--local-port", filters.local_port, "This local port");
	command.add_option("--remote-port", filters.remote_port, "This remote port");
	command.add_option("--address", filters.address,
	                   "Either end is this address or in this prefix (10.0.0.0/8, ::1); with "
	                   "a port as the tables print it, that end has the port too "
	                   "(127.0.0.1:52779, [::1]:8080)");
	command.add_option("--unit", filters.unit,
	                   "The socket's systemd unit (nginx.service; nginx means nginx.service)");
	command.add_option("--container", filters.container,
	                   "The socket's container: its id or the first digits of it");
	command.add_option("--pod", filters.pod,
	                   "The socket's Kubernetes pod: its name, namespace/name or uid");
	command.add_option("--namespace", filters.pod_namespace,
	                   "The socket's Kubernetes namespace");
	command.add_option("--netns", filters.netns,
	                   "The network namespace inode (ls -L -i /proc/PID/ns/net)");
}

void add_filter_options(CLI::App &command, Filters &filters)
{
	command.add_option("--since", filters.since,
	                   "Only resets since: a duration back from now (90s, 5m, 1h30m, 2d), an "
	                   "RFC 3339 time or Unix seconds");
	command.add_option("--after-id", filters.after_id, "Only resets with a larger id")
	    ->check(kWholeNumber);
	command.add_option("--direction", filters.direction, "sent or received")
	    ->check(CLI::IsMember({wire::direction::kSent, wire::direction::kReceived}));
	command.add_option("--cause", filters.cause, "One cause (refused, peer_reset, ...)");
	add_socket_filter_options(command, filters);
}

// --until: recent and top answer a window that ends; follow never does.
void add_until_option(CLI::App &command, Filters &filters)
{
	command.add_option("--until", filters.until,
	                   "Only resets before: a duration back from now, an RFC 3339 time or "
	                   "Unix seconds");
}

const std::vector<std::string> kEventHeader = {"ID",     "TIME",  "DIR", "LOCAL",
                                               "REMOTE", "CAUSE", "PID", "COMM"};

std::vector<std::string> event_row(const json &event)
{
	return {text(event["id"]),        short_time(event["timestamp"]),
	        text(event["direction"]), text(event["local"]),
	        text(event["remote"]),    text(event["cause"]),
	        text(event["pid"]),       text(event["comm"])};
}

// --json for the answers that are one object: the daemon's, as it is.
// On stderr when stdout carries JSON, so the JSON stays one object per line.
void print_coverage_note(const json &response, bool as_json)
{
	std::string note = coverage_note(response);
	if (!note.empty())
		std::fprintf(as_json ? stderr : stdout, "%s\n", note.c_str());
}

int run_recent(Connection &connection, const json &request, bool as_json)
{
	if (as_json) {
		// Each event goes out as the daemon wrote it: parsing a
		// thousand events only to print them again took longer than
		// the daemon took to write them.
		std::string line = send_request_raw(connection, request);
		std::optional<ArrayMember> split =
		    split_array_member(line, wire::response::kEvents);
		json rest = parse_response(split ? split->rest : line);
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
		std::fflush(stdout);
		print_coverage_note(rest, true);
		return kSuccess;
	}
	json response = send_request(connection, request);
	const json &events = response[wire::response::kEvents];
	if (events.empty()) {
		std::puts("no resets match");
	} else {
		Table table(kEventHeader);
		for (const json &event : events)
			table.add(event_row(event));
		table.print();
	}
	print_coverage_note(response, false);
	return kSuccess;
}

int run_top(Connection &connection, const json &request, bool as_json)
{
	json response = send_request(connection, request);
	if (as_json) {
		print_coverage_note(response, true);
		return print_json(response);
	}
	const std::string by = response.value(wire::field::kBy, "");
	const json &groups = response["groups"];
	if (groups.empty()) {
		std::puts("no resets match");
		print_coverage_note(response, false);
		return kSuccess;
	}
	std::vector<std::string> header;
	if (by == wire::group_by::kProcess)
		header = {"COMM", "PID"};
	else if (by == wire::group_by::kRemoteAddress)
		header = {"REMOTE ADDRESS"};
	else if (by == wire::group_by::kLocalPort)
		header = {"LOCAL PORT"};
	else if (by == wire::group_by::kUnit)
		header = {"UNIT"};
	else if (by == wire::group_by::kContainer)
		header = {"CONTAINER"};
	else if (by == wire::group_by::kPod)
		header = {"POD"};
	else if (by == wire::group_by::kNetns)
		header = {"NETNS"};
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
		} else if (by == wire::group_by::kContainer) {
			// The short id people know from docker ps and crictl ps;
			// "(no container)" as it is.
			std::string key = text(group["key"]);
			row = {group["container_id"] == "" ? key : key.substr(0, 12)};
		} else {
			row = {text(group["key"])};
		}
		for (const char *field : {"count", "sent", "received", "top_cause"})
			row.push_back(text(group[field]));
		row.push_back(short_time(group["last_seen"]));
		table.add(std::move(row));
	}
	table.print();
	std::printf("%s\n", escaped_text(text(response["matched"]) + " resets in " +
	                                 text(response["group_count"]) + " groups")
	                        .c_str());
	print_coverage_note(response, false);
	return kSuccess;
}

int run_stats(Connection &connection, const json &request, bool as_json)
{
	json response = send_request(connection, request);
	if (as_json)
		return print_json(response);
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

int run_follow(Connection &connection, const json &request, bool as_json)
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

} // namespace

CommandLine::CommandLine()
    : app_("rstwatch: asks rstwatchd who sent the TCP resets on this host, and why, and "
           "which live sockets are headed for one.\n"
           "Exit codes: 0 success, 1 failure, 2 bad request, 3 no daemon, 4 permission "
           "denied."),
      socket_path_(kDefaultSocketPath), by_(wire::group_by::kProcess)
{
	app_.set_version_flag("--version", std::string("rstwatch ") + RSTWATCH_VERSION);
	app_.add_option("--socket", socket_path_, "rstwatchd's query socket")
	    ->envname("RSTWATCH_SOCKET")
	    ->capture_default_str();
	app_.add_flag("--json", as_json_, "Print the daemon's JSON instead of tables");
	app_.add_option("--timeout-ms", timeout_ms_, "How long to wait for an answer")
	    ->check(CLI::Range(1, 3600000))
	    ->capture_default_str();
	app_.require_subcommand(1);
	// --json and --socket work after the command too: rstwatch recent --json.
	app_.fallthrough();

	recent_ = app_.add_subcommand(wire::command::kRecent, "The latest resets, oldest first");
	add_filter_options(*recent_, filters_);
	add_until_option(*recent_, filters_);
	recent_->add_option("-n,--limit", limit_, "How many: 1 to 10000 (default 100)");
	top_ = app_.add_subcommand(wire::command::kTop,
	                           "Who sends or gets the most resets: resets grouped and counted");
	add_filter_options(*top_, filters_);
	add_until_option(*top_, filters_);
	top_->add_option(
	        "--by", by_,
	        "process, remote_address, local_port, cause, unit, container, pod or netns")
	    ->check(CLI::IsMember(
	        {wire::group_by::kProcess, wire::group_by::kRemoteAddress, "remote",
	         wire::group_by::kLocalPort, "port", wire::group_by::kCause, wire::group_by::kUnit,
	         wire::group_by::kContainer, wire::group_by::kPod, wire::group_by::kNetns}))
	    ->capture_default_str();
	top_->add_option("-n,--limit", limit_, "How many groups: 1 to 1000 (default 10)");
	stats_ = app_.add_subcommand(wire::command::kStats, "Totals and the daemon's state");
	follow_ = app_.add_subcommand(wire::command::kFollow, "Print resets as they happen");
	add_filter_options(*follow_, filters_);
	explain_ = app_.add_subcommand(wire::command::kExplain, "Everything known about one reset");
	explain_->add_option("id", id_, "The reset's id (first column of recent)")
	    ->required()
	    ->check(kWholeNumber);
	audit_ = add_audit_command(app_, audit_args_, limit_);
	add_socket_filter_options(*audit_, filters_);
	// A live socket has holders, not an owner the kernel named.
	audit_->get_option("--pid")->description("Held by this process id");
	audit_->get_option("--comm")->description("Held by a process of this name");
}

json CommandLine::request() const
{
	if (*stats_)
		return {{wire::field::kCommand, wire::command::kStats}};
	if (*explain_)
		return {{wire::field::kCommand, wire::command::kExplain}, {wire::field::kId, id_}};
	json request;
	filters_.add_to(request);
	// Given means sent, 0 included: the daemon says what the range is.
	if (limit_)
		request[wire::field::kLimit] = *limit_;
	if (*audit_) {
		add_audit_fields(audit_args_, request);
	} else if (*recent_) {
		request[wire::field::kCommand] = wire::command::kRecent;
	} else if (*top_) {
		request[wire::field::kCommand] = wire::command::kTop;
		request[wire::field::kBy] = by_ == "remote" ? wire::group_by::kRemoteAddress
		                            : by_ == "port" ? wire::group_by::kLocalPort
		                                            : by_;
	} else {
		request[wire::field::kCommand] = wire::command::kFollow;
	}
	return request;
}

int CommandLine::run(Connection &connection) const
{
	json request = this->request();
	if (*stats_)
		return run_stats(connection, request, as_json_);
	if (*explain_)
		return run_explain(connection, request, as_json_);
	if (*recent_)
		return run_recent(connection, request, as_json_);
	if (*top_)
		return run_top(connection, request, as_json_);
	if (*audit_)
		return run_audit(connection, request, as_json_, audit_args_.summary);
	return run_follow(connection, request, as_json_);
}

} // namespace rstwatch::cli
