#include "cli/audit.h"

#include "cli/table.h"
#include "common/duration.h"
#include "common/text_escape.h"
#include "common/wire.h"

#include <cstdio>
#include <map>
#include <vector>

namespace rstwatch::cli
{

using nlohmann::json;

namespace
{

// A line made of what the daemon answered, escaped as every table cell is.
void print_line(FILE *to, const std::string &line)
{
	std::fprintf(to, "%s\n", escaped_text(line).c_str());
}

std::string seconds_text(const json &ms)
{
	if (!ms.is_number())
		return text(ms);
	char buffer[32];
	std::snprintf(buffer, sizeof(buffer), "%.1fs", ms.get<double>() / 1000);
	return buffer;
}

std::vector<std::string> row_cells(const json &row)
{
	const std::string linger =
	    row.value("linger_on", false) ? "on " + text(row["linger_seconds"]) + "s" : "off";
	const std::string keepalive = row.value("keepalive_on", false)
	                                  ? "after " + text(row["keepalive_idle_seconds"]) + "s"
	                                  : "off";
	return {text(row["risk"]),
	        text(row["pid"]),
	        text(row["comm"]),
	        text(row["local"]),
	        text(row["remote"]),
	        text(row["state"]),
	        seconds_text(row["idle_ms"]),
	        text(row["unread_bytes"]),
	        linger,
	        keepalive};
}

// The idle timeout the daemon saw in received resets, as a suggestion.
void print_idle_hint(const json &response, FILE *to)
{
	const json &seen = response["idle_timeout_seen_seconds"];
	if (!seen.is_number())
		return;
	std::string seconds = text(seen) + "s";
	print_line(to, "idle timeout seen in resets: ~" + seconds + " (from " +
	                   text(response["idle_timeout_seen_resets"]) +
	                   " received resets; use --idle-over " + seconds + ")");
}

void print_totals(const json &response)
{
	std::string at_risk;
	for (const auto &[risk, count] : response["at_risk"].items()) {
		if (count.is_number_unsigned() && count.get<uint64_t>() > 0)
			at_risk += (at_risk.empty() ? ": " : ", ") + text(count) + " " + risk;
	}
	print_line(stdout, text(response["sockets"]) + " sockets audited in " +
	                       text(response["elapsed_ms"]) + " ms, idle over " +
	                       seconds_text(response[wire::field::kIdleOverMs]) + at_risk);
}

int print_summary(const json &response)
{
	const json &groups = response[wire::response::kGroups];
	if (!groups.empty()) {
		Table table({"COMM", "PID", "RISK", "COUNT"});
		for (const json &group : groups)
			table.add({text(group["comm"]), text(group["pid"]), text(group["risk"]),
			           text(group["count"])});
		table.print();
	}
	print_totals(response);
	print_idle_hint(response, stdout);
	return kSuccess;
}

int print_rows(const json &response)
{
	const json &rows = response[wire::response::kRows];
	std::map<std::string, std::string> remedies;
	if (!rows.empty()) {
		Table table({"RISK", "PID", "COMM", "LOCAL", "REMOTE", "STATE", "IDLE", "UNREAD",
		             "LINGER", "KEEPALIVE"});
		for (const json &row : rows) {
			table.add(row_cells(row));
			remedies[text(row["risk"])] = text(row["remedy"]);
		}
		table.print();
	}
	print_totals(response);
	if (response["matched"] != response["count"])
		print_line(stdout, "showing " + text(response["count"]) + " of " +
		                       text(response["matched"]) + " rows (--limit)");
	for (const auto &[risk, remedy] : remedies)
		print_line(stdout, risk + ": " + remedy);
	print_idle_hint(response, stdout);
	return kSuccess;
}

} // namespace

CLI::App *add_audit_command(CLI::App &app, AuditArgs &args, std::optional<size_t> &limit)
{
	CLI::App *audit =
	    app.add_subcommand(wire::command::kAudit,
	                       "Live sockets headed for a reset (SO_LINGER 0, unread data, peer "
	                       "closed, idle without keepalive), one row per socket and risk");
	audit
	    ->add_option("--idle-over", args.idle_over,
	                 "Idle time that counts as too long for a connection without keepalive "
	                 "(default 300s)")
	    ->check([](const std::string &value) -> std::string {
		    std::optional<int64_t> ns = parse_duration(value);
		    return ns && *ns > 0 ? "" : "must be a duration: 90s, 5m, 1h30m";
	    });
	audit->add_option("--risk", args.risk,
	                  "Only this risk: linger_zero, unread_data, peer_closed or "
	                  "idle_without_keepalive");
	audit->add_flag("--summary", args.summary, "Count the rows by process and risk");
	audit->add_option("-n,--limit", limit, "How many rows: 1 to 10000 (default 1000)");
	return audit;
}

void add_audit_fields(const AuditArgs &args, json &request)
{
	request[wire::field::kCommand] = wire::command::kAudit;
	if (!args.idle_over.empty())
		request[wire::field::kIdleOverMs] = *parse_duration(args.idle_over) / 1'000'000;
	if (args.risk)
		request[wire::field::kRisk] = *args.risk;
	if (args.summary)
		request[wire::field::kSummary] = true;
}

int run_audit(Connection &connection, const json &request, bool as_json, bool summary)
{
	json response = send_request(connection, request);
	if (!as_json)
		return summary ? print_summary(response) : print_rows(response);
	// One object per line, as the daemon made it; the hint goes to stderr
	// so stdout stays JSON.
	const char *member = summary ? wire::response::kGroups : wire::response::kRows;
	for (const json &row : response[member])
		std::puts(row.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
	print_idle_hint(response, stderr);
	return kSuccess;
}

} // namespace rstwatch::cli
