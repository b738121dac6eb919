// Where rstwatchd listens and reads its settings unless told otherwise;
// shared by the daemon and the rstwatch client.
#pragma once

namespace rstwatch
{

inline constexpr const char *kDefaultConfigPath = "/etc/rstwatch/rstwatch.conf";
inline constexpr const char *kDefaultSocketPath = "/run/rstwatch/rstwatch.sock";
inline constexpr const char *kDefaultSocketGroup = "rstwatch";
inline constexpr unsigned kDefaultMetricsPort = 9479;
inline constexpr const char *kDefaultMetricsListen = "127.0.0.1:9479";

} // namespace rstwatch
