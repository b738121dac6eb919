#include "daemon/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace rstwatch
{
namespace
{

class ConfigFile : public ::testing::Test
{
protected:
	void SetUp() override
	{
		char name[] = "/tmp/rstwatch-config-test-XXXXXX";
		int fd = mkstemp(name);
		ASSERT_GE(fd, 0);
		close(fd);
		path_ = name;
		// The environment must not leak into these expectations.
		unsetenv("RSTWATCH_SOCKET");
		unsetenv("RSTWATCH_METRICS_LISTEN");
	}
	void TearDown() override { unlink(path_.c_str()); }

	void write(const std::string &text) { std::ofstream(path_) << text; }
	ConfigOutcome load(std::vector<std::string> extra = {})
	{
		std::vector<std::string> args = {"rstwatchd", "--config", path_};
		args.insert(args.end(), extra.begin(), extra.end());
		return load_config(args);
	}

	std::string path_;
};

TEST_F(ConfigFile, DefaultsWithoutAFile)
{
	ConfigOutcome outcome = load_config({"rstwatchd", "--config", "/dev/null"});
	ASSERT_TRUE(outcome.config) << outcome.message;
	const DaemonConfig &config = *outcome.config;
	EXPECT_EQ(config.metrics_listen, "127.0.0.1:9479");
	EXPECT_EQ(config.socket_path, "/run/rstwatch/rstwatch.sock");
	EXPECT_EQ(config.socket_group, "rstwatch");
	EXPECT_EQ(config.store_capacity, 65536u);
	EXPECT_EQ(config.top_series, 20u);
	EXPECT_EQ(config.drain_interval_ms, 50u);
	EXPECT_FALSE(config.quiet);
	EXPECT_EQ(config.metrics_workload_label, "none");
	EXPECT_EQ(config.pods_log_dir, "/var/log/pods");
}

TEST_F(ConfigFile, WorkloadOptions)
{
	write("metrics-workload-label = namespace\npods-log-dir = /srv/pods\n");
	ConfigOutcome outcome = load_config({"rstwatchd", "--config", path_});
	ASSERT_TRUE(outcome.config) << outcome.message;
	EXPECT_EQ(outcome.config->metrics_workload_label, "namespace");
	EXPECT_EQ(outcome.config->pods_log_dir, "/srv/pods");
	outcome = load_config({"rstwatchd", "--config", "/dev/null", "--pods-log-dir", "off"});
	ASSERT_TRUE(outcome.config) << outcome.message;
	EXPECT_EQ(outcome.config->pods_log_dir, "");
	outcome =
	    load_config({"rstwatchd", "--config", "/dev/null", "--metrics-workload-label", "pod"});
	EXPECT_FALSE(outcome.config);
	EXPECT_EQ(outcome.exit_code, 2);
	EXPECT_NE(outcome.message.find("metrics-workload-label"), std::string::npos)
	    << outcome.message;

	DaemonConfig running, next;
	next.metrics_workload_label = "unit";
	next.pods_log_dir = "";
	EXPECT_EQ(restart_only_changes(running, next),
	          (std::vector<std::string>{"metrics-workload-label", "pods-log-dir"}));
}

TEST_F(ConfigFile, FileSetsOptionsAndTheCommandLineWins)
{
	write("# comment\n"
	      "metrics-listen = \"0.0.0.0:9100\"\n"
	      "store-events = 1000\n"
	      "top-series = 5\n"
	      "quiet = true\n"
	      "max-clients-per-uid = 3\n"
	      "socket = /tmp/rstwatch-test/x.sock\n");
	ConfigOutcome outcome = load({"--store-events", "2000"});
	ASSERT_TRUE(outcome.config) << outcome.message;
	const DaemonConfig &config = *outcome.config;
	EXPECT_EQ(config.config_path, path_);
	EXPECT_EQ(config.metrics_listen, "0.0.0.0:9100");
	EXPECT_EQ(config.store_capacity, 2000u);
	EXPECT_EQ(config.top_series, 5u);
	EXPECT_TRUE(config.quiet);
	EXPECT_EQ(config.limits.max_clients_per_uid, 3u);
	EXPECT_EQ(config.socket_path, "/tmp/rstwatch-test/x.sock");
}

TEST_F(ConfigFile, OffDisablesAListener)
{
	write("metrics-listen = off\nsocket = off\n");
	ConfigOutcome outcome = load();
	ASSERT_TRUE(outcome.config) << outcome.message;
	EXPECT_EQ(outcome.config->metrics_listen, "");
	EXPECT_EQ(outcome.config->socket_path, "");
}

TEST_F(ConfigFile, UnknownSettingIsAnErrorNamingFileAndKey)
{
	write("store-events = 10\nstore_evnts = 10\n");
	ConfigOutcome outcome = load();
	EXPECT_FALSE(outcome.config);
	EXPECT_EQ(outcome.exit_code, 2);
	EXPECT_NE(outcome.message.find(path_), std::string::npos) << outcome.message;
	EXPECT_NE(outcome.message.find("store_evnts"), std::string::npos) << outcome.message;
}

TEST_F(ConfigFile, InvalidValuesAreErrors)
{
	for (const char *text :
	     {"store-events = 0\n", "top-series = many\n", "metrics-listen = localhost:80\n",
	      "socket = relative.sock\n", "ring-buffer-bytes = 5000\n", "hook-variant = kprobe\n",
	      "max-request-bytes = 10\n", "quiet = maybe\n"}) {
		write(text);
		ConfigOutcome outcome = load();
		EXPECT_FALSE(outcome.config) << text;
		EXPECT_EQ(outcome.exit_code, 2) << text;
		EXPECT_FALSE(outcome.message.empty()) << text;
	}
}

TEST_F(ConfigFile, AuditSettingsAreDurations)
{
	ConfigOutcome defaults = load_config({"rstwatchd", "--config", "/dev/null"});
	ASSERT_TRUE(defaults.config) << defaults.message;
	EXPECT_EQ(defaults.config->audit_interval_ms, 60000u);
	EXPECT_EQ(defaults.config->audit_idle_over_ms, 300000u);
	write("audit-interval = 5m\naudit-idle-over = 1h30m\n");
	ConfigOutcome outcome = load();
	ASSERT_TRUE(outcome.config) << outcome.message;
	EXPECT_EQ(outcome.config->audit_interval_ms, 300000u);
	EXPECT_EQ(outcome.config->audit_idle_over_ms, 5400000u);
	outcome = load({"--audit-interval", "0"});
	ASSERT_TRUE(outcome.config) << outcome.message;
	EXPECT_EQ(outcome.config->audit_interval_ms, 0u) << "0 turns the periodic audit off";
	for (const char *text :
	     {"audit-interval = 60\n", "audit-idle-over = 0\n", "audit-interval = soon\n"}) {
		write(text);
		EXPECT_FALSE(load().config) << text;
	}
}

TEST_F(ConfigFile, ErrorsNameTheFileAndTheLine)
{
	write("# comment\nstore-events = 1000\n\ntop-series = many\n");
	ConfigOutcome outcome = load();
	EXPECT_FALSE(outcome.config);
	EXPECT_EQ(outcome.exit_code, 2);
	EXPECT_EQ(outcome.message.rfind("config file " + path_ + " line 4: ", 0), 0u)
	    << outcome.message;
	EXPECT_NE(outcome.message.find("many"), std::string::npos) << outcome.message;

	write("store-events = 10\nstore_evnts = 10\n");
	outcome = load();
	EXPECT_EQ(outcome.message.rfind("config file " + path_ + " line 2: ", 0), 0u)
	    << outcome.message;
	EXPECT_NE(outcome.message.find("store_evnts"), std::string::npos) << outcome.message;

	// Neither the command line's errors nor the environment's are the file's.
	write("store-events = 10\n");
	outcome = load({"--top-series", "many"});
	EXPECT_FALSE(outcome.config);
	EXPECT_EQ(outcome.message.find("line"), std::string::npos) << outcome.message;
	setenv("RSTWATCH_METRICS_LISTEN", "localhost:80", 1);
	outcome = load();
	unsetenv("RSTWATCH_METRICS_LISTEN");
	EXPECT_FALSE(outcome.config);
	EXPECT_EQ(outcome.message.find("line"), std::string::npos) << outcome.message;
}

TEST_F(ConfigFile, MissingExplicitFileIsAnError)
{
	ConfigOutcome outcome =
	    load_config({"rstwatchd", "--config", "/nonexistent/rstwatch.conf"});
	EXPECT_FALSE(outcome.config);
	EXPECT_EQ(outcome.exit_code, 2);
	EXPECT_NE(outcome.message.find("/nonexistent/rstwatch.conf"), std::string::npos)
	    << outcome.message;
}

TEST_F(ConfigFile, EnvironmentNamesTheListeners)
{
	setenv("RSTWATCH_SOCKET", "/tmp/rstwatch-env/q.sock", 1);
	setenv("RSTWATCH_METRICS_LISTEN", "127.0.0.1:0", 1);
	ConfigOutcome outcome = load();
	unsetenv("RSTWATCH_SOCKET");
	unsetenv("RSTWATCH_METRICS_LISTEN");
	ASSERT_TRUE(outcome.config) << outcome.message;
	EXPECT_EQ(outcome.config->socket_path, "/tmp/rstwatch-env/q.sock");
	EXPECT_EQ(outcome.config->metrics_listen, "127.0.0.1:0");
}

TEST_F(ConfigFile, HelpAndVersionAreNotErrors)
{
	ConfigOutcome help = load_config({"rstwatchd", "--help"});
	EXPECT_FALSE(help.config);
	EXPECT_EQ(help.exit_code, 0);
	EXPECT_NE(help.message.find("--metrics-listen"), std::string::npos);
	ConfigOutcome version = load_config({"rstwatchd", "--version"});
	EXPECT_EQ(version.exit_code, 0);
	EXPECT_NE(version.message.find("rstwatchd"), std::string::npos);
}

TEST_F(ConfigFile, RestartOnlyChangesAreNamed)
{
	DaemonConfig running, next;
	next.store_capacity = 10;
	next.top_series = 3;
	next.limits.max_clients = 2;
	next.quiet = true;
	EXPECT_TRUE(restart_only_changes(running, next).empty());
	next.tracer.ring_buffer_bytes *= 2;
	next.metrics_listen = "127.0.0.1:1";
	next.hostname = "node-2";
	EXPECT_EQ(restart_only_changes(running, next),
	          (std::vector<std::string>{"ring-buffer-bytes", "metrics-listen", "hostname"}));
}

// The sample installed as /etc/rstwatch/rstwatch.conf must itself parse.
TEST_F(ConfigFile, ShippedSampleParses)
{
	ConfigOutcome outcome = load_config(
	    {"rstwatchd", "--config", std::string(RSTWATCH_SOURCE_DIR) + "/systemd/rstwatch.conf"});
	ASSERT_TRUE(outcome.config) << outcome.message;
	EXPECT_TRUE(outcome.config->quiet);
	EXPECT_EQ(outcome.config->metrics_listen, "127.0.0.1:9479");
}

} // namespace
} // namespace rstwatch
