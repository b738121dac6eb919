// Audits run off the event loop, so a walk over every process's descriptors
// never holds up ingestion: a thread walks the live TCP sockets, judges them
// for every request waiting, and writes the answers; the loop learns they are
// ready from an eventfd in its epoll and hands them out (to the query clients
// that asked, or to the rstwatch_sockets_at_risk gauges for the periodic
// audit). Requests that arrive during a walk share the next one.
#pragma once

#include "common/unique_fd.h"
#include "core/audit_risks.h"
#include "core/enrich.h"
#include "daemon/query/client.h"
#include "daemon/query/request.h"

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rstwatch
{

class QueryServer;
class ResetMetrics;

class AuditWorker
{
public:
	using Clock = std::chrono::steady_clock;
	// One pass of the audit iterator (SocketOwners::read_live_sockets),
	// each record handed to the callback; runs on the worker thread and
	// may throw Error.
	using Record = std::function<void(const rstwatch_event &)>;
	using Walk = std::function<void(const Record &)>;

	// `workload` resolves the workload fields and filters; `hostname`
	// names the node in every row.
	AuditWorker(Walk walk, WorkloadSources workload, std::string hostname);
	// Waits for a walk in progress, then stops the thread.
	~AuditWorker();
	AuditWorker(const AuditWorker &) = delete;
	AuditWorker &operator=(const AuditWorker &) = delete;

	// Readable when answers are ready: the daemon's epoll watches it and
	// then calls hand_out().
	int fd() const { return ready_.get(); }
	// A client's audit request; the answer goes to it through
	// QueryServer::deliver(). `seen` is the idle timeout the resets showed.
	void submit(const query::ClientTicket &ticket, const query::Request &request,
	            std::optional<IdleTimeoutSeen> seen);
	// The periodic audit for the gauges, when `interval` has passed since
	// the last one (0: never) and none is still running.
	void schedule(Clock::time_point now, std::chrono::milliseconds interval,
	              uint64_t idle_over_ms);
	// Hands out the answers ready: to clients through `server` (may be
	// null), the periodic counts to `metrics`.
	void hand_out(QueryServer *server, ResetMetrics &metrics, Clock::time_point now);

private:
	struct Job {
		bool periodic = false;
		query::ClientTicket ticket;
		query::Request request;
		std::optional<IdleTimeoutSeen> seen;
	};
	struct Done {
		bool periodic = false;
		query::ClientTicket ticket;
		std::string lines;
		bool ok = true;
		std::array<uint64_t, kRiskCount> at_risk{};
	};

	void enqueue(Job job);
	void run();
	void audit(std::vector<Job> &jobs, std::vector<Done> &done);

	Walk walk_;
	CgroupCache cgroups_; // the worker thread's; the pipeline's is the loop's
	std::string hostname_;
	UniqueFd ready_;
	std::mutex mutex_;
	std::condition_variable wake_;
	std::vector<Job> jobs_;         // under mutex_
	std::vector<Done> done_;        // under mutex_
	bool stopping_ = false;         // under mutex_
	bool periodic_pending_ = false; // event loop only
	Clock::time_point next_periodic_{};
	std::thread thread_; // last: it starts once everything above exists
};

} // namespace rstwatch
