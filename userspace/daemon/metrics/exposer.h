// The HTTP listener that serves ResetMetrics on /metrics (prometheus-cpp's
// Exposer, on civetweb), and the check of the address it is given.
#pragma once

#include <memory>
#include <string>

namespace prometheus
{
class Exposer;
}

namespace rstwatch
{

class ResetMetrics;

// Serves ResetMetrics on http://<listen>/metrics from its own threads.
class MetricsExposer
{
public:
	// `listen` is "IPv4-address:port" ("127.0.0.1:9479", port 0 for any
	// free one). Throws Error when it cannot listen there.
	MetricsExposer(const std::string &listen, const ResetMetrics &metrics);
	~MetricsExposer();
	MetricsExposer(const MetricsExposer &) = delete;
	MetricsExposer &operator=(const MetricsExposer &) = delete;

	// The address actually bound, with the port the kernel picked.
	const std::string &address() const { return address_; }

private:
	std::unique_ptr<prometheus::Exposer> exposer_;
	std::string address_;
};

// Checks an "address:port" for --metrics-listen; the reason when it is not.
std::string validate_listen_address(const std::string &listen);

} // namespace rstwatch
