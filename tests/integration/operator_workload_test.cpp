// Resets from processes in real cgroup v2 groups that the test lays out as the
// kubelet does, under both of its cgroup drivers, with a pod log directory of
// its own: the real rstwatchd names each reset's pod, namespace and container,
// and the real rstwatch filters and groups by them.
#include "common/cgroup2.h"
#include "support/operator_fixture.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace rstwatch::test
{
namespace
{

using nlohmann::json;
namespace fs = std::filesystem;

// Random per run: another run of this test on the same machine (another
// build tree) makes cgroups with uids of its own, which this daemon's pod
// directory never names.
std::string random_hex(size_t digits)
{
	static std::mt19937_64 generator{std::random_device{}()};
	static const char kDigits[] = "0123456789abcdef";
	std::string out;
	for (size_t i = 0; i < digits; i++)
		out.push_back(kDigits[generator() % 16]);
	return out;
}

std::string random_uid()
{
	std::string hex = random_hex(32);
	return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
	       hex.substr(16, 4) + "-" + hex.substr(20);
}

// cgroup v2 groups made below a parent of the test's own, removed deepest
// first when the object goes, whatever assertion failed on the way. A
// process left in one (a child of a failed test) is moved to the root first.
class CgroupTree
{
public:
	CgroupTree(std::string root, const std::string &name)
	    : root_(std::move(root)), base_(root_ + "/" + name)
	{
	}
	~CgroupTree()
	{
		for (auto group = made_.rbegin(); group != made_.rend(); ++group) {
			evacuate(*group);
			if (rmdir(group->c_str()) != 0 && errno != ENOENT)
				ADD_FAILURE()
				    << "cannot remove cgroup " << *group << ": " << strerror(errno);
		}
	}
	CgroupTree(const CgroupTree &) = delete;
	CgroupTree &operator=(const CgroupTree &) = delete;

	// Makes base/relative and every group on the way; its absolute path.
	std::string make(const std::string &relative)
	{
		std::string path = base_;
		create(path);
		std::istringstream parts(relative);
		for (std::string part; std::getline(parts, part, '/');) {
			path += "/" + part;
			create(path);
		}
		return path;
	}
	// The path rstwatchd reports: relative to the cgroup2 mount.
	std::string reported(const std::string &path) const { return path.substr(root_.size()); }

private:
	void create(const std::string &path)
	{
		if (mkdir(path.c_str(), 0755) == 0)
			made_.push_back(path);
		else if (errno != EEXIST)
			throw std::runtime_error("mkdir " + path + ": " + strerror(errno));
	}
	void evacuate(const std::string &path) const
	{
		std::ifstream procs(path + "/cgroup.procs");
		for (std::string pid; std::getline(procs, pid);)
			std::ofstream(root_ + "/cgroup.procs") << pid << std::endl;
	}

	std::string root_;
	std::string base_;
	std::vector<std::string> made_;
};

uint32_t own_netns()
{
	struct stat st {
	};
	if (stat("/proc/self/ns/net", &st) != 0)
		throw std::runtime_error("stat /proc/self/ns/net: " + std::string(strerror(errno)));
	return static_cast<uint32_t>(st.st_ino);
}

// Three pods: "web" under the systemd driver with containerd, "batch" under
// the cgroupfs driver with CRI-O, and a third whose log directory has a name
// the kubelet could not have made, so it is known by uid only.
struct Pods {
	std::string web_uid = random_uid();
	std::string batch_uid = random_uid();
	std::string stray_uid = random_uid();
	std::string web_container = random_hex(64);
	std::string batch_container = random_hex(64);
	std::string stray_container = random_hex(64);
};

class OperatorWorkload : public OperatorTest
{
protected:
	static void SetUpTestSuite()
	{
		if (geteuid() != 0)
			return;
		char name[] = "/tmp/rstwatch-pods-XXXXXX";
		if (!mkdtemp(name)) {
			start_error_ = "mkdtemp failed: " + std::string(strerror(errno));
			return;
		}
		pods_dir_ = name;
		pods_ = Pods{};
		for (const std::string &entry :
		     {"team-a_web-7f9c_" + pods_.web_uid, "team-b_batch-0_" + pods_.batch_uid,
		      "Team-C_stray_" + pods_.stray_uid})
			fs::create_directory(pods_dir_ + "/" + entry);
		start_suite_daemon(
		    "workload", {.args = {"--pods-log-dir", pods_dir_, "--metrics-workload-label",
		                          "namespace", "--store-events", "262144"}});
	}
	static void TearDownTestSuite()
	{
		OperatorTest::TearDownTestSuite();
		if (!pods_dir_.empty())
			fs::remove_all(pods_dir_);
	}

	// `rstwatch recent --json` rows for the resets on `port` and these
	// filters.
	static std::vector<json> recent(uint16_t port, const std::vector<std::string> &filters)
	{
		std::vector<std::string> args = {"recent", "--json", "--remote-port",
		                                 std::to_string(port)};
		args.insert(args.end(), filters.begin(), filters.end());
		CommandResult result = daemon_->rstwatch(args);
		EXPECT_EQ(result.exit_code, 0) << result.err;
		std::vector<json> rows;
		for (const std::string &line : lines_of(result.out))
			rows.push_back(json::parse(line));
		return rows;
	}
	static std::vector<std::string> comms(const std::vector<json> &rows)
	{
		std::vector<std::string> out;
		for (const json &row : rows)
			out.push_back(row["comm"]);
		return out;
	}

	static inline std::string pods_dir_;
	static inline Pods pods_;
};

TEST_F(OperatorWorkload, ResetsInPodsCarryTheirPodNamespaceAndContainer)
{
	const std::string root = cgroup2_mount();
	ASSERT_FALSE(root.empty()) << "no cgroup2 hierarchy mounted";
	CgroupTree tree(root, "rstwatch-workload-" + std::to_string(getpid()));
	std::string escaped_uid = pods_.web_uid;
	std::replace(escaped_uid.begin(), escaped_uid.end(), '-', '_');
	const std::string web_scope = "cri-containerd-" + pods_.web_container + ".scope";
	const std::string web =
	    tree.make("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
	              escaped_uid + ".slice/" + web_scope);
	const std::string batch = tree.make("kubepods/besteffort/pod" + pods_.batch_uid + "/crio-" +
	                                    pods_.batch_container);
	const std::string stray =
	    tree.make("kubepods/pod" + pods_.stray_uid + "/" + pods_.stray_container);

	uint16_t port = 0;
	int bound = bound_socket(AF_INET, port);
	refused_connects("wl-web", port, 3, web);
	refused_connects("wl-batch", port, 2, batch);
	refused_connects("wl-stray", port, 1, stray);
	close(bound);
	const uint32_t netns = own_netns();

	// The received resets are the clients' sockets, in the clients' cgroups.
	std::vector<json> events =
	    daemon_->query_events({"--remote-port", std::to_string(port)}, 6);
	ASSERT_EQ(events.size(), 6u);
	for (const json &event : events) {
		SCOPED_TRACE(event.dump());
		EXPECT_EQ(event["direction"], "received");
		EXPECT_EQ(event["netns"], netns);
		if (event["comm"] == "wl-web") {
			EXPECT_EQ(event["cgroup_path"], tree.reported(web));
			EXPECT_EQ(event["systemd_unit"], web_scope);
			EXPECT_EQ(event["container_id"], pods_.web_container);
			EXPECT_EQ(event["pod_uid"], pods_.web_uid);
			EXPECT_EQ(event["pod_namespace"], "team-a");
			EXPECT_EQ(event["pod_name"], "web-7f9c");
		} else if (event["comm"] == "wl-batch") {
			EXPECT_EQ(event["cgroup_path"], tree.reported(batch));
			EXPECT_EQ(event["systemd_unit"], "");
			EXPECT_EQ(event["container_id"], pods_.batch_container);
			EXPECT_EQ(event["pod_uid"], pods_.batch_uid);
			EXPECT_EQ(event["pod_namespace"], "team-b");
			EXPECT_EQ(event["pod_name"], "batch-0");
		} else {
			EXPECT_EQ(event["comm"], "wl-stray");
			EXPECT_EQ(event["container_id"], pods_.stray_container);
			EXPECT_EQ(event["pod_uid"], pods_.stray_uid);
			EXPECT_EQ(event["pod_namespace"], "") << "Team-C is no namespace name";
			EXPECT_EQ(event["pod_name"], "");
		}
	}

	using Comms = std::vector<std::string>;
	const Comms web_only(3, "wl-web");
	EXPECT_EQ(comms(recent(port, {"--pod", "web-7f9c"})), web_only);
	EXPECT_EQ(comms(recent(port, {"--pod", "team-a/web-7f9c"})), web_only);
	EXPECT_EQ(comms(recent(port, {"--pod", pods_.web_uid})), web_only);
	EXPECT_EQ(comms(recent(port, {"--namespace", "team-a"})), web_only);
	EXPECT_EQ(comms(recent(port, {"--container", pods_.web_container.substr(0, 12)})),
	          web_only);
	EXPECT_EQ(comms(recent(port, {"--unit", web_scope})), web_only);
	EXPECT_EQ(comms(recent(port, {"--namespace", "team-b"})), (Comms{"wl-batch", "wl-batch"}));
	EXPECT_EQ(comms(recent(port, {"--pod", "team-b/batch-0"})),
	          (Comms{"wl-batch", "wl-batch"}));
	EXPECT_EQ(comms(recent(port, {"--pod", pods_.stray_uid})), Comms{"wl-stray"});
	EXPECT_EQ(comms(recent(port, {"--pod", "stray"})), Comms{});
	EXPECT_EQ(comms(recent(port, {"--namespace", "team-a", "--pod", "batch-0"})), Comms{});
	EXPECT_EQ(recent(port, {"--netns", std::to_string(netns)}).size(), 6u);
	EXPECT_EQ(recent(port, {"--netns", std::to_string(netns + 1)}).size(), 0u);

	// top --by pod: one group per pod, named where the kubelet named it.
	CommandResult top = daemon_->rstwatch(
	    {"top", "--json", "--by", "pod", "--remote-port", std::to_string(port)});
	ASSERT_EQ(top.exit_code, 0) << top.err;
	json grouped = json::parse(top.out);
	EXPECT_EQ(grouped["by"], "pod");
	EXPECT_EQ(grouped["matched"], 6);
	ASSERT_EQ(grouped["groups"].size(), 3u) << top.out;
	const json &first = grouped["groups"][0];
	EXPECT_EQ(first["key"], "team-a/web-7f9c");
	EXPECT_EQ(first["count"], 3);
	EXPECT_EQ(first["pod_uid"], pods_.web_uid);
	EXPECT_EQ(first["pod_namespace"], "team-a");
	EXPECT_EQ(first["pod_name"], "web-7f9c");
	EXPECT_EQ(first["causes"]["peer_refused"], 3);
	EXPECT_EQ(grouped["groups"][1]["key"], "team-b/batch-0");
	EXPECT_EQ(grouped["groups"][1]["count"], 2);
	EXPECT_EQ(grouped["groups"][2]["key"], pods_.stray_uid);
	EXPECT_EQ(grouped["groups"][2]["pod_name"], "");

	CommandResult table =
	    daemon_->rstwatch({"top", "--by", "pod", "--remote-port", std::to_string(port)});
	ASSERT_EQ(table.exit_code, 0) << table.err;
	std::vector<std::string> rows = lines_of(table.out);
	ASSERT_GE(rows.size(), 4u) << table.out;
	EXPECT_EQ(columns(rows[0]), (std::vector<std::string>{"POD", "COUNT", "SENT", "RECEIVED",
	                                                      "TOP", "CAUSE", "LAST", "SEEN"}));
	std::vector<std::string> web_row = columns(rows[1]);
	ASSERT_GE(web_row.size(), 5u) << rows[1];
	EXPECT_EQ(web_row[0], "team-a/web-7f9c");
	EXPECT_EQ(web_row[1], "3");
	EXPECT_EQ(web_row[4], "peer_refused");

	CommandResult by_container =
	    daemon_->rstwatch({"top", "--by", "container", "--namespace", "team-b", "--remote-port",
	                       std::to_string(port)});
	ASSERT_EQ(by_container.exit_code, 0) << by_container.err;
	rows = lines_of(by_container.out);
	ASSERT_GE(rows.size(), 2u) << by_container.out;
	EXPECT_EQ(columns(rows[1])[0], pods_.batch_container.substr(0, 12));

	// explain says it in words.
	auto web_event = std::find_if(events.begin(), events.end(),
	                              [](const json &event) { return event["comm"] == "wl-web"; });
	ASSERT_NE(web_event, events.end());
	CommandResult explain = daemon_->rstwatch({"explain", (*web_event)["id"].dump()});
	ASSERT_EQ(explain.exit_code, 0) << explain.err;
	EXPECT_NE(explain.out.find("pod:         team-a/web-7f9c (uid " + pods_.web_uid + ")"),
	          std::string::npos)
	    << explain.out;
	EXPECT_NE(explain.out.find("container:   " + pods_.web_container), std::string::npos)
	    << explain.out;
	EXPECT_NE(explain.out.find("unit:        " + web_scope), std::string::npos) << explain.out;
	EXPECT_NE(explain.out.find("netns:       " + std::to_string(netns)), std::string::npos)
	    << explain.out;

	// The opt-in metrics label: resets by namespace.
	const std::string scrape = daemon_->scrape();
	const std::string family = "rstwatch_resets_by_workload_total";
	EXPECT_EQ(metric(scrape, family + R"({direction="received",pod_namespace="team-a"})")
	              .value_or(-1),
	          3)
	    << scrape;
	EXPECT_EQ(metric(scrape, family + R"({direction="received",pod_namespace="team-b"})")
	              .value_or(-1),
	          2);
}

} // namespace
} // namespace rstwatch::test
