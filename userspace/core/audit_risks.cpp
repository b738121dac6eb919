#include "core/audit_risks.h"

#include "core/reset_event.h"

#include <algorithm>

namespace rstwatch
{

namespace
{

// include/net/tcp_states.h
constexpr uint8_t kEstablished = 1;
constexpr uint8_t kSynRecv = 3;
constexpr uint8_t kFinWait1 = 4;
constexpr uint8_t kFinWait2 = 5;
constexpr uint8_t kClose = 7;
constexpr uint8_t kCloseWait = 8;
constexpr uint8_t kListen = 10;

struct RiskInfo {
	Risk risk;
	std::string_view name;
	Cause predicts;
	std::string_view remedy;
};

constexpr std::array<RiskInfo, kRiskCount> kRisks = {{
    {Risk::LingerZero, "linger_zero", Cause::LingerZeroClose,
     "Drop SO_LINGER {on, 0} unless an abortive close is intended: this socket's close() "
     "sends a reset instead of a FIN."},
    {Risk::UnreadData, "unread_data", Cause::CloseWithUnreadData,
     "Read what the peer sent (or shutdown(SHUT_RD) and drain) before close(): closing "
     "with unread bytes sends a reset."},
    {Risk::PeerClosed, "peer_closed", Cause::StaleConnectionReuse,
     "The peer has closed and this side has not: close it (pools: validate or evict "
     "connections the peer closed); its next write is answered with a reset."},
    {Risk::IdleWithoutKeepalive, "idle_without_keepalive", Cause::PeerIdleTimeout,
     "Enable keepalive with TCP_KEEPIDLE below the intermediary's idle timeout, or expire "
     "idle connections sooner: a firewall, NAT or load balancer drops this one."},
}};

// tcp_need_reset(): the states in which an abortive close sends a reset.
bool close_can_reset(uint8_t state)
{
	return state == kEstablished || state == kCloseWait || state == kFinWait1 ||
	       state == kFinWait2 || state == kSynRecv;
}

} // namespace

std::string_view risk_name(Risk risk)
{
	return kRisks[static_cast<size_t>(risk)].name;
}

std::optional<Risk> parse_risk(std::string_view name)
{
	for (const RiskInfo &info : kRisks)
		if (info.name == name)
			return info.risk;
	return std::nullopt;
}

const std::array<Risk, kRiskCount> &all_risks()
{
	static const std::array<Risk, kRiskCount> risks = {
	    Risk::LingerZero, Risk::UnreadData, Risk::PeerClosed, Risk::IdleWithoutKeepalive};
	return risks;
}

std::string_view risk_remedy(Risk risk)
{
	return kRisks[static_cast<size_t>(risk)].remedy;
}

Cause predicted_cause(Risk risk)
{
	return kRisks[static_cast<size_t>(risk)].predicts;
}

std::optional<IdleTimeoutSeen> idle_timeout_seen(std::span<const double> upper_bounds,
                                                 std::span<const uint64_t> cumulative_counts)
{
	std::optional<IdleTimeoutSeen> best;
	double lower = 0;
	uint64_t below = 0;
	for (size_t i = 0; i < upper_bounds.size() && i < cumulative_counts.size(); i++) {
		const uint64_t count = cumulative_counts[i] - std::min(below, cumulative_counts[i]);
		if (lower * 1000 >= kStuckAfterMs && count > 0 && (!best || count > best->resets))
			best = IdleTimeoutSeen{static_cast<uint64_t>(lower), count};
		lower = upper_bounds[i];
		below = cumulative_counts[i];
	}
	return best;
}

uint32_t socket_idle_ms(const rstwatch_event &socket)
{
	return std::min(socket.idle_since_send_ms, socket.idle_since_receive_ms);
}

uint8_t socket_risks(const rstwatch_event &socket, uint64_t idle_over_ms)
{
	uint8_t risks = 0;
	if (has_flag(socket, RSTWATCH_F_LINGER_ON) && socket.linger_seconds == 0 &&
	    close_can_reset(socket.state))
		risks |= risk_bit(Risk::LingerZero);
	if (!has_flag(socket, RSTWATCH_F_HZ_KNOWN))
		return risks;
	// tcp_close() counts unread bytes in every state but these two.
	const bool stuck = socket.idle_since_receive_ms >= kStuckAfterMs;
	if (socket.unread_bytes > 0 && stuck && socket.state != kListen && socket.state != kClose)
		risks |= risk_bit(Risk::UnreadData);
	if (socket.state == kCloseWait && stuck)
		risks |= risk_bit(Risk::PeerClosed);
	if (socket.state == kEstablished && socket_idle_ms(socket) > idle_over_ms) {
		// Keepalive protects only when its first probe comes before the
		// intermediary gives up.
		const bool probes_in_time =
		    has_flag(socket, RSTWATCH_F_KEEPALIVE_ON) &&
		    uint64_t{socket.keepalive_idle_seconds} * 1000 <= idle_over_ms;
		if (!probes_in_time)
			risks |= risk_bit(Risk::IdleWithoutKeepalive);
	}
	return risks;
}

} // namespace rstwatch
