#include "reset_event.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <ctime>

namespace rstwatch
{

DecodeStatus decode_event(const void *data, size_t size, rstwatch_event &out)
{
	if (size != sizeof(rstwatch_event))
		return DecodeStatus::WrongSize;
	std::memcpy(&out, data, sizeof(out));
	if (out.version != RSTWATCH_EVENT_VERSION)
		return DecodeStatus::WrongVersion;
	return DecodeStatus::Ok;
}

std::string_view decode_status_name(DecodeStatus status)
{
	switch (status) {
	case DecodeStatus::Ok:
		return "ok";
	case DecodeStatus::WrongSize:
		return "wrong_size";
	case DecodeStatus::WrongVersion:
		return "wrong_version";
	}
	return "unknown";
}

std::string_view direction_name(uint8_t direction)
{
	switch (direction) {
	case RSTWATCH_DIR_SENT:
		return "sent";
	case RSTWATCH_DIR_RECEIVED:
		return "received";
	default:
		return "unknown";
	}
}

std::string_view tcp_state_name(uint8_t state)
{
	// include/net/tcp_states.h: part of the kernel ABI (ss and the
	// inet_diag interface use the same numbers).
	static constexpr std::array<std::string_view, 14> names = {
	    "NONE",      "ESTABLISHED", "SYN_SENT",     "SYN_RECV",       "FIN_WAIT1",
	    "FIN_WAIT2", "TIME_WAIT",   "CLOSE",        "CLOSE_WAIT",     "LAST_ACK",
	    "LISTEN",    "CLOSING",     "NEW_SYN_RECV", "BOUND_INACTIVE",
	};
	return state < names.size() ? names[state] : "UNKNOWN";
}

std::string_view owner_source_name(uint8_t source)
{
	switch (source) {
	case RSTWATCH_OWNER_CURRENT:
		return "current";
	case RSTWATCH_OWNER_SOCKET:
		return "socket_owner";
	case RSTWATCH_OWNER_CLOSER:
		return "closer";
	default:
		return "none";
	}
}

bool is_v4_mapped(const uint8_t address[16])
{
	static constexpr uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return std::memcmp(address, prefix, sizeof(prefix)) == 0;
}

std::string_view family_name(const rstwatch_event &event)
{
	if (event.family == RSTWATCH_AF_INET6 && !is_v4_mapped(event.local_addr))
		return "ipv6";
	return "ipv4";
}

std::string format_address(const rstwatch_event &event, bool local)
{
	const uint8_t *address = local ? event.local_addr : event.remote_addr;
	char text[INET6_ADDRSTRLEN] = {};
	if (event.family == RSTWATCH_AF_INET6 && !is_v4_mapped(address))
		inet_ntop(AF_INET6, address, text, sizeof(text));
	else
		inet_ntop(AF_INET, event.family == RSTWATCH_AF_INET6 ? address + 12 : address, text,
		          sizeof(text));
	return text;
}

std::string format_endpoint(const rstwatch_event &event, bool local)
{
	std::string address = format_address(event, local);
	uint16_t port = local ? event.local_port : event.remote_port;
	if (family_name(event) == "ipv6")
		return "[" + address + "]:" + std::to_string(port);
	return address + ":" + std::to_string(port);
}

std::string ReasonNames::name(uint32_t reason) const
{
	if (reason == RSTWATCH_REASON_UNAVAILABLE)
		return "unavailable";
	if (reason < names_.size() && !names_[reason].empty())
		return names_[reason];
	return "REASON_" + std::to_string(reason);
}

MonotonicToRealtime::MonotonicToRealtime()
{
	resync();
}

void MonotonicToRealtime::resync()
{
	timespec mono{}, real{};
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	offset_ns_ = (real.tv_sec - mono.tv_sec) * 1'000'000'000LL + (real.tv_nsec - mono.tv_nsec);
}

std::string format_timestamp(int64_t realtime_ns)
{
	time_t seconds = realtime_ns / 1'000'000'000LL;
	long nanos = realtime_ns % 1'000'000'000LL;
	tm utc{};
	gmtime_r(&seconds, &utc);
	char text[64];
	size_t length = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
	snprintf(text + length, sizeof(text) - length, ".%09ldZ", nanos);
	return text;
}

} // namespace rstwatch
