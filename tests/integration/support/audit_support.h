// What the audit tests share: rows of `rstwatch audit --json` from the real
// client, polled until they show what a scenario waits for (the risks that
// need a second of silence), and connections whose two ends the tests hold.
#pragma once

#include "operator_daemon.h"

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace rstwatch::test
{

using AuditRows = std::vector<nlohmann::json>;

// `rstwatch audit --json ARGS`: one row per line; a failure of the command
// fails the test.
AuditRows audit_rows(const OperatorDaemon &daemon, const std::vector<std::string> &args);
// The rows of one process.
AuditRows rows_of(const AuditRows &rows, pid_t pid);
// The row of this risk, or an empty object.
nlohmann::json row_with_risk(const AuditRows &rows, const std::string &risk);
// Runs the audit until `done` holds for its rows (or the timeout passes) and
// returns the last rows.
AuditRows audit_until(const OperatorDaemon &daemon, const std::vector<std::string> &args,
                      const std::function<bool(const AuditRows &)> &done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(15));

// The inode of a network namespace ("/proc/self/ns/net", "/run/netns/NAME"),
// as rstwatch reports it in "netns".
uint64_t namespace_inode(const std::string &path);

// Accepts one connection on `listener`, waiting at most 10 s; throws.
int accept_one(int listener);

} // namespace rstwatch::test
