#include "daemon/audit_worker.h"

#include "common/error.h"
#include "common/log.h"
#include "common/wire.h"
#include "core/enrich.h"
#include "core/live_socket.h"
#include "daemon/metrics/metrics.h"
#include "daemon/query/audit.h"
#include "daemon/query/query_server.h"
#include "daemon/query/response.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>

namespace rstwatch
{

namespace
{

uint64_t ms_between(AuditWorker::Clock::time_point from, AuditWorker::Clock::time_point to)
{
	return static_cast<uint64_t>(
	    std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
}

} // namespace

AuditWorker::AuditWorker(Walk walk, WorkloadSources workload, std::string hostname)
    : walk_(std::move(walk)), cgroups_(std::move(workload)), hostname_(std::move(hostname))
{
	ready_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
	if (!ready_)
		throw Error("eventfd for the audit worker failed: " + errno_text(errno));
	thread_ = std::thread([this] { run(); });
}

AuditWorker::~AuditWorker()
{
	{
		std::lock_guard lock(mutex_);
		stopping_ = true;
	}
	wake_.notify_one();
	thread_.join();
}

void AuditWorker::enqueue(Job job)
{
	{
		std::lock_guard lock(mutex_);
		jobs_.push_back(std::move(job));
	}
	wake_.notify_one();
}

void AuditWorker::submit(const query::ClientTicket &ticket, const query::Request &request,
                         std::optional<IdleTimeoutSeen> seen)
{
	enqueue({false, ticket, request, seen});
}

void AuditWorker::schedule(Clock::time_point now, std::chrono::milliseconds interval,
                           uint64_t idle_over_ms)
{
	if (interval.count() == 0 || periodic_pending_ || now < next_periodic_)
		return;
	Job job;
	job.periodic = true;
	job.request.command = query::Command::Audit;
	job.request.limit = 0;
	job.request.audit.idle_over_ms = idle_over_ms;
	periodic_pending_ = true;
	next_periodic_ = now + interval;
	enqueue(std::move(job));
}

void AuditWorker::hand_out(QueryServer *server, ResetMetrics &metrics, Clock::time_point now)
{
	uint64_t signals = 0;
	ssize_t ignored = read(ready_.get(), &signals, sizeof(signals));
	(void)ignored;
	std::vector<Done> done;
	{
		std::lock_guard lock(mutex_);
		done.swap(done_);
	}
	for (Done &answer : done) {
		if (answer.periodic) {
			periodic_pending_ = false;
			if (answer.ok)
				metrics.set_sockets_at_risk(answer.at_risk);
		} else if (server) {
			server->deliver(answer.ticket, wire::command::kAudit, answer.lines,
			                answer.ok, now);
		}
	}
}

void AuditWorker::run()
{
	std::vector<Job> jobs;
	std::vector<Done> done;
	for (;;) {
		{
			std::unique_lock lock(mutex_);
			wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
			if (stopping_)
				return;
			jobs.swap(jobs_);
		}
		audit(jobs, done);
		jobs.clear();
		{
			std::lock_guard lock(mutex_);
			for (Done &answer : done)
				done_.push_back(std::move(answer));
		}
		done.clear();
		const uint64_t one = 1;
		ssize_t ignored = write(ready_.get(), &one, sizeof(one));
		(void)ignored;
	}
}

void AuditWorker::audit(std::vector<Job> &jobs, std::vector<Done> &done)
{
	const Clock::time_point started = Clock::now();
	uint64_t idle_over_ms = kDefaultIdleOverMs;
	for (const Job &job : jobs)
		idle_over_ms = std::min(idle_over_ms, job.request.audit.idle_over_ms);
	LiveSocketCollector collector(idle_over_ms);
	std::string failure;
	try {
		walk_([&collector](const rstwatch_event &record) { collector.add(record); });
	} catch (const std::exception &e) {
		failure = e.what();
		log::warning(std::string("audit: ") + failure);
	}
	LiveSockets sockets = collector.finish();
	for (LiveSocket &socket : sockets.at_risk)
		socket.cgroup = cgroups_.lookup(socket.raw->cgroup_id);
	const Clock::time_point walked = Clock::now();
	for (Job &job : jobs) {
		Done answer;
		answer.periodic = job.periodic;
		answer.ticket = job.ticket;
		if (!failure.empty()) {
			answer.ok = false;
			answer.lines =
			    query::error_line(query::ErrorCode::Internal,
			                      "walking the live sockets failed: " + failure);
			done.push_back(std::move(answer));
			continue;
		}
		try {
			const Clock::time_point judging = Clock::now();
			query::AuditResult result =
			    query::run_audit(sockets.at_risk, sockets.total, job.request);
			answer.at_risk = result.by_risk;
			if (!job.periodic) {
				query::AuditContext context;
				context.idle_over_ms = job.request.audit.idle_over_ms;
				context.summary = job.request.audit.summary;
				context.elapsed_ms =
				    ms_between(started, walked) + ms_between(judging, Clock::now());
				context.idle_timeout_seen = job.seen;
				context.hostname = hostname_;
				answer.lines =
				    query::ok_line(query::audit_to_json(result, context));
			}
		} catch (const std::exception &e) {
			answer.ok = false;
			answer.lines = query::error_line(query::ErrorCode::Internal, e.what());
		}
		done.push_back(std::move(answer));
	}
}

} // namespace rstwatch
