// rstwatch audit: the live sockets headed for a reset, as the daemon judges
// them (README, "Auditing"), printed as a table, JSON lines or a summary by
// process and risk.
#pragma once

#include "cli/connection.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>

namespace rstwatch::cli
{

struct AuditArgs {
	std::string idle_over; // a duration; "" leaves the daemon's default
	std::optional<std::string> risk;
	bool summary = false;
};

// The audit subcommand with its own options; the socket filters are added by
// the caller.
CLI::App *add_audit_command(CLI::App &app, AuditArgs &args, std::optional<size_t> &limit);
// The request's audit fields (command, idle_over_ms, risk, summary).
void add_audit_fields(const AuditArgs &args, nlohmann::json &request);
int run_audit(Connection &connection, const nlohmann::json &request, bool as_json, bool summary);

} // namespace rstwatch::cli
