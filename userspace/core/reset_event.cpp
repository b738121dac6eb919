#include "core/reset_event.h"

#include "rstwatch/classify.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstring>
#include <ctime>

namespace rstwatch
{

namespace
{

// Both ring-buffer records carry the shared version; each has its size.
template <typename Record> DecodeStatus decode_record(const void *data, size_t size, Record &out)
{
	if (size != sizeof(Record))
		return DecodeStatus::WrongSize;
	std::memcpy(&out, data, sizeof(out));
	if (out.version != RSTWATCH_EVENT_VERSION)
		return DecodeStatus::WrongVersion;
	return DecodeStatus::Ok;
}

} // namespace

DecodeStatus decode_event(const void *data, size_t size, rstwatch_event &out)
{
	// A reset for no socket comes as the event's core alone; the socket
	// part it leaves out reads as zeros, as the kernel side would have
	// written it.
	if (size == RSTWATCH_EVENT_CORE_SIZE) {
		std::memset(&out, 0, sizeof(out));
		std::memcpy(&out, data, size);
		return out.version == RSTWATCH_EVENT_VERSION ? DecodeStatus::Ok
		                                             : DecodeStatus::WrongVersion;
	}
	return decode_record(data, size, out);
}

DecodeStatus decode_owner_note(const void *data, size_t size, rstwatch_owner_note &out)
{
	return decode_record(data, size, out);
}

ServicePort service_port(const rstwatch_event &event)
{
	// A reset for no socket answered a segment sent to our port; a
	// listener is ours; a socket in SYN_SENT is connecting to theirs.
	const bool local =
	    !has_flag(event, RSTWATCH_F_HAS_SOCKET) || event.state == RSTWATCH_TCP_LISTEN ||
	    (event.state != RSTWATCH_TCP_SYN_SENT && has_flag(event, RSTWATCH_F_LOCAL_LISTENING));
	return {local, local ? event.local_port : event.remote_port};
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
	case RSTWATCH_OWNER_LISTENER:
		return "listener";
	case RSTWATCH_OWNER_EXITED:
		return "exited";
	case RSTWATCH_OWNER_UNRESOLVED:
		return "unresolved";
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

namespace
{

// A dotted quad, written in place (IPv4 and v4-mapped addresses).
char *write_ipv4(const uint8_t *address, char *out)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*out++ = '.';
		out = std::to_chars(out, out + 3, address[i]).ptr;
	}
	return out;
}

// Writes the address at `out` (room for INET6_ADDRSTRLEN) and returns the
// end; sets `bracket` when it is an IPv6 address that needs [] with a port.
char *write_address(const rstwatch_event &event, bool local, char *out, bool &bracket)
{
	const uint8_t *address = local ? event.local_addr : event.remote_addr;
	bracket = false;
	if (event.family != RSTWATCH_AF_INET6)
		return write_ipv4(address, out);
	if (is_v4_mapped(address))
		return write_ipv4(address + 12, out);
	bracket = true;
	if (!inet_ntop(AF_INET6, address, out, INET6_ADDRSTRLEN))
		return out;
	return out + std::strlen(out);
}

} // namespace

std::string_view address_text(const rstwatch_event &event, bool local, TextBuffer &buffer)
{
	bool bracket;
	char *end = write_address(event, local, buffer.data(), bracket);
	return {buffer.data(), static_cast<size_t>(end - buffer.data())};
}

std::string_view endpoint_text(const rstwatch_event &event, bool local, TextBuffer &buffer)
{
	static_assert(sizeof(TextBuffer) >= INET6_ADDRSTRLEN + 8, "[address]:port fits");
	bool bracket;
	char *out = buffer.data();
	char *end = write_address(event, local, out + 1, bracket);
	if (bracket) {
		*out = '[';
		*end++ = ']';
	} else {
		// No bracket: move the address to the start.
		std::memmove(out, out + 1, static_cast<size_t>(end - out - 1));
		end--;
	}
	*end++ = ':';
	end = std::to_chars(end, buffer.data() + buffer.size(),
	                    local ? event.local_port : event.remote_port)
	          .ptr;
	return {buffer.data(), static_cast<size_t>(end - buffer.data())};
}

std::string format_address(const rstwatch_event &event, bool local)
{
	TextBuffer buffer;
	return std::string(address_text(event, local, buffer));
}

std::string format_endpoint(const rstwatch_event &event, bool local)
{
	TextBuffer buffer;
	return std::string(endpoint_text(event, local, buffer));
}

std::string ReasonNames::name(uint32_t reason) const
{
	TextBuffer buffer;
	return std::string(name(reason, buffer));
}

std::string_view ReasonNames::name(uint32_t reason, TextBuffer &buffer) const
{
	if (reason == RSTWATCH_REASON_UNAVAILABLE)
		return "unavailable";
	if (reason < names_.size() && !names_[reason].empty())
		return names_[reason];
	constexpr std::string_view prefix = "REASON_";
	std::memcpy(buffer.data(), prefix.data(), prefix.size());
	char *end =
	    std::to_chars(buffer.data() + prefix.size(), buffer.data() + buffer.size(), reason).ptr;
	return {buffer.data(), static_cast<size_t>(end - buffer.data())};
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
	TextBuffer buffer;
	return std::string(timestamp_text(realtime_ns, buffer));
}

std::string_view timestamp_text(int64_t realtime_ns, TextBuffer &buffer)
{
	// Floor division: a time before 1970 still gets nanoseconds in [0, 1e9).
	int64_t seconds = realtime_ns / 1'000'000'000LL;
	int64_t nanos = realtime_ns % 1'000'000'000LL;
	if (nanos < 0) {
		nanos += 1'000'000'000LL;
		seconds--;
	}
	thread_local int64_t cached_seconds = INT64_MIN;
	thread_local char cached_text[32];
	thread_local size_t cached_length = 0;
	if (seconds != cached_seconds) {
		time_t whole = static_cast<time_t>(seconds);
		tm utc{};
		gmtime_r(&whole, &utc);
		cached_length =
		    strftime(cached_text, sizeof(cached_text), "%Y-%m-%dT%H:%M:%S", &utc);
		cached_seconds = seconds;
	}
	char *out = buffer.data();
	std::memcpy(out, cached_text, cached_length);
	out += cached_length;
	*out++ = '.';
	// Nine digits, zero-padded.
	for (int digit = 8; digit >= 0; digit--) {
		out[digit] = static_cast<char>('0' + nanos % 10);
		nanos /= 10;
	}
	out += 9;
	*out++ = 'Z';
	return {buffer.data(), static_cast<size_t>(out - buffer.data())};
}

} // namespace rstwatch
