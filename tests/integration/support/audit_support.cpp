#include "audit_support.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace rstwatch::test
{

using nlohmann::json;

AuditRows audit_rows(const OperatorDaemon &daemon, const std::vector<std::string> &args)
{
	std::vector<std::string> argv = {"audit", "--json"};
	argv.insert(argv.end(), args.begin(), args.end());
	CommandResult result = daemon.rstwatch(argv);
	EXPECT_EQ(result.exit_code, 0) << result.err;
	AuditRows rows;
	std::istringstream lines(result.out);
	for (std::string line; std::getline(lines, line);) {
		json row = json::parse(line, nullptr, false);
		EXPECT_FALSE(row.is_discarded()) << line;
		if (!row.is_discarded())
			rows.push_back(std::move(row));
	}
	return rows;
}

AuditRows rows_of(const AuditRows &rows, pid_t pid)
{
	AuditRows out;
	for (const json &row : rows) {
		if (row.value("pid", -1) == pid)
			out.push_back(row);
	}
	return out;
}

json row_with_risk(const AuditRows &rows, const std::string &risk)
{
	for (const json &row : rows) {
		if (row.value("risk", "") == risk)
			return row;
	}
	return json::object();
}

AuditRows audit_until(const OperatorDaemon &daemon, const std::vector<std::string> &args,
                      const std::function<bool(const AuditRows &)> &done,
                      std::chrono::milliseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	for (;;) {
		AuditRows rows = audit_rows(daemon, args);
		if (done(rows) || std::chrono::steady_clock::now() > deadline)
			return rows;
		usleep(200000);
	}
}

uint64_t namespace_inode(const std::string &path)
{
	struct stat info {
	};
	if (stat(path.c_str(), &info) != 0)
		throw std::runtime_error("stat " + path + ": " + strerror(errno));
	return info.st_ino;
}

int accept_one(int listener)
{
	pollfd ready{listener, POLLIN, 0};
	if (poll(&ready, 1, 10000) != 1)
		throw std::runtime_error("no connection to accept");
	int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
	if (fd < 0)
		throw std::runtime_error("accept failed: " + std::string(strerror(errno)));
	return fd;
}

} // namespace rstwatch::test
