// The real proxies the integration tests start (nginx, HAProxy from Debian),
// each with a configuration of the test's own in a temporary directory; see
// ForegroundServer for how they are run and stopped.
#pragma once

#include "proxy_process.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace rstwatch::test
{

// The proxies' own timeouts sit well above the tests' idle threshold, so
// whether a connection counts as idle is decided by their configuration.
constexpr int kProxyTimeoutMs = 500;

// A proxy missing from the machine fails the test in CI (scripts/install-deps
// installs it) and skips it elsewhere.
#define REQUIRE_EXECUTABLE(variable, name)                                                         \
	const std::string variable = find_executable(name);                                        \
	do {                                                                                       \
		if (variable.empty()) {                                                            \
			if (running_in_ci())                                                       \
				FAIL() << name " is not installed (scripts/install-deps "          \
				               "installs it)";                                     \
			GTEST_SKIP() << "skipping: " name " is not installed";                     \
		}                                                                                  \
	} while (0)

// A proxy with a master and one worker, everything it writes kept in a
// temporary directory; the worker is what the resets must be attributed to.
class Proxy
{
public:
	void start(const std::vector<std::string> &argv, const std::string &worker_comm,
	           uint16_t port, const std::string &pid_file, unsigned workers = 1)
	{
		server_ = std::make_unique<ForegroundServer>(argv, dir_.file("output.log"));
		worker_pids_ = server_->wait_for_workers(worker_comm, workers, port);
		worker_pid_ = worker_pids_.front();
		// The pid file is written by the master; it names the master, and
		// the worker is a different process.
		pid_from_file_ = std::atoi(dir_.read(pid_file).c_str());
	}

	// Stops the proxy and checks it went cleanly, leaving no process.
	void stop_and_expect_clean_exit()
	{
		EXPECT_EQ(server_->stop(), 0) << server_->log();
		EXPECT_EQ(server_->stragglers(), "") << server_->log();
		for (pid_t worker : worker_pids_)
			EXPECT_TRUE(comm_of(worker).empty())
			    << "worker " << worker << " still runs";
	}

	const TempDir &dir() const { return dir_; }
	pid_t master_pid() const { return server_->master_pid(); }
	// The first worker; all of them when there are several.
	pid_t worker_pid() const { return worker_pid_; }
	const std::vector<pid_t> &worker_pids() const { return worker_pids_; }
	pid_t pid_from_file() const { return pid_from_file_; }
	std::string log() const { return server_->log(); }

private:
	TempDir dir_;
	std::unique_ptr<ForegroundServer> server_;
	pid_t worker_pid_ = -1;
	std::vector<pid_t> worker_pids_;
	pid_t pid_from_file_ = -1;
};

// Replaces every @NAME@ in `text` with its value.
inline std::string fill(std::string text,
                        const std::vector<std::pair<std::string, std::string>> &values)
{
	for (const auto &[name, value] : values) {
		const std::string marker = "@" + name + "@";
		for (size_t at = text.find(marker); at != std::string::npos;
		     at = text.find(marker, at + value.size()))
			text.replace(at, marker.size(), value);
	}
	return text;
}

// Every path nginx writes to is under @DIR@: nothing of the system's own
// nginx (/var/lib/nginx, /var/log/nginx, /run/nginx.pid) is touched.
constexpr const char *kNginxConfig = R"(daemon off;
master_process on;
worker_processes @WORKERS@;
pid @DIR@/nginx.pid;
error_log @DIR@/error.log info;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path @DIR@/client_body;
	proxy_temp_path @DIR@/proxy;
	fastcgi_temp_path @DIR@/fastcgi;
	uwsgi_temp_path @DIR@/uwsgi;
	scgi_temp_path @DIR@/scgi;
	reset_timedout_connection on;
	client_header_timeout @TIMEOUT_MS@ms;
	server {
		listen 127.0.0.1:@PORT@;
		location = /drop { return 444; }
		location / { return 200 "ok\n"; }
	}
}
)";

// nginx in the foreground with one worker. `return 444` closes without a
// response; with reset_timedout_connection on, that close (and the close of
// a request that timed out) is an abort: SO_LINGER {on, 0}, then close().
class Nginx : public Proxy
{
public:
	explicit Nginx(const std::string &binary, unsigned workers = 1) : port_(pick_free_port())
	{
		const std::string &d = dir().path();
		dir().write("nginx.conf",
		            fill(kNginxConfig, {{"DIR", d},
		                                {"PORT", std::to_string(port_)},
		                                {"WORKERS", std::to_string(workers)},
		                                {"TIMEOUT_MS", std::to_string(kProxyTimeoutMs)}}));
		// -e: the error log nginx opens before it has read the
		// configuration, which would otherwise be the system's.
		start({binary, "-p", d + "/", "-c", d + "/nginx.conf", "-e", d + "/error.log"},
		      "nginx", port_, "nginx.pid", workers);
	}
	uint16_t port() const { return port_; }
	std::string error_log() const { return dir().read("error.log"); }

private:
	uint16_t port_;
};

constexpr const char *kHaproxyDefaults = R"(global
	nbthread 1
defaults
	mode tcp
	option nolinger
	timeout connect 5s
	timeout client @TIMEOUT_MS@ms
	timeout server 30s
)";

// HAProxy in master-worker mode (-W) in the foreground (-db), one thread,
// with `option nolinger` everywhere. `proxies` holds the frontends and
// backends; its @PORT@ (the port waited for) and any other @NAME@ in
// `values` are filled in.
class Haproxy : public Proxy
{
public:
	Haproxy(const std::string &binary, uint16_t port, const std::string &proxies,
	        std::vector<std::pair<std::string, std::string>> values = {})
	{
		values.emplace_back("PORT", std::to_string(port));
		values.emplace_back("TIMEOUT_MS", std::to_string(kProxyTimeoutMs));
		dir().write("haproxy.cfg", fill(std::string(kHaproxyDefaults) + proxies, values));
		start({binary, "-W", "-db", "-f", dir().file("haproxy.cfg"), "-p",
		       dir().file("haproxy.pid")},
		      "haproxy", port, "haproxy.pid");
	}
};

} // namespace rstwatch::test
