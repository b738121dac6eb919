// Decides why a reset happened: a pure function from one event (and the
// daemon's settings) to a cause from the taxonomy in docs/design.md, the facts
// that decided it, and one sentence on what to change.
#pragma once

#include "rstwatch/classify.h"
#include "rstwatch/event.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rstwatch
{

// Stable identifiers: metrics, the CLI, the query protocol and tests use the
// names cause_name() returns.
enum class Cause : uint8_t {
	Unknown = RSTWATCH_CAUSE_UNKNOWN,
	CloseWithUnreadData = RSTWATCH_CAUSE_CLOSE_WITH_UNREAD_DATA,
	LingerZeroClose = RSTWATCH_CAUSE_LINGER_ZERO_CLOSE,
	ProcessExit = RSTWATCH_CAUSE_PROCESS_EXIT,
	DataAfterClose = RSTWATCH_CAUSE_DATA_AFTER_CLOSE,
	NoSocket = RSTWATCH_CAUSE_NO_SOCKET,
	Refused = RSTWATCH_CAUSE_REFUSED,
	KeepaliveTimeout = RSTWATCH_CAUSE_KEEPALIVE_TIMEOUT,
	MemoryPressure = RSTWATCH_CAUSE_MEMORY_PRESSURE,
	Disconnect = RSTWATCH_CAUSE_DISCONNECT,
	Timewait = RSTWATCH_CAUSE_TIMEWAIT,
	Protocol = RSTWATCH_CAUSE_PROTOCOL,
	PeerRefused = RSTWATCH_CAUSE_PEER_REFUSED,
	StaleConnectionReuse = RSTWATCH_CAUSE_STALE_CONNECTION_REUSE,
	PeerIdleTimeout = RSTWATCH_CAUSE_PEER_IDLE_TIMEOUT,
	MiddleboxInjected = RSTWATCH_CAUSE_MIDDLEBOX_INJECTED,
	PeerReset = RSTWATCH_CAUSE_PEER_RESET,
};
inline constexpr size_t kCauseCount = RSTWATCH_CAUSE_COUNT;

std::string_view cause_name(Cause cause);
std::optional<Cause> parse_cause(std::string_view name);
// Every cause, in enum order.
const std::array<Cause, kCauseCount> &all_causes();
std::string_view cause_remedy(Cause cause);
// The remedy for a received reset whose sender is a socket on this host with
// a known cause: what to change is on the sending side, whatever the
// receiving side's own cause suggests.
std::string_view linked_sender_remedy(Cause sender_cause);

// Builds the rule configuration from this kernel's enum sk_rst_reason names
// (KernelBtf::enum_names), indexed by value.
rstwatch_classify_config make_classify_config(const std::vector<std::string> &reason_names,
                                              uint32_t idle_threshold_ms);

// Only the cause: cheap, allocation-free; the same rules the kernel ran.
Cause classify_cause(const rstwatch_event &event, const rstwatch_classify_config &config);

// Receives the facts behind a cause one at a time, each "name=value", so
// that an output can write them without building a string per fact.
class FactSink
{
public:
	virtual void fact(std::string_view name, std::string_view value) = 0;
	virtual void fact(std::string_view name, uint64_t value) = 0;

protected:
	~FactSink() = default;
};

// The facts that decided `cause` for this event, in a fixed order.
// `kernel_reason_name` is the name of event.kernel_reason (unused when the
// kernel gave none).
void explain_cause(const rstwatch_event &event, Cause cause, const rstwatch_classify_config &config,
                   std::string_view kernel_reason_name, FactSink &facts);
// The same facts as "name=value" strings.
std::vector<std::string> cause_evidence(const rstwatch_event &event, Cause cause,
                                        const rstwatch_classify_config &config,
                                        std::string_view kernel_reason_name);
} // namespace rstwatch
