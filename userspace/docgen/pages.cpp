#include "docgen/pages.h"

#include "cli/connection.h"
#include "common/defaults.h"

namespace rstwatch::docgen
{

namespace
{

const std::string kReadme = "/usr/share/doc/rstwatch/README.md";

ManPageText titled(const std::string &name, int section, const std::string &manual,
                   const std::string &version)
{
	ManPageText page;
	page.name = name;
	page.section = section;
	page.source = "rstwatch " + version;
	page.manual = manual;
	return page;
}

} // namespace

ManPageText daemon_page(const std::string &version)
{
	ManPageText page = titled("rstwatchd", 8, "System Administration", version);
	page.description = {
	    "Startup messages and errors go to standard error, one line each; \"rstwatchd: "
	    "ready\" follows once every probe is attached, the ring buffer is being drained "
	    "and the listeners are up. Each reset goes to standard output as one line, or as "
	    "one JSON object per line with --json (the README lists the fields).",
	    std::string("Settings come from the command line and from the config file (") +
	        kDefaultConfigPath +
	        " unless --config names another): one \"name = value\" per line, named like "
	        "the long options without their dashes. The command line wins over the file, "
	        "and a misspelt name is an error.",
	    "Under systemd, rstwatch.service runs it as root with only CAP_BPF, CAP_PERFMON, "
	    "CAP_NET_ADMIN and CAP_CHOWN, and Type=notify: READY=1 comes with \"ready\", and "
	    "the event loop feeds the watchdog. Installing the package neither enables nor "
	    "starts it: systemctl enable --now rstwatch does.",
	};
	page.sections = {
	    {"Signals",
	     {{"SIGINT, SIGTERM",
	       "Drain the ring buffer one last time, detach every program, print the totals "
	       "(\"rstwatchd: stopping: ...\") and exit 0."},
	      {"SIGHUP",
	       "Read the command line and the config file again as a dry run, and apply the "
	       "result only if all of it is valid; otherwise say why and keep the running "
	       "configuration. The BPF settings, the listeners, metrics-workload-label and "
	       "pods-log-dir take effect at a restart only, and a reload that changes them "
	       "says so (systemctl reload rstwatch)."}}},
	    {"Exit status",
	     {{"0", "Stopped by SIGINT or SIGTERM, or printed --help or --version."},
	      {"1", "A startup failure (no kernel BTF, missing privileges, a tracepoint the "
	            "kernel lacks) or a failure while running, in one line on standard error."},
	      {"2", "A usage error or an invalid config file."}}},
	    {"Environment",
	     {{"NODE_NAME", "The node name each event carries in \"hostname\" when --hostname "
	                    "is not given, as a Kubernetes DaemonSet passes spec.nodeName; "
	                    "else the host name."}}},
	    {"Files",
	     {{kDefaultConfigPath, "The config file."},
	      {kDefaultSocketPath,
	       "The query socket rstwatch(1) connects to: 0660, group rstwatch, in a 0750 "
	       "directory."},
	      {"/sys/kernel/btf/vmlinux", "The kernel's BTF, for the CO-RE relocations."},
	      {"rstwatch.service", "The systemd unit: in /lib/systemd/system from the Debian "
	                           "package, PREFIX/lib/systemd/system from cmake --install."},
	      {"sysusers.d/rstwatch.conf",
	       "Creates group rstwatch, whose members may query: in /usr/lib from the Debian "
	       "package, PREFIX/lib from cmake --install."},
	      {kReadme, "The manual: causes, event fields, metrics, the query protocol."}}},
	    {"See also",
	     {{"", "rstwatch(1), systemd.service(5), sysusers.d(5), systemd-sysusers(8)"}}},
	};
	return page;
}

ManPageText client_page(const std::string &version)
{
	using namespace rstwatch::cli;
	ManPageText page = titled("rstwatch", 1, "User Commands", version);
	page.description = {
	    "It connects to rstwatchd(8) over its query socket, sends one request and prints "
	    "the answer as an aligned table, or as the daemon's JSON with --json. Members of "
	    "group rstwatch may query; root always may.",
	};
	page.sections = {
	    {"Exit status",
	     {{std::to_string(kSuccess), "Success."},
	      {std::to_string(kFailure),
	       "Any other failure, including an event id the store no longer holds."},
	      {std::to_string(kBadRequest), "A usage error, or the daemon rejected the request."},
	      {std::to_string(kNoDaemon), "No daemon answers on the socket."},
	      {std::to_string(kPermissionDenied), "The socket's permissions keep this user out."}}},
	    {"Environment", {}},
	    {"Files", {{kDefaultSocketPath, "rstwatchd's query socket."}}},
	    {"Examples",
	     {{"rstwatch top --by remote_address --since 10m",
	       "The remote addresses with the most resets in the last ten minutes."},
	      {"rstwatch follow --cause refused", "Connections refused, as they happen."},
	      {"rstwatch recent --unit nginx --json",
	       "nginx's latest resets, one JSON object each."},
	      {"rstwatch explain 42",
	       "Everything known about reset 42: cause, evidence, remedy."}}},
	    {"See also", {{"", "rstwatchd(8), " + kReadme}}},
	};
	return page;
}

} // namespace rstwatch::docgen
