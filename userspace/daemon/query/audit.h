// What an audit request selects from the live sockets, and its answer: the
// rows (one per socket and risk) or the summary (process x risk), with what
// the daemon learned from the resets it saw. Pure: the sockets come in, a
// result and its JSON go out; daemon/audit_worker.h runs it off the event
// loop.
#pragma once

#include "core/audit_risks.h"
#include "core/live_socket.h"
#include "daemon/query/request.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace rstwatch::query
{

struct AuditRow {
	const LiveSocket *socket = nullptr;
	Risk risk = Risk::LingerZero;
};

struct AuditGroup {
	uint32_t pid = 0;
	std::string comm;
	Risk risk = Risk::LingerZero;
	uint64_t count = 0;
};

struct AuditResult {
	size_t sockets = 0;                         // TCP sockets held by processes, all of them
	uint64_t matched = 0;                       // rows the request selects
	std::array<uint64_t, kRiskCount> by_risk{}; // of those, per risk
	// Risk order, then pid, then local port; at most the request's limit.
	std::vector<AuditRow> rows;
	// With summary: every process x risk, largest first.
	std::vector<AuditGroup> groups;
};

// The pid and comm filters match any process holding the socket; the
// workload filters, its cgroup (LiveSocket::cgroup).
bool socket_matches(const EventFilter &filter, const LiveSocket &socket);

// `request` is an audit request: its filter, limit and audit options.
// `sockets` holds at least every socket at risk; `total` is how many sockets
// the walk saw.
AuditResult run_audit(std::span<const LiveSocket> sockets, size_t total, const Request &request);

// What the answer tells besides the result.
struct AuditContext {
	uint64_t idle_over_ms = kDefaultIdleOverMs;
	bool summary = false;
	uint64_t elapsed_ms = 0; // walking and judging the sockets
	// From rstwatch_received_reset_idle_seconds.
	std::optional<IdleTimeoutSeen> idle_timeout_seen;
	std::string hostname; // the node, as every event names it
};

nlohmann::json audit_row_to_json(const LiveSocket &socket, Risk risk, const std::string &hostname);
nlohmann::json audit_to_json(const AuditResult &result, const AuditContext &context);

} // namespace rstwatch::query
