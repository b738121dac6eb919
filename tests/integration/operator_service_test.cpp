// rstwatchd as systemd runs it: the notifications it sends on a test-owned
// NOTIFY_SOCKET (systemd itself is never started), the unit file as
// cmake --install lays it out, checked by systemd-analyze, and the daemon
// running with exactly the unit's capabilities.
#include "support/operator_fixture.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace rstwatch::test
{
namespace
{

using nlohmann::json;

std::string read_file(const std::string &path)
{
	std::ifstream file(path);
	std::stringstream text;
	text << file.rdbuf();
	return text.str();
}

void write_file(const std::string &path, const std::string &text)
{
	std::ofstream(path) << text;
}

class OperatorService : public OperatorTest
{
};

json stats_of(const OperatorDaemon &daemon)
{
	CommandResult result = daemon.rstwatch({"stats", "--json"});
	EXPECT_EQ(result.exit_code, 0) << result.err;
	return json::parse(result.out, nullptr, false);
}

TEST_F(OperatorService, NotifiesReadyWatchdogReloadAndStopping)
{
	OperatorDaemon daemon("service");
	NotifySocket notify(daemon.directory() + "/notify.sock");
	const std::string config = daemon.directory() + "/rstwatch.conf";
	write_file(config, "store-events = 1000\n");
	ASSERT_TRUE(daemon.start(
	    {.env = {"NOTIFY_SOCKET=" + notify.path(), "WATCHDOG_USEC=200000"}, .config = config}))
	    << daemon.error();

	std::optional<std::string> ready = notify.wait_for("READY=1");
	ASSERT_TRUE(ready) << "no READY=1";
	EXPECT_NE(ready->find("STATUS=tracing"), std::string::npos) << *ready;
	// READY=1 promises both listeners: they answer right away.
	EXPECT_FALSE(daemon.scrape().empty());
	EXPECT_EQ(stats_of(daemon)["store"]["capacity"], 1000);

	// The event loop feeds the watchdog (WatchdogSec/2 apart at most).
	for (int i = 0; i < 3; i++)
		ASSERT_TRUE(notify.wait_for("WATCHDOG=1")) << "watchdog ping " << i;

	// Reload: RELOADING=1, the new settings, READY=1.
	write_file(config, "store-events = 2000\n");
	daemon.send_signal(SIGHUP);
	ASSERT_TRUE(notify.wait_for("RELOADING=1"));
	ASSERT_TRUE(notify.wait_for("READY=1"));
	EXPECT_TRUE(daemon.wait_for_stderr("rstwatchd: reloaded configuration from " + config));
	EXPECT_EQ(stats_of(daemon)["store"]["capacity"], 2000);

	// A broken file is rejected before anything changes.
	write_file(config, "store-events = 3000\nstore-evnts = 5\n");
	daemon.send_signal(SIGHUP);
	ASSERT_TRUE(notify.wait_for("RELOADING=1"));
	std::optional<std::string> after_failure = notify.wait_for("READY=1");
	ASSERT_TRUE(after_failure);
	EXPECT_NE(after_failure->find("reload failed"), std::string::npos) << *after_failure;
	EXPECT_TRUE(daemon.wait_for_stderr("reload failed, keeping the running configuration"));
	EXPECT_EQ(stats_of(daemon)["store"]["capacity"], 2000);
	std::string scrape = daemon.scrape();
	EXPECT_EQ(metric(scrape, R"(rstwatch_config_reloads_total{result="success"})"), 1);
	EXPECT_EQ(metric(scrape, R"(rstwatch_config_reloads_total{result="failure"})"), 1);

	// What only a restart can change is named, not silently ignored.
	write_file(config, "store-events = 2000\nring-buffer-bytes = 8388608\n");
	daemon.send_signal(SIGHUP);
	ASSERT_TRUE(notify.wait_for("READY=1"));
	EXPECT_TRUE(daemon.wait_for_stderr(
	    "reload: ring-buffer-bytes changed; it takes effect at the next restart"));

	// SIGTERM: STOPPING=1, the ring drained, a clean exit.
	daemon.send_signal(SIGTERM);
	ASSERT_TRUE(notify.wait_for("STOPPING=1"));
	CommandResult stopped = daemon.stop();
	EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
	EXPECT_NE(stopped.err.find("rstwatchd: stopping:"), std::string::npos) << stopped.err;
	struct stat info {
	};
	EXPECT_NE(stat(daemon.socket_path().c_str(), &info), 0) << "the socket is removed on exit";
}

// cmake --install into a scratch root: binaries, unit, sysusers entry and
// config land where the unit and rstwatchd look for them, and the unit passes
// systemd-analyze verify.
TEST_F(OperatorService, InstalledUnitVerifies)
{
	char pattern[] = "/tmp/rstwatch-install-XXXXXX";
	ASSERT_TRUE(mkdtemp(pattern));
	const std::string root = pattern;
	CommandResult install =
	    run_command({CMAKE_COMMAND_PATH, "--install", RSTWATCH_BUILD_DIR}, {"DESTDIR=" + root});
	ASSERT_EQ(install.exit_code, 0) << install.out << install.err;

	const std::string prefix = root + RSTWATCH_INSTALL_PREFIX;
	for (const std::string &path :
	     {prefix + "/sbin/rstwatchd", prefix + "/bin/rstwatch",
	      prefix + "/lib/systemd/system/rstwatch.service",
	      prefix + "/lib/sysusers.d/rstwatch.conf", root + "/etc/rstwatch/rstwatch.conf",
	      prefix + "/share/man/man8/rstwatchd.8.gz", prefix + "/share/man/man1/rstwatch.1.gz",
	      prefix + "/share/bash-completion/completions/rstwatchd",
	      prefix + "/share/bash-completion/completions/rstwatch"})
		EXPECT_TRUE(std::filesystem::exists(path)) << path << "\n" << install.out;
	EXPECT_EQ(access((prefix + "/sbin/rstwatchd").c_str(), X_OK), 0);
	const std::string unit = read_file(prefix + "/lib/systemd/system/rstwatch.service");
	const std::string exec_start = std::string("ExecStart=") + RSTWATCH_INSTALL_PREFIX +
	                               "/sbin/rstwatchd --config /etc/rstwatch/rstwatch.conf";
	EXPECT_NE(unit.find(exec_start), std::string::npos) << unit;
	EXPECT_NE(unit.find("Type=notify"), std::string::npos);
	EXPECT_NE(unit.find("WatchdogSec="), std::string::npos);
	EXPECT_NE(read_file(prefix + "/lib/sysusers.d/rstwatch.conf").find("g rstwatch"),
	          std::string::npos);

	// systemd-analyze checks ExecStart= on the live filesystem, so the
	// copy it verifies names the binary inside the scratch root; it looks
	// Documentation=man:rstwatchd(8) up with man, which finds the page
	// installed in the scratch root through MANPATH.
	std::string checked = unit;
	std::string installed = std::string(RSTWATCH_INSTALL_PREFIX) + "/sbin/rstwatchd";
	checked.replace(checked.find(installed), installed.size(), prefix + "/sbin/rstwatchd");
	std::filesystem::create_directories(root + "/verify");
	write_file(root + "/verify/rstwatch.service", checked);
	CommandResult verify =
	    run_command({"/usr/bin/systemd-analyze", "verify", root + "/verify/rstwatch.service"},
	                {"MANPATH=" + prefix + "/share/man"});
	EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
	EXPECT_EQ(verify.err, "") << "systemd-analyze has a complaint";
	CommandResult security = run_command({"/usr/bin/systemd-analyze", "security",
	                                      "--offline=yes", root + "/verify/rstwatch.service"});
	size_t overall = security.out.find("Overall exposure level");
	if (overall != std::string::npos)
		std::cout << security.out.substr(overall,
		                                 security.out.find('\n', overall) - overall)
		          << "\n";

	// A second install keeps an operator's edited config.
	write_file(root + "/etc/rstwatch/rstwatch.conf", "store-events = 7\n");
	install =
	    run_command({CMAKE_COMMAND_PATH, "--install", RSTWATCH_BUILD_DIR}, {"DESTDIR=" + root});
	EXPECT_EQ(install.exit_code, 0) << install.err;
	EXPECT_EQ(read_file(root + "/etc/rstwatch/rstwatch.conf"), "store-events = 7\n");
	std::filesystem::remove_all(root);
}

// The capabilities the unit grants, from its CapabilityBoundingSet= line.
std::vector<std::string> unit_capabilities()
{
	std::istringstream unit(
	    read_file(std::string(RSTWATCH_SOURCE_DIR) + "/systemd/rstwatch.service"));
	std::vector<std::string> names;
	for (std::string line; std::getline(unit, line);) {
		if (line.rfind("CapabilityBoundingSet=", 0) != 0)
			continue;
		std::istringstream words(line.substr(line.find('=') + 1));
		for (std::string word; words >> word;)
			names.push_back(word);
	}
	return names;
}

TEST_F(OperatorService, UnitCapabilitySetAttachesAndAttributes)
{
	const std::map<std::string, int> known = {{"CAP_BPF", CAP_BPF},
	                                          {"CAP_PERFMON", CAP_PERFMON},
	                                          {"CAP_NET_ADMIN", CAP_NET_ADMIN},
	                                          {"CAP_CHOWN", CAP_CHOWN},
	                                          {"CAP_SYS_ADMIN", CAP_SYS_ADMIN},
	                                          {"CAP_SYS_RESOURCE", CAP_SYS_RESOURCE},
	                                          {"CAP_SYS_PTRACE", CAP_SYS_PTRACE},
	                                          {"CAP_DAC_READ_SEARCH", CAP_DAC_READ_SEARCH},
	                                          {"CAP_DAC_OVERRIDE", CAP_DAC_OVERRIDE}};
	std::vector<std::string> names = unit_capabilities();
	ASSERT_FALSE(names.empty()) << "the unit has no CapabilityBoundingSet=";
	uint64_t expected = 0;
	std::string bounding = "--bounding-set=-all";
	for (const std::string &name : names) {
		auto it = known.find(name);
		ASSERT_NE(it, known.end()) << "add " << name << " to this test's table";
		expected |= uint64_t{1} << it->second;
		std::string lower = name.substr(4);
		std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
		bounding += ",+" + lower;
	}

	OperatorDaemon daemon("caps");
	// As the unit runs it: root, those capabilities only, no new
	// privileges; a socket group that exists, so CAP_CHOWN is exercised.
	ASSERT_TRUE(daemon.start(
	    {.args = {"--socket-group", "nogroup"},
	     .prefix = {"/usr/bin/setpriv", bounding, "--inh-caps=-all", "--no-new-privs", "--"}}))
	    << daemon.error();
	std::istringstream status(read_file("/proc/" + std::to_string(daemon.pid()) + "/status"));
	for (std::string line; std::getline(status, line);) {
		if (line.rfind("CapEff:", 0) == 0 || line.rfind("CapBnd:", 0) == 0)
			EXPECT_EQ(std::stoull(line.substr(8), nullptr, 16), expected) << line;
	}
	EXPECT_EQ(daemon.stderr_text().find("warning"), std::string::npos) << daemon.stderr_text();

	constexpr int kResets = 2;
	uint16_t port = 0;
	int bound = bound_socket(AF_INET, port);
	pid_t client = refused_connects("opc-client", port, kResets);
	close(bound);
	auto received = daemon.query_events(
	    {"--remote-port", std::to_string(port), "--direction", "received"}, kResets);
	ASSERT_EQ(received.size(), static_cast<size_t>(kResets));
	for (const json &event : received) {
		EXPECT_EQ(event["comm"], "opc-client");
		EXPECT_EQ(event["pid"], client);
		EXPECT_EQ(event["cause"], "peer_refused");
	}
	struct stat info {
	};
	ASSERT_EQ(stat(daemon.socket_path().c_str(), &info), 0);
	EXPECT_EQ(info.st_gid, 65534u) << "CAP_CHOWN gave the socket to its group";
	CommandResult recent =
	    daemon.rstwatch({"recent", "--json", "--remote-port", std::to_string(port)});
	EXPECT_EQ(recent.exit_code, 0) << recent.err;
	EXPECT_EQ(std::count(recent.out.begin(), recent.out.end(), '\n'), kResets);
	EXPECT_EQ(daemon.stop().exit_code, 0);
}

} // namespace
} // namespace rstwatch::test
