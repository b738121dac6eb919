// rstwatchd: loads the reset probes, drains their ring buffer and reports
// every TCP reset this host sends or receives: on stdout, on /metrics and to
// rstwatch over the query socket.
#include "common/error.h"
#include "common/log.h"
#include "daemon/config.h"
#include "daemon/daemon.h"

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char **argv)
{
	std::vector<std::string> args(argv, argv + argc);
	rstwatch::ConfigOutcome outcome = rstwatch::load_config(args);
	if (!outcome.config) {
		if (outcome.exit_code == 0) {
			fputs(outcome.message.c_str(), stdout);
		} else {
			rstwatch::log::write(rstwatch::log::Level::Error, "", outcome.message);
			fputs("Run with --help for more information.\n", stderr);
		}
		return outcome.exit_code;
	}

	rstwatch::install_signal_handlers();
	try {
		rstwatch::Daemon daemon(std::move(*outcome.config), std::move(args));
		return daemon.run();
	} catch (const rstwatch::Error &e) {
		rstwatch::log::error(e.what());
		return 1;
	} catch (const std::exception &e) {
		rstwatch::log::write(rstwatch::log::Level::Error, "internal error: ", e.what());
		return 1;
	}
}
