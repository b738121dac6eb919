// A reset event as userspace keeps it: the raw record from the kernel plus
// what only userspace knows (a sequence id, wall-clock time). Names for the
// numeric fields are resolved here, once, for every output.
#pragma once

#include "rstwatch/event.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rstwatch
{

// The cgroup a socket belongs to, resolved once per cgroup id and shared by
// every event from it (see CgroupCache).
struct CgroupInfo {
	std::string path;      // "/system.slice/nginx.service", "" if unknown
	std::string unit;      // systemd unit from the path, "" if none
	std::string container; // container id from the path, "" if none
	// The Kubernetes pod the path names (core/workload.h), "" if none; the
	// namespace and name once the kubelet's log directory names the uid.
	// Set once from "" and never changed again: metrics keep views of
	// them (daemon/metrics/workload_series.h).
	std::string pod_uid;
	std::string pod_namespace;
	std::string pod_name;
};

// When both ends are on this host, the sent reset on the mirrored 4-tuple
// that caused a received one (and back).
struct PeerLink {
	uint64_t event_id = 0; // 0: not linked
	uint32_t pid = 0;
	uint8_t cause = 0;        // enum rstwatch_cause
	uint8_t owner_source = 0; // enum rstwatch_owner_source; NONE: no pid/comm
	char comm[RSTWATCH_COMM_LEN] = {};
};

struct SocketHolder;

struct ResetEvent {
	uint64_t id = 0;
	int64_t realtime_ns = 0; // nanoseconds since the Unix epoch
	rstwatch_event raw{};
	PeerLink peer;
	const CgroupInfo *cgroup = nullptr; // owned by the CgroupCache, never freed
	// Every process holding the socket when more than one did (pid and
	// comm name the first); null otherwise.
	std::shared_ptr<const std::vector<SocketHolder>> holders;
};

inline bool has_flag(const rstwatch_event &event, uint32_t flag)
{
	return (event.flags & flag) != 0;
}

// A task name from the kernel: up to RSTWATCH_COMM_LEN bytes, NUL-padded.
inline std::string_view comm_text(const char (&comm)[RSTWATCH_COMM_LEN])
{
	return std::string_view(comm, strnlen(comm, RSTWATCH_COMM_LEN));
}

// The port of the connection's service side: this host's port when a
// listener holds it (or this host answered a SYN for it), the peer's when this
// host connected. Metrics label by it instead of ephemeral ports.
struct ServicePort {
	bool local = true;
	uint16_t port = 0;
};
ServicePort service_port(const rstwatch_event &event);

enum class DecodeStatus { Ok, WrongSize, WrongVersion };

// Validates a ring buffer record (exactly one rstwatch_event of this
// version) and copies it out.
DecodeStatus decode_event(const void *data, size_t size, rstwatch_event &out);
// The same for the other record the ring carries (told apart by its size).
DecodeStatus decode_owner_note(const void *data, size_t size, rstwatch_owner_note &out);
std::string_view decode_status_name(DecodeStatus status);

std::string_view direction_name(uint8_t direction);
// "ESTABLISHED", "SYN_SENT", ...; "NONE" for resets sent with no socket.
std::string_view tcp_state_name(uint8_t state);
std::string_view owner_source_name(uint8_t source);

// True for an IPv6 address of the form ::ffff:a.b.c.d.
bool is_v4_mapped(const uint8_t address[16]);
// "ipv4" or "ipv6"; v4-mapped IPv6 counts as ipv4.
std::string_view family_name(const rstwatch_event &event);
std::string format_address(const rstwatch_event &event, bool local);
// "127.0.0.1:80" or "[::1]:80".
std::string format_endpoint(const rstwatch_event &event, bool local);

// Storage for the text forms below, which write into it instead of
// allocating: what the per-event output paths use.
using TextBuffer = std::array<char, 64>;
std::string_view address_text(const rstwatch_event &event, bool local, TextBuffer &buffer);
std::string_view endpoint_text(const rstwatch_event &event, bool local, TextBuffer &buffer);

// Names of enum sk_rst_reason values, from the running kernel's BTF.
class ReasonNames
{
public:
	ReasonNames() = default;
	explicit ReasonNames(std::vector<std::string> names) : names_(std::move(names)) {}
	// "NO_SOCKET", ..., "unavailable" when the kernel gave none, or
	// "REASON_<n>" for a value this kernel's BTF does not name.
	std::string name(uint32_t reason) const;
	// The same name, written into `buffer` only when it has to be made up.
	std::string_view name(uint32_t reason, TextBuffer &buffer) const;

private:
	std::vector<std::string> names_;
};

// Converts bpf_ktime_get_ns() (CLOCK_MONOTONIC) stamps to wall-clock time.
class MonotonicToRealtime
{
public:
	MonotonicToRealtime();
	// Re-reads both clocks; call now and then so NTP steps are followed.
	void resync();
	int64_t convert(uint64_t monotonic_ns) const
	{
		return static_cast<int64_t>(monotonic_ns) + offset_ns_;
	}

private:
	int64_t offset_ns_ = 0;
};

// "2026-11-23T20:25:00.123456789Z"
std::string format_timestamp(int64_t realtime_ns);
// The same text in `buffer`; the date and time of day are formatted once
// per second (per thread), the nanoseconds every time.
std::string_view timestamp_text(int64_t realtime_ns, TextBuffer &buffer);

} // namespace rstwatch
