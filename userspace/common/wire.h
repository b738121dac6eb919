// The query protocol's names, in one place for rstwatchd, which parses
// requests and writes responses, and rstwatch, which does the opposite. They
// are a stable contract (README, "Protocol"): tools outside rstwatch send
// and read them, so no value here may change.
//
// Character arrays rather than string_views: nlohmann::json takes them as
// object keys in every version the build accepts, and they compare by
// content with std::string and std::string_view alike.
#pragma once

#include <string_view>

namespace rstwatch::wire
{

namespace command
{
inline constexpr char kRecent[] = "recent";
inline constexpr char kTop[] = "top";
inline constexpr char kStats[] = "stats";
inline constexpr char kFollow[] = "follow";
inline constexpr char kExplain[] = "explain";
} // namespace command

// The members of a request object.
namespace field
{
inline constexpr char kCommand[] = "command";
inline constexpr char kLimit[] = "limit"; // recent, top
inline constexpr char kBy[] = "by";       // top
inline constexpr char kId[] = "id";       // explain

// The filters that recent, top and follow take.
inline constexpr char kSince[] = "since";
inline constexpr char kAfterId[] = "after_id";
inline constexpr char kDirection[] = "direction";
inline constexpr char kCause[] = "cause";
inline constexpr char kPid[] = "pid";
inline constexpr char kComm[] = "comm";
inline constexpr char kLocalPort[] = "local_port";
inline constexpr char kRemotePort[] = "remote_port";
inline constexpr char kAddress[] = "address";
// The workload: systemd unit, container id (or a prefix), pod (name or uid),
// pod namespace, network namespace inode.
inline constexpr char kUnit[] = "unit";
inline constexpr char kContainer[] = "container";
inline constexpr char kPod[] = "pod";
inline constexpr char kNamespace[] = "namespace";
inline constexpr char kNetns[] = "netns";
inline constexpr char kUntil[] = "until"; // recent and top only
inline constexpr std::string_view kFilters[] = {
    kSince,   kAfterId, kDirection, kCause, kPid,       kComm,  kLocalPort, kRemotePort,
    kAddress, kUnit,    kContainer, kPod,   kNamespace, kNetns, kUntil};
} // namespace field

// The values of "direction", in filters and in what the daemon reports.
namespace direction
{
inline constexpr char kSent[] = "sent";
inline constexpr char kReceived[] = "received";
} // namespace direction

// The values of "by", what top groups by.
namespace group_by
{
inline constexpr char kRemoteAddress[] = "remote_address";
inline constexpr char kProcess[] = "process";
inline constexpr char kLocalPort[] = "local_port";
inline constexpr char kCause[] = "cause";
inline constexpr char kUnit[] = "unit";
inline constexpr char kContainer[] = "container";
inline constexpr char kPod[] = "pod";
inline constexpr char kNetns[] = "netns";
} // namespace group_by

// The codes of {"ok":false,"error":{"code":...}}.
namespace error
{
inline constexpr char kBadRequest[] = "bad_request";
inline constexpr char kUnknownCommand[] = "unknown_command";
inline constexpr char kNotFound[] = "not_found";
inline constexpr char kRequestTooLarge[] = "request_too_large";
inline constexpr char kPermissionDenied[] = "permission_denied";
inline constexpr char kTooManyClients[] = "too_many_clients";
inline constexpr char kTimeout[] = "timeout";
inline constexpr char kInternal[] = "internal";
} // namespace error

// The members every response has, and the events of a recent response.
namespace response
{
inline constexpr char kOk[] = "ok";
inline constexpr char kError[] = "error";
inline constexpr char kCode[] = "code";
inline constexpr char kMessage[] = "message";
inline constexpr char kCommand[] = "command";
inline constexpr char kEvents[] = "events";
inline constexpr char kCoverage[] = "coverage";
} // namespace response

} // namespace rstwatch::wire
