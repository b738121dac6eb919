// What a cgroup path says about a socket's workload: real path shapes from
// systemd, docker, containerd, CRI-O and the kubelet's two cgroup drivers,
// and hostile ones that must name nothing (or nothing they did not earn).
// Pod names from the kubelet's log directories, laid out in a temp dir.
#include "core/enrich.h"
#include "core/pod_directory.h"
#include "core/workload.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace rstwatch
{
namespace
{

namespace fs = std::filesystem;

const std::string kId = "3f1c2d4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d";
const std::string kNode = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kUid = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
const std::string kUidEscaped = "1b4e28ba_2fa1_11d2_883f_0016d3cca427";
const std::string kStaticUid = "5b5c9b3d6a5f0a3c8f4b7f9d2a1c3e4f";

struct Expected {
	std::string unit;
	std::string container;
	std::string pod_uid;
};

Expected described(const std::string &path)
{
	CgroupInfo info;
	info.path = path;
	describe_cgroup_path(info);
	return {info.unit, info.container, info.pod_uid};
}

void expect_described(const std::string &path, const Expected &expected)
{
	Expected got = described(path);
	EXPECT_EQ(got.unit, expected.unit) << path;
	EXPECT_EQ(got.container, expected.container) << path;
	EXPECT_EQ(got.pod_uid, expected.pod_uid) << path;
}

TEST(WorkloadPath, SystemdUnitsAndPlainContainers)
{
	expect_described("/", {});
	expect_described("/init.scope", {"init.scope", "", ""});
	expect_described("/system.slice/nginx.service", {"nginx.service", "", ""});
	expect_described("/system.slice/systemd-resolved.service",
	                 {"systemd-resolved.service", "", ""});
	expect_described("/system.slice/system-getty.slice/getty@tty1.service",
	                 {"getty@tty1.service", "", ""});
	expect_described("/user.slice/user-1000.slice/session-2.scope",
	                 {"session-2.scope", "", ""});
	// The system manager's unit: what the user's own manager runs below it
	// was named by the user.
	expect_described("/user.slice/user-1000.slice/user@1000.service/app.slice/"
	                 "app-gnome-firefox-4242.scope",
	                 {"user@1000.service", "", ""});
	// A delegated service's own subgroups are still the service's.
	expect_described("/system.slice/foo.service/worker", {"foo.service", "", ""});
	expect_described("/system.slice/docker.socket", {"docker.socket", "", ""});
	expect_described("/system.slice/docker-" + kId + ".scope",
	                 {"docker-" + kId + ".scope", kId, ""});
	expect_described("/machine.slice/libpod-" + kId + ".scope/container",
	                 {"libpod-" + kId + ".scope", kId, ""});
	expect_described("/docker/" + kId, {"", kId, ""});
	// Docker in docker: the outer container is the one this host runs.
	expect_described("/docker/" + kNode + "/docker/" + kId, {"", kNode, ""});
	expect_described("/system.slice/containerd.service", {"containerd.service", "", ""});
}

TEST(WorkloadPath, KubernetesPodsUnderTheSystemdDriver)
{
	const std::string burstable = "/kubepods.slice/kubepods-burstable.slice/"
	                              "kubepods-burstable-pod" +
	                              kUidEscaped + ".slice";
	expect_described(burstable + "/cri-containerd-" + kId + ".scope",
	                 {"cri-containerd-" + kId + ".scope", kId, kUid});
	expect_described(burstable + "/crio-" + kId + ".scope",
	                 {"crio-" + kId + ".scope", kId, kUid});
	// crun under CRI-O puts the container's processes one level down.
	expect_described(burstable + "/crio-" + kId + ".scope/container",
	                 {"crio-" + kId + ".scope", kId, kUid});
	expect_described(burstable + "/docker-" + kId + ".scope",
	                 {"docker-" + kId + ".scope", kId, kUid});
	// CRI-O's monitor runs in the pod but is not the container.
	expect_described(burstable + "/crio-conmon-" + kId + ".scope",
	                 {"crio-conmon-" + kId + ".scope", "", kUid});
	// The pod's own slice, and a guaranteed pod straight under kubepods.
	expect_described(burstable, {"", "", kUid});
	expect_described("/kubepods.slice/kubepods-pod" + kUidEscaped + ".slice/cri-containerd-" +
	                     kId + ".scope",
	                 {"cri-containerd-" + kId + ".scope", kId, kUid});
	expect_described("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" +
	                     kUidEscaped + ".slice/cri-containerd-" + kId + ".scope",
	                 {"cri-containerd-" + kId + ".scope", kId, kUid});
	// A static pod's uid is a hash of its manifest.
	expect_described("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
	                     kStaticUid + ".slice/cri-containerd-" + kId + ".scope",
	                 {"cri-containerd-" + kId + ".scope", kId, kStaticUid});
	// --cgroup-root=/kubelet (kind, k3s) and a parent of the test's own.
	expect_described("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	                 "kubelet-kubepods-besteffort-pod" +
	                     kUidEscaped + ".slice/cri-containerd-" + kId + ".scope",
	                 {"cri-containerd-" + kId + ".scope", kId, kUid});
	expect_described("/rstwatch-test-42" + burstable + "/cri-containerd-" + kId + ".scope",
	                 {"cri-containerd-" + kId + ".scope", kId, kUid});
}

TEST(WorkloadPath, KubernetesPodsUnderTheCgroupfsDriver)
{
	expect_described("/kubepods/burstable/pod" + kUid + "/" + kId, {"", kId, kUid});
	expect_described("/kubepods/besteffort/pod" + kUid + "/" + kId, {"", kId, kUid});
	expect_described("/kubepods/pod" + kUid + "/" + kId, {"", kId, kUid});
	expect_described("/kubepods/burstable/pod" + kUid + "/crio-" + kId, {"", kId, kUid});
	expect_described("/kubepods/burstable/pod" + kStaticUid + "/" + kId, {"", kId, kStaticUid});
	expect_described("/kubepods/burstable/pod" + kUid, {"", "", kUid});
	expect_described("/kubelet/kubepods/burstable/pod" + kUid + "/" + kId, {"", kId, kUid});
}

TEST(WorkloadPath, WhatAContainerOrServiceMakesBelowItselfClaimsNoPod)
{
	// A container or a delegated service may make any cgroup below its
	// own, named after a pod it is not.
	expect_described("/system.slice/docker-" + kNode + ".scope/kubepods/pod" + kUid + "/" + kId,
	                 {"docker-" + kNode + ".scope", kNode, ""});
	expect_described("/docker/" + kNode + "/kubepods/burstable/pod" + kUid + "/" + kId,
	                 {"", kNode, ""});
	expect_described("/system.slice/foo.service/kubepods.slice/kubepods-pod" + kUidEscaped +
	                     ".slice/cri-containerd-" + kId + ".scope",
	                 {"foo.service", kId, ""});
	// Hence pods of a kind cluster, seen from the host, are its node's.
	expect_described("/system.slice/docker-" + kNode +
	                     ".scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod" +
	                     kUidEscaped + ".slice/cri-containerd-" + kId + ".scope",
	                 {"docker-" + kNode + ".scope", kNode, ""});
	// A pod's container making a pod of its own: the kubelet's comes first.
	const std::string other = "00000000-0000-0000-0000-000000000000";
	expect_described("/kubepods/pod" + kUid + "/" + kId + "/kubepods/pod" + other + "/" + kNode,
	                 {"", kId, kUid});
	// A unit name below a container is the container's doing.
	expect_described("/docker/" + kId + "/sshd.service", {"", kId, ""});
}

TEST(WorkloadPath, MalformedComponentsNameNothing)
{
	std::string upper_uid = kUid;
	upper_uid[0] = 'B';
	std::string upper_id = kId;
	upper_id[5] = 'F';
	const std::vector<std::string> nameless = {
	    "/kubepods/pod",
	    "/kubepods/pod..",
	    "/kubepods/podXYZ",
	    "/kubepods/pod" + upper_uid,
	    "/kubepods/pod" + kUid + "0",
	    "/kubepods/pod" + kUid.substr(1),
	    "/kubepods/pod" + kUidEscaped, // the systemd escape, outside a slice
	    "/kubepods/pod1b4e28ba2-fa1-11d2-883f-0016d3cca427",
	    "/pod" + kUid,                                              // not below kubepods
	    "/kubepods.slice/kubepods-burstable-pod" + kUid + ".slice", // dashes unescaped
	    "/kubepods.slice/kubepods-burstable-pod" + kUidEscaped + "_.slice",
	    "/system.slice/foo-pod" + kUidEscaped + ".slice", // not the kubelet's
	    "/kubepods.slice/xkubepods-pod" + kUidEscaped + ".slice",
	    "/docker/" + kId.substr(1),
	    "/docker/" + kId + "0",
	    "/docker/" + upper_id,
	    "/docker/" + std::string(64, 'g'),
	    "/-" + kId,
	    "/Docker-" + kId,
	    "/run.1-" + kId,
	    "/system.slice/.service",
	    "/system.slice/evil\n.service",
	    "/system.slice/a b.service",
	    "/system.slice/caf\xc3\xa9.service",
	    "/system.slice/x.service\x1b[31m",
	    "/system.slice/" + std::string(250, 'a') + ".service",
	    "/system.slice/nginx.slice",
	    "/system.slice/nginx.mount",
	};
	for (const std::string &path : nameless)
		expect_described(path, {});
}

TEST(WorkloadPath, DepthAndLengthAreBounded)
{
	std::string deep;
	for (size_t i = 0; i < kMaxCgroupDepth; i++)
		deep += "/d";
	expect_described(deep + "/nginx.service", {});
	expect_described(deep.substr(2) + "/nginx.service", {"nginx.service", "", ""});
	std::string long_path = "/nginx.service/" + std::string(kMaxCgroupPathBytes, 'x');
	expect_described(long_path, {});
	// Empty components ("//") are no depth.
	expect_described("//system.slice///nginx.service/", {"nginx.service", "", ""});
}

TEST(WorkloadPath, ShapesOfEachPart)
{
	EXPECT_TRUE(is_unit_name("getty@tty1.service"));
	EXPECT_TRUE(is_unit_name("systemd-fsck@dev-disk-by\\x2duuid-1.service"));
	EXPECT_FALSE(is_unit_name("nginx"));
	EXPECT_TRUE(is_unit_name(std::string(247, 'a') + ".service"));
	EXPECT_FALSE(is_unit_name(std::string(248, 'a') + ".service"));
	EXPECT_TRUE(is_pod_uid(kUid));
	EXPECT_TRUE(is_pod_uid(kStaticUid));
	EXPECT_FALSE(is_pod_uid(kUidEscaped));
	EXPECT_TRUE(is_pod_namespace("kube-system"));
	EXPECT_TRUE(is_pod_namespace(std::string(63, 'a')));
	EXPECT_FALSE(is_pod_namespace(std::string(64, 'a')));
	EXPECT_FALSE(is_pod_namespace("kube.system"));
	EXPECT_FALSE(is_pod_namespace("-a"));
	EXPECT_FALSE(is_pod_namespace("a-"));
	EXPECT_TRUE(is_pod_name("web.v2-7f9c"));
	EXPECT_TRUE(is_pod_name(std::string(253, 'a')));
	EXPECT_FALSE(is_pod_name(std::string(254, 'a')));
	EXPECT_FALSE(is_pod_name("Web"));
	EXPECT_FALSE(is_pod_name(""));
}

TEST(PodLogName, TheKubeletsDirectoryNames)
{
	auto parsed = parse_pod_log_name("kube-system_coredns-5d78c9869d-x7b2k_" + kUid);
	ASSERT_TRUE(parsed);
	EXPECT_EQ(parsed->pod_namespace, "kube-system");
	EXPECT_EQ(parsed->pod_name, "coredns-5d78c9869d-x7b2k");
	EXPECT_EQ(parsed->pod_uid, kUid);
	parsed = parse_pod_log_name("kube-system_kube-apiserver-node1.example_" + kStaticUid);
	ASSERT_TRUE(parsed);
	EXPECT_EQ(parsed->pod_name, "kube-apiserver-node1.example");

	const std::vector<std::string> hostile = {
	    "",
	    "_",
	    "__",
	    "ns_" + kUid,
	    "ns__" + kUid,
	    "_web_" + kUid,
	    "ns_web_",
	    "ns_web_" + kUidEscaped,
	    "ns_we_b_" + kUid,
	    "n_s_web_" + kUid,
	    "Team_web_" + kUid,
	    "ns_Web_" + kUid,
	    "-ns_web_" + kUid,
	    "ns_web-_" + kUid,
	    "ns_.._" + kUid,
	    "ns_web\n_" + kUid,
	    "ns_w\xc3\xa9"
	    "b_" +
	        kUid,
	    std::string(64, 'a') + "_web_" + kUid,
	    "ns_" + std::string(254, 'a') + "_" + kUid,
	    "ns_web_" + kUid + "_",
	};
	for (const std::string &name : hostile)
		EXPECT_FALSE(parse_pod_log_name(name)) << name;
}

// A pod log directory and a cgroup tree of plain directories (the cache
// takes a directory's inode as its cgroup id, as cgroup2 has it).
class WorkloadTree : public ::testing::Test
{
protected:
	void SetUp() override
	{
		char name[] = "/tmp/rstwatch-workload-test-XXXXXX";
		ASSERT_NE(mkdtemp(name), nullptr);
		root_ = name;
		fs::create_directories(pods() + "/");
		fs::create_directories(cgroups());
	}
	void TearDown() override { fs::remove_all(root_); }

	std::string pods() const { return root_ + "/pods"; }
	std::string cgroups() const { return root_ + "/cgroup"; }
	void pod_log_dir(const std::string &name) { fs::create_directory(pods() + "/" + name); }
	uint64_t cgroup(const std::string &path)
	{
		fs::create_directories(cgroups() + path);
		struct stat st {
		};
		EXPECT_EQ(stat((cgroups() + path).c_str(), &st), 0);
		return st.st_ino;
	}

	std::string root_;
};

TEST_F(WorkloadTree, PodDirectoryBelievesOnlyWhatTheKubeletWouldMake)
{
	const std::string other = "00000000-0000-0000-0000-000000000001";
	const std::string contested = "00000000-0000-0000-0000-000000000002";
	const std::string linked = "00000000-0000-0000-0000-000000000003";
	const std::string file = "00000000-0000-0000-0000-000000000004";
	pod_log_dir("team-a_web-7f9c_" + kUid);
	pod_log_dir("kube-system_etcd-node1_" + kStaticUid);
	pod_log_dir("Bad_Names_" + other);
	// Two directories claiming one uid: neither is believed.
	pod_log_dir("team-a_one_" + contested);
	pod_log_dir("team-b_two_" + contested);
	fs::create_directory_symlink(pods() + "/team-a_web-7f9c_" + kUid,
	                             pods() + "/team-c_link_" + linked);
	std::ofstream(pods() + "/team-d_file_" + file) << "not a directory";

	PodDirectory directory(pods());
	const PodLogName *web = directory.find(kUid);
	ASSERT_NE(web, nullptr);
	EXPECT_EQ(web->pod_namespace, "team-a");
	EXPECT_EQ(web->pod_name, "web-7f9c");
	const PodLogName *etcd = directory.find(kStaticUid);
	ASSERT_NE(etcd, nullptr);
	EXPECT_EQ(etcd->pod_name, "etcd-node1");
	for (const std::string &uid : {other, contested, linked, file})
		EXPECT_EQ(directory.find(uid), nullptr) << uid;
	EXPECT_EQ(directory.size(), 2u);

	EXPECT_EQ(PodDirectory("").find(kUid), nullptr);
	EXPECT_EQ(PodDirectory(root_ + "/missing").find(kUid), nullptr);
}

TEST_F(WorkloadTree, CacheResolvesPodsAndNamesThemOnceTheirDirectoryShowsUp)
{
	const std::string named =
	    "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidEscaped +
	    ".slice/cri-containerd-" + kId + ".scope";
	const std::string later_uid = "00000000-0000-0000-0000-00000000000a";
	const std::string later = "/kubepods/besteffort/pod" + later_uid + "/" + kNode;
	uint64_t named_id = cgroup(named);
	uint64_t later_id = cgroup(later);
	pod_log_dir("team-a_web-7f9c_" + kUid);

	CgroupCache cache({cgroups(), pods()});
	const CgroupInfo *info = cache.lookup(named_id);
	ASSERT_NE(info, nullptr);
	EXPECT_EQ(info->path, named);
	EXPECT_EQ(info->unit, "cri-containerd-" + kId + ".scope");
	EXPECT_EQ(info->container, kId);
	EXPECT_EQ(info->pod_uid, kUid);
	EXPECT_EQ(info->pod_namespace, "team-a");
	EXPECT_EQ(info->pod_name, "web-7f9c");

	const CgroupInfo *pending = cache.lookup(later_id);
	ASSERT_NE(pending, nullptr);
	EXPECT_EQ(pending->pod_uid, later_uid);
	EXPECT_EQ(pending->pod_name, "");
	// The directory appears; the next scan is due a second after the last.
	pod_log_dir("team-b_batch-0_" + later_uid);
	std::this_thread::sleep_for(std::chrono::nanoseconds(PodDirectory::kRescanIntervalNs) +
	                            std::chrono::milliseconds(100));
	EXPECT_EQ(cache.lookup(later_id), pending) << "the same entry, now named";
	EXPECT_EQ(pending->pod_namespace, "team-b");
	EXPECT_EQ(pending->pod_name, "batch-0");

	// Without a pod directory, pods stay uids.
	CgroupCache unnamed({cgroups(), ""});
	const CgroupInfo *uid_only = unnamed.lookup(named_id);
	ASSERT_NE(uid_only, nullptr);
	EXPECT_EQ(uid_only->pod_uid, kUid);
	EXPECT_EQ(uid_only->pod_name, "");
}

} // namespace
} // namespace rstwatch
