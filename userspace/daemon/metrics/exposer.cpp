#include "daemon/metrics/exposer.h"

#include "common/defaults.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "daemon/metrics/metrics.h"

#include <prometheus/exposer.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <exception>
#include <string>
#include <vector>

namespace rstwatch
{

std::string validate_listen_address(const std::string &listen)
{
	size_t colon = listen.rfind(':');
	if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size())
		return "expected address:port, e.g. 127.0.0.1:" +
		       std::to_string(kDefaultMetricsPort);
	std::string host = listen.substr(0, colon);
	std::string port = listen.substr(colon + 1);
	if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
	    std::stoul(port) > 65535)
		return "port " + port + " is not a number from 0 to 65535";
	unsigned char address[16];
	// civetweb, which serves /metrics, is built without IPv6 in Debian.
	if (host.find(':') != std::string::npos || host.find('[') != std::string::npos)
		return "IPv6 is not supported (Debian's civetweb, which serves /metrics, is built "
		       "without it); listen on an IPv4 address, 0.0.0.0 for all";
	if (inet_pton(AF_INET, host.c_str(), address) != 1)
		return host + " is not an IPv4 address";
	return "";
}

namespace
{

// Why binding `listen` (already validated) fails; civetweb's own reason
// when it does not.
std::string bind_failure(const std::string &listen)
{
	size_t colon = listen.rfind(':');
	sockaddr_in address{};
	address.sin_family = AF_INET;
	address.sin_port = htons(static_cast<uint16_t>(std::stoul(listen.substr(colon + 1))));
	inet_pton(AF_INET, listen.substr(0, colon).c_str(), &address.sin_addr);
	UniqueFd probe(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	int one = 1;
	// As civetweb binds: a port left in TIME_WAIT is free.
	setsockopt(probe.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (probe &&
	    bind(probe.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0)
		return "the HTTP server did not start";
	switch (errno) {
	case EADDRINUSE:
		return "address in use (another process listens there)";
	case EADDRNOTAVAIL:
		return "not an address of this host";
	default:
		return errno_text(errno);
	}
}

} // namespace

MetricsExposer::MetricsExposer(const std::string &listen, const ResetMetrics &metrics)
{
	if (std::string problem = validate_listen_address(listen); !problem.empty())
		throw Error("--metrics-listen " + listen + ": " + problem);
	try {
		// civetweb options: a scrape that stalls is cut off instead of
		// holding one of the two threads.
		exposer_ = std::make_unique<prometheus::Exposer>(std::vector<std::string>{
		    "listening_ports", listen, "num_threads", "2", "request_timeout_ms", "10000"});
	} catch (const std::exception &e) {
		// civetweb only says it has no context; binding the address
		// ourselves says why it could not.
		throw Error("--metrics-listen: cannot listen on " + listen + ": " +
		            bind_failure(listen));
	}
	for (const auto &collectable : metrics.collectables())
		exposer_->RegisterCollectable(collectable);
	std::vector<int> ports = exposer_->GetListeningPorts();
	std::string host = listen.substr(0, listen.rfind(':'));
	address_ =
	    host + ":" +
	    (ports.empty() ? listen.substr(listen.rfind(':') + 1) : std::to_string(ports.front()));
}

MetricsExposer::~MetricsExposer() = default;

} // namespace rstwatch
