#include "daemon_session.h"

#include <unistd.h>

namespace rstwatch::test
{

void DaemonSession::start(std::vector<std::string> args)
{
	daemon_ = std::make_unique<DaemonProcess>();
	if (geteuid() != 0) {
		unavailable_ = "integration tests load BPF programs and need root";
		return;
	}
	if (!daemon_->start(args)) {
		unavailable_ = daemon_->error();
		return;
	}
	unavailable_.clear();
	reasons_available_ =
	    daemon_->stderr_text().find("kernel reason available") != std::string::npos;
	sent_without_socket_visible_ =
	    daemon_->stderr_text().find("tcp:tcp_send_reset/no_socket missing:") ==
	    std::string::npos;
}

void DaemonSession::stop()
{
	if (unavailable_.empty()) {
		CommandResult result = daemon_->stop();
		EXPECT_EQ(result.exit_code, 0) << result.err;
		EXPECT_NE(result.err.find("rstwatchd: stopping:"), std::string::npos) << result.err;
	}
	daemon_.reset();
}

nlohmann::json DaemonSession::expect_event(const std::string &direction, const std::string &local,
                                           const std::string &remote)
{
	auto event = daemon_->wait_for([&](const nlohmann::json &e) {
		return e["direction"] == direction && e["local"] == local && e["remote"] == remote;
	});
	if (!event) {
		ADD_FAILURE() << "no " << direction << " reset " << local << " <-> " << remote
		              << " within the timeout; rstwatchd stderr:\n"
		              << daemon_->stderr_text();
		return nlohmann::json::object();
	}
	return *event;
}

} // namespace rstwatch::test
