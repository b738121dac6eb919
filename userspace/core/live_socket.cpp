#include "core/live_socket.h"

#include "core/audit_risks.h"
#include "core/reset_event.h"

#include <algorithm>
#include <cstring>

namespace rstwatch
{

void LiveSocketCollector::add(const rstwatch_event &record)
{
	Holding holding;
	holding.inode = record.socket_inode;
	holding.holder.pid = record.owner_pid;
	holding.holder.exiting = has_flag(record, RSTWATCH_F_OWNER_EXITING);
	std::memcpy(holding.holder.comm, record.owner_comm, sizeof(holding.holder.comm));
	holdings_.push_back(holding);
	if (socket_risks(record, idle_over_ms_))
		at_risk_.push_back(record);
}

LiveSockets LiveSocketCollector::finish()
{
	LiveSockets out;
	std::sort(holdings_.begin(), holdings_.end(), [](const Holding &a, const Holding &b) {
		return a.inode != b.inode ? a.inode < b.inode : a.holder.pid < b.holder.pid;
	});
	for (size_t i = 0; i < holdings_.size(); i++)
		out.total += i == 0 || holdings_[i].inode != holdings_[i - 1].inode;

	// A socket held by several processes was judged once per holder; one
	// record of each is enough.
	out.records = std::move(at_risk_);
	std::sort(out.records.begin(), out.records.end(),
	          [](const rstwatch_event &a, const rstwatch_event &b) {
		          return a.socket_inode < b.socket_inode;
	          });
	out.records.erase(std::unique(out.records.begin(), out.records.end(),
	                              [](const rstwatch_event &a, const rstwatch_event &b) {
		                              return a.socket_inode == b.socket_inode;
	                              }),
	                  out.records.end());

	// Each socket's holders, contiguous, lowest pid first, one per process.
	std::vector<size_t> first_holder;
	auto holding = holdings_.begin();
	for (rstwatch_event &record : out.records) {
		while (holding != holdings_.end() && holding->inode < record.socket_inode)
			++holding;
		first_holder.push_back(out.holders.size());
		for (; holding != holdings_.end() && holding->inode == record.socket_inode;
		     ++holding) {
			if (out.holders.size() == first_holder.back() ||
			    out.holders.back().pid != holding->holder.pid)
				out.holders.push_back(holding->holder);
		}
		// Every record added a holding, so there is at least one.
		const SocketHolder &owner = out.holders[first_holder.back()];
		record.owner_pid = owner.pid;
		record.owner_tid = owner.pid;
		std::memcpy(record.owner_comm, owner.comm, sizeof(owner.comm));
		record.flags &= ~RSTWATCH_F_OWNER_EXITING;
		if (owner.exiting)
			record.flags |= RSTWATCH_F_OWNER_EXITING;
	}
	holdings_ = {};
	const std::span<const SocketHolder> holders(out.holders);
	for (size_t i = 0; i < out.records.size(); i++) {
		size_t end = i + 1 < first_holder.size() ? first_holder[i + 1] : holders.size();
		out.at_risk.push_back(
		    {&out.records[i], holders.subspan(first_holder[i], end - first_holder[i])});
	}
	return out;
}

} // namespace rstwatch
