// The resets a live socket is headed for: `rstwatch audit`'s rules, pure
// functions of the socket as the audit iterator saw it (an rstwatch_event
// filled from a held socket, bpf/audit.bpf.c). Each risk names the reset it
// predicts, by the cause rstwatch will give it when it happens.
#pragma once

#include "core/classifier.h"
#include "rstwatch/event.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace rstwatch
{

// Stable identifiers, like the causes: the query protocol, the metrics label
// and the CLI use risk_name().
enum class Risk : uint8_t {
	LingerZero,           // SO_LINGER {1, 0}: close() resets
	UnreadData,           // unread bytes sitting: close() now resets
	PeerClosed,           // CLOSE_WAIT: the next write is answered with a reset
	IdleWithoutKeepalive, // idle past what an intermediary allows, nothing keeping it alive
};
inline constexpr size_t kRiskCount = 4;

std::string_view risk_name(Risk risk);
std::optional<Risk> parse_risk(std::string_view name);
// Every risk, in enum order.
const std::array<Risk, kRiskCount> &all_risks();
// What to change so the reset does not happen.
std::string_view risk_remedy(Risk risk);
// The cause the predicted reset gets when it happens.
Cause predicted_cause(Risk risk);

// Unread data and a peer's FIN count once they have sat this long: a
// socket its owner is reading, or about to close, is not stuck.
inline constexpr uint32_t kStuckAfterMs = 1000;
// The idle time past which a connection without keepalive is at risk,
// unless the request names another: five minutes outlives every common
// intermediary's timeout but the longest (docs: README "Auditing").
inline constexpr uint64_t kDefaultIdleOverMs = 300'000;

// Silent both ways: the time an intermediary's idle timer sees.
uint32_t socket_idle_ms(const rstwatch_event &socket);

// The risks of one socket, as bits (1 << Risk); `idle_over_ms` is what
// idle_without_keepalive counts as too long. Times in jiffies (CONFIG_HZ
// unknown) decide nothing: only linger_zero is judged then.
uint8_t socket_risks(const rstwatch_event &socket, uint64_t idle_over_ms);

inline constexpr uint8_t risk_bit(Risk risk)
{
	return static_cast<uint8_t>(1u << static_cast<unsigned>(risk));
}

// The idle time most of the host's received resets came after: what to pass
// as idle_over to catch connections headed the same way.
struct IdleTimeoutSeen {
	uint64_t seconds = 0;
	uint64_t resets = 0; // the resets in that bucket
};

// From the received-reset idle histogram: bucket upper bounds in seconds
// (ascending, the last +Inf) and cumulative counts. Among resets that came
// after at least kStuckAfterMs of silence (the rest are not idle timeouts),
// the bucket holding the most; its lower bound, since a connection is reset
// at the first write after the timeout, never before it. nullopt without
// such resets.
std::optional<IdleTimeoutSeen> idle_timeout_seen(std::span<const double> upper_bounds,
                                                 std::span<const uint64_t> cumulative_counts);

} // namespace rstwatch
