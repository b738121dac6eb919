// Resets by workload on every surface: the event's fields and text line, the
// unit/container/pod/namespace/netns filters, top by each, and the opt-in
// metrics label held to a bounded number of series.
#include "common/json_text.h"
#include "core/event_format.h"
#include "core/event_store.h"
#include "daemon/metrics/metrics.h"
#include "daemon/query/execute.h"
#include "daemon/query/request.h"
#include "daemon/query/response.h"
#include "support/event_builder.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

namespace rstwatch::query
{
namespace
{

using nlohmann::json;
using test::refused_connect_event;

const std::string kId = "3f1c2d4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d";
const std::string kUid = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
const std::string kOtherUid = "00000000-0000-0000-0000-00000000000a";
constexpr uint32_t kHostNetns = 4026531840;
constexpr uint32_t kPodNetns = 4026532999;

// The cgroups the events point at; static, as the CgroupCache's entries
// live as long as the daemon.
const CgroupInfo kWeb{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b4e28ba_"
                      "2fa1_11d2_883f_0016d3cca427.slice/cri-containerd-" +
                          kId + ".scope",
                      "cri-containerd-" + kId + ".scope",
                      kId,
                      kUid,
                      "team-a",
                      "web-7f9c"};
const CgroupInfo kUnnamedPod{"/kubepods/besteffort/pod" + kOtherUid, "", "", kOtherUid, "", ""};
const CgroupInfo kNginx{"/system.slice/nginx.service", "nginx.service", "", "", "", ""};

rstwatch_classify_config classify_config()
{
	return make_classify_config({}, 1000);
}

ResetEvent event_in(uint64_t id, const CgroupInfo *cgroup, uint32_t netns)
{
	return refused_connect_event({.id = id,
	                              .direction = RSTWATCH_DIR_RECEIVED,
	                              .comm = "client",
	                              .pid = 7,
	                              .netns = netns,
	                              .cgroup = cgroup});
}

// Three resets in the named pod (its own netns), two in the pod known by uid
// only, one in nginx.service and one with no cgroup resolved.
EventStore sample_store()
{
	EventStore store(100);
	uint64_t id = 0;
	for (int i = 0; i < 3; i++)
		store.append(event_in(++id, &kWeb, kPodNetns));
	for (int i = 0; i < 2; i++)
		store.append(event_in(++id, &kUnnamedPod, kHostNetns));
	store.append(event_in(++id, &kNginx, kHostNetns));
	store.append(event_in(++id, nullptr, kHostNetns));
	return store;
}

Request parse_ok(const std::string &line)
{
	ParseResult result = parse_request(line, 0);
	if (const auto *error = std::get_if<RequestError>(&result)) {
		ADD_FAILURE() << line << " -> " << error->message;
		return {};
	}
	return std::get<Request>(result);
}

std::vector<uint64_t> selected_ids(const std::string &line)
{
	Request request = parse_ok(line);
	EventStore store = sample_store();
	std::vector<uint64_t> ids;
	for (const ResetEvent *event : select_recent(store, request.filter, 100, classify_config()))
		ids.push_back(event->id);
	return ids;
}

using Ids = std::vector<uint64_t>;

TEST(WorkloadQuery, FiltersSelectByUnitContainerPodNamespaceAndNetns)
{
	EXPECT_EQ(selected_ids(R"({"command":"recent","unit":"nginx.service"})"), Ids{6});
	EXPECT_EQ(selected_ids(R"({"command":"recent","unit":"nginx"})"), Ids{6})
	    << "a unit without a suffix is a service, as systemctl takes it";
	EXPECT_EQ(
	    selected_ids(R"({"command":"recent","unit":"cri-containerd-)" + kId + R"(.scope"})"),
	    (Ids{1, 2, 3}));
	EXPECT_EQ(selected_ids(R"({"command":"recent","container":")" + kId + R"("})"),
	          (Ids{1, 2, 3}));
	EXPECT_EQ(selected_ids(R"({"command":"recent","container":"3F1C2D4E5A6B"})"),
	          (Ids{1, 2, 3}))
	    << "the short id, in either case";
	EXPECT_EQ(selected_ids(R"({"command":"recent","container":"3f1c2d4e5a6c"})"), Ids{});
	EXPECT_EQ(selected_ids(R"({"command":"recent","pod":"web-7f9c"})"), (Ids{1, 2, 3}));
	EXPECT_EQ(selected_ids(R"({"command":"recent","pod":"team-a/web-7f9c"})"), (Ids{1, 2, 3}));
	EXPECT_EQ(selected_ids(R"({"command":"recent","pod":"team-b/web-7f9c"})"), Ids{});
	EXPECT_EQ(selected_ids(R"({"command":"recent","pod":")" + kUid + R"("})"), (Ids{1, 2, 3}));
	EXPECT_EQ(selected_ids(R"({"command":"recent","pod":")" + kOtherUid + R"("})"),
	          (Ids{4, 5}));
	EXPECT_EQ(selected_ids(R"({"command":"recent","namespace":"team-a"})"), (Ids{1, 2, 3}));
	EXPECT_EQ(
	    selected_ids(R"({"command":"recent","namespace":"team-a","pod":"team-a/web-7f9c"})"),
	    (Ids{1, 2, 3}));
	EXPECT_EQ(selected_ids(R"({"command":"recent","netns":4026532999})"), (Ids{1, 2, 3}));
	EXPECT_EQ(selected_ids(R"({"command":"recent","netns":4026531840,"unit":"nginx"})"),
	          Ids{6});
	EXPECT_EQ(selected_ids(R"({"command":"top","namespace":"team-a","netns":4026531840})"),
	          Ids{});
	// follow takes them too.
	EXPECT_EQ(parse_ok(R"({"command":"follow","pod":"web-7f9c"})").filter.workload.pod,
	          "web-7f9c");
}

TEST(WorkloadQuery, FilterValuesOfTheWrongShapeAreBadRequests)
{
	const std::vector<std::string> bad = {
	    R"({"command":"recent","unit":""})",
	    R"({"command":"recent","unit":"a b.service"})",
	    R"({"command":"recent","unit":"x\n.service"})",
	    R"({"command":"recent","unit":7})",
	    R"({"command":"recent","container":""})",
	    R"({"command":"recent","container":"xyz"})",
	    R"({"command":"recent","container":")" + kId + R"(0"})",
	    R"({"command":"recent","pod":""})",
	    R"({"command":"recent","pod":"Web"})",
	    R"({"command":"recent","pod":"a/b/c"})",
	    R"({"command":"recent","pod":"/web"})",
	    R"({"command":"recent","pod":"team_a/web"})",
	    R"({"command":"recent","namespace":"kube.system"})",
	    R"({"command":"recent","namespace":")" + std::string(64, 'a') + R"("})",
	    R"({"command":"recent","namespace":"team-a","pod":"team-b/web"})",
	    R"({"command":"recent","netns":0})",
	    R"({"command":"recent","netns":4294967296})",
	    R"({"command":"recent","netns":"4026531840"})",
	    R"({"command":"stats","pod":"web"})",
	    R"({"command":"top","by":"namespace"})",
	};
	for (const std::string &line : bad) {
		ParseResult result = parse_request(line, 0);
		ASSERT_TRUE(std::holds_alternative<RequestError>(result)) << line;
		const RequestError &error = std::get<RequestError>(result);
		EXPECT_EQ(error.code, ErrorCode::BadRequest) << line;
		EXPECT_LT(error.message.size(), 300u) << line;
	}
	ParseResult result = parse_request(R"({"command":"recent","pod":"Web"})", 0);
	EXPECT_EQ(std::get<RequestError>(result).message,
	          R"(pod must be a pod name, namespace/name or a pod uid, not "Web")");
}

TEST(WorkloadQuery, TopGroupsByUnitContainerPodAndNetns)
{
	EventStore store = sample_store();
	TopResult by_pod = aggregate_top(store, {}, GroupBy::Pod, 10, classify_config());
	ASSERT_EQ(by_pod.groups.size(), 3u);
	EXPECT_EQ(by_pod.groups[0].key, "team-a/web-7f9c");
	EXPECT_EQ(by_pod.groups[0].count, 3u);
	EXPECT_EQ(by_pod.groups[0].pod_uid, kUid);
	EXPECT_EQ(by_pod.groups[0].pod_namespace, "team-a");
	EXPECT_EQ(by_pod.groups[0].pod_name, "web-7f9c");
	EXPECT_EQ(by_pod.groups[1].key, "(no pod)");
	EXPECT_EQ(by_pod.groups[1].count, 2u);
	EXPECT_EQ(by_pod.groups[1].pod_uid, "");
	EXPECT_EQ(by_pod.groups[2].key, kOtherUid) << "a pod not named is shown by its uid";
	EXPECT_EQ(by_pod.groups[2].pod_name, "");

	json body = top_to_json(by_pod, {});
	EXPECT_EQ(body["by"], "pod");
	EXPECT_EQ(body["groups"][0]["pod_uid"], kUid);
	EXPECT_EQ(body["groups"][0]["pod_namespace"], "team-a");
	EXPECT_EQ(body["groups"][0]["pod_name"], "web-7f9c");
	EXPECT_EQ(body["groups"][1]["pod_uid"], "");
	EXPECT_FALSE(body["groups"][0].contains("systemd_unit"));

	TopResult by_unit = aggregate_top(store, {}, GroupBy::Unit, 10, classify_config());
	ASSERT_EQ(by_unit.groups.size(), 3u);
	EXPECT_EQ(by_unit.groups[0].key, "(no unit)");
	EXPECT_EQ(by_unit.groups[0].count, 3u);
	EXPECT_EQ(by_unit.groups[1].key, "cri-containerd-" + kId + ".scope");
	EXPECT_EQ(by_unit.groups[2].systemd_unit, "nginx.service");
	EXPECT_EQ(top_to_json(by_unit, {})["groups"][2]["systemd_unit"], "nginx.service");

	TopResult by_container =
	    aggregate_top(store, {}, GroupBy::Container, 10, classify_config());
	ASSERT_EQ(by_container.groups.size(), 2u);
	EXPECT_EQ(by_container.groups[0].key, "(no container)");
	EXPECT_EQ(by_container.groups[0].count, 4u);
	EXPECT_EQ(by_container.groups[1].container_id, kId);

	TopResult by_netns = aggregate_top(store, {}, GroupBy::Netns, 10, classify_config());
	ASSERT_EQ(by_netns.groups.size(), 2u);
	EXPECT_EQ(by_netns.groups[0].key, std::to_string(kHostNetns));
	EXPECT_EQ(by_netns.groups[0].count, 4u);
	EXPECT_EQ(by_netns.groups[1].netns, kPodNetns);
	EXPECT_EQ(top_to_json(by_netns, {})["groups"][1]["netns"], kPodNetns);

	EXPECT_EQ(parse_ok(R"({"command":"top","by":"pod"})").by, GroupBy::Pod);
	EXPECT_EQ(parse_ok(R"({"command":"top","by":"unit"})").by, GroupBy::Unit);
	EXPECT_EQ(parse_ok(R"({"command":"top","by":"container"})").by, GroupBy::Container);
	EXPECT_EQ(parse_ok(R"({"command":"top","by":"netns"})").by, GroupBy::Netns);
}

OutputContext output_context()
{
	OutputContext context;
	context.classify = classify_config();
	return context;
}

TEST(WorkloadEvent, JsonAndTextLineCarryTheWorkload)
{
	ResetEvent event = event_in(1, &kWeb, kPodNetns);
	json fields = event_to_json(event, output_context());
	EXPECT_EQ(fields["systemd_unit"], kWeb.unit);
	EXPECT_EQ(fields["container_id"], kId);
	EXPECT_EQ(fields["pod_uid"], kUid);
	EXPECT_EQ(fields["pod_namespace"], "team-a");
	EXPECT_EQ(fields["pod_name"], "web-7f9c");
	EXPECT_EQ(fields["netns"], kPodNetns);

	std::string line;
	{
		JsonAppender out(line);
		append_event_text(out, event, output_context());
	}
	EXPECT_TRUE(line.ends_with(" netns=4026532999 unit=cri-containerd-" + kId +
	                           ".scope container=3f1c2d4e5a6b pod=team-a/web-7f9c"))
	    << line;

	struct Case {
		const CgroupInfo *cgroup;
		std::string tail;
		std::string pod_uid;
	};
	for (const Case &known :
	     {Case{&kUnnamedPod, " netns=4026531840 pod=" + kOtherUid, kOtherUid},
	      Case{&kNginx, " netns=4026531840 unit=nginx.service", ""},
	      Case{nullptr, " netns=4026531840", ""}}) {
		ResetEvent other = event_in(2, known.cgroup, kHostNetns);
		std::string text;
		{
			JsonAppender out(text);
			append_event_text(out, other, output_context());
		}
		EXPECT_TRUE(text.ends_with(known.tail)) << text;
		json object = event_to_json(other, output_context());
		EXPECT_EQ(object["pod_uid"], known.pod_uid);
		EXPECT_EQ(object["pod_namespace"], "");
		EXPECT_EQ(object["pod_name"], "");
	}
}

// "name{labels} value" lines of a scrape.
std::map<std::string, double> samples(const std::string &text)
{
	std::map<std::string, double> out;
	std::istringstream lines(text);
	for (std::string line; std::getline(lines, line);) {
		if (line.empty() || line[0] == '#')
			continue;
		size_t space = line.rfind(' ');
		out[line.substr(0, space)] = std::stod(line.substr(space + 1));
	}
	return out;
}

size_t workload_series(const std::map<std::string, double> &scrape)
{
	size_t count = 0;
	for (const auto &[series, value] : scrape)
		count += series.starts_with("rstwatch_resets_by_workload_total{");
	return count;
}

MetricsSources metrics_sources()
{
	MetricsSources sources;
	sources.kernel_counters = [] { return KernelCounters{}; };
	return sources;
}

TEST(WorkloadMetrics, OffByDefault)
{
	ResetMetrics metrics(metrics_sources(), 20);
	metrics.observe(event_in(1, &kWeb, kPodNetns));
	EXPECT_EQ(workload_series(samples(metrics.serialize())), 0u);
}

TEST(WorkloadMetrics, NamespaceLabelIsBoundedWithOtherAndOutside)
{
	ResetMetrics metrics(metrics_sources(), 2, WorkloadLabel::Namespace);
	// Many namespaces; two of them get series, the rest count as other.
	std::vector<CgroupInfo> cgroups(40);
	for (size_t i = 0; i < cgroups.size(); i++) {
		cgroups[i].pod_uid = kUid;
		cgroups[i].pod_namespace = "ns-" + std::to_string(i);
		cgroups[i].pod_name = "p";
	}
	for (int i = 0; i < 5; i++)
		metrics.observe(event_in(1, &kWeb, kPodNetns));
	for (const CgroupInfo &cgroup : cgroups)
		metrics.observe(event_in(2, &cgroup, kPodNetns));
	metrics.observe(event_in(3, &kNginx, kHostNetns));
	metrics.observe(event_in(4, nullptr, kHostNetns));

	auto scrape = samples(metrics.serialize());
	const std::string family = "rstwatch_resets_by_workload_total";
	EXPECT_EQ(scrape.at(family + R"({direction="received",pod_namespace="team-a"})"), 5);
	EXPECT_EQ(scrape.at(family + R"({direction="received",pod_namespace="ns-0"})"), 1);
	EXPECT_EQ(scrape.at(family + R"({direction="received",pod_namespace="other"})"), 39);
	EXPECT_EQ(scrape.at(family + R"({direction="received",pod_namespace=""})"), 2)
	    << "resets outside any pod";
	// Two slots, other and outside per direction.
	EXPECT_EQ(workload_series(scrape), 2u + 2 + 2);
	double total = 0;
	for (const auto &[series, value] : scrape)
		if (series.starts_with(family + "{direction=\"received\""))
			total += value;
	EXPECT_EQ(total, 5 + 40 + 2);
}

TEST(WorkloadMetrics, UnitLabel)
{
	ResetMetrics metrics(metrics_sources(), 20, WorkloadLabel::Unit);
	metrics.observe(event_in(1, &kNginx, kHostNetns));
	metrics.observe(event_in(2, &kUnnamedPod, kHostNetns));
	auto scrape = samples(metrics.serialize());
	EXPECT_EQ(
	    scrape.at(
	        R"(rstwatch_resets_by_workload_total{direction="received",systemd_unit="nginx.service"})"),
	    1);
	EXPECT_EQ(
	    scrape.at(R"(rstwatch_resets_by_workload_total{direction="received",systemd_unit=""})"),
	    1);
	EXPECT_EQ(parse_workload_label("namespace"), WorkloadLabel::Namespace);
	EXPECT_EQ(parse_workload_label("unit"), WorkloadLabel::Unit);
	EXPECT_EQ(parse_workload_label("none"), WorkloadLabel::None);
	EXPECT_EQ(parse_workload_label("pod"), std::nullopt);
}

} // namespace
} // namespace rstwatch::query
