"""scripts/prometheus-check: the rules and the dashboard against a real
Prometheus scraping a live rstwatchd (README: "Running on a fleet").

promtool checks and unit-tests the rules; then Debian's prometheus, with a
config and storage of its own in a temporary directory, scrapes the built
rstwatchd every second while this process makes real resets on loopback.
Every rule expression and every dashboard query (the dashboard's variables
substituted as Grafana would) is then evaluated through the HTTP API: each
must succeed, and each must return data except the few listed below with
the reason. The alerts the resets make true must be pending or firing in
Prometheus's own evaluation, and RstwatchDown once rstwatchd is stopped.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import grafana_dashboard
from prometheus_api import PrometheusServer, stop_process, wait_for
from reset_traffic import ResetTraffic

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RULES = os.path.join(REPO, "deploy", "prometheus", "rstwatch-rules.yml")
RULE_TESTS = os.path.join(REPO, "deploy", "prometheus", "rstwatch-rules.test.yml")
DASHBOARD = os.path.join(REPO, "deploy", "grafana", "rstwatch-dashboard.json")
# The build's, or another (an installed package's) named in $RSTWATCHD.
RSTWATCHD = os.environ.get("RSTWATCHD") or os.path.join(REPO, "build", "userspace", "rstwatchd")
JOB = "rstwatch"
# The name this process takes while it makes resets, so that the
# per-process series can be told from any other process's on this host.
COMM = "rstw-promcheck"
# Paced refused connects: over 300 received in 5 minutes toward one port is
# above the alerts' 1/s floor. The burst while rstwatchd is stopped is far
# more than its 64 KiB ring buffer holds (232 bytes per event).
PACED_REFUSED = 700
BURST_REFUSED = 600
RING_BUFFER_BYTES = 65536
# Queries that may rightly have no data here. Every other rule expression
# and panel query must return data once the resets are made.
MAY_BE_EMPTY = {
    "RstwatchOwnerRecordsDropped": "the owner table does not overflow here",
    "RstwatchProbeMissing": "every hook attaches on a kernel from 6.10 on",
    "RstwatchSocketsAtRisk": "fewer than 100 sockets at risk for 30 minutes",
}
# Alerts that must select nothing while rstwatchd runs.
MUST_BE_EMPTY = {
    "RstwatchDown": "rstwatchd answers",
    "RstwatchTargetsMissing": "the rstwatch target is scraped",
    "RstwatchRestarting": "rstwatchd started once",
}


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok: {what}")
        else:
            self.failed.append(what)
            print(f"FAIL: {what}" + (f": {detail}" if detail else ""))
        return ok

    def close(self):
        print(f"prometheus-check: {self.passed} passed, {len(self.failed)} failed")
        return 0 if not self.failed else 1


def has(series, **labels):
    return any(all(s["metric"].get(k) == v for k, v in labels.items()) for s in series)


def value(series):
    return float(series[0]["value"][1]) if series else 0.0


def promtool(report):
    for args, what in (
        (["check", "rules", RULES], "promtool check rules"),
        (["test", "rules", RULE_TESTS], "promtool test rules (every alert firing and not)"),
    ):
        run = subprocess.run(["promtool", *args], capture_output=True, text=True)
        report.check(what, run.returncode == 0, run.stdout + run.stderr)


def start_daemon(workdir, audit):
    """The built rstwatchd, metrics on a free loopback port, no query socket."""
    config = os.path.join(workdir, "rstwatch.conf")
    open(config, "w").close()
    log = os.path.join(workdir, "rstwatchd.log")
    args = [RSTWATCHD, "--config", config, "--metrics-listen", "127.0.0.1:0", "--socket", "off",
            "--quiet", "--ring-buffer-bytes", str(RING_BUFFER_BYTES),
            "--metrics-workload-label", "unit"]
    if audit:
        args += ["--audit-interval", "1s"]
    with open(log, "w") as out:
        daemon = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=out)

    def ready_port():
        if daemon.poll() is not None:
            raise RuntimeError(f"rstwatchd exited with {daemon.returncode}: {open(log).read()}")
        found = re.search(r"ready: .*metrics on http://127\.0\.0\.1:(\d+)/", open(log).read())
        return found and int(found.group(1))

    port = wait_for(ready_port, 60)
    if not port:
        raise RuntimeError(f"rstwatchd was not ready in 60 s: {open(log).read()}")
    return daemon, port


def make_resets(report, prometheus, daemon, traffic):
    with open("/proc/self/comm", "w") as comm:
        comm.write(COMM)
    # One of each first, so that every series the resets create is scraped
    # before the counts that the alerts must see (rate() starts at the first
    # sample it has).
    traffic.refused(1)
    traffic.linger_zero(1)
    warm = wait_for(lambda: prometheus.series(
        f'rstwatch_resets_by_remote_port_total{{remote_port="{traffic.closed_port}"}}')
        and prometheus.series(f'rstwatch_resets_by_process_total{{comm="{COMM}"}}'), 30)
    report.check("the first resets' series are scraped", bool(warm))
    traffic.refused_paced(PACED_REFUSED, batch=50, pause=0.2)
    traffic.linger_zero(20)
    traffic.unread_data(10)
    traffic.idle(3, seconds=1.5)
    daemon.send_signal(signal.SIGSTOP)
    try:
        traffic.refused(BURST_REFUSED)
    finally:
        daemon.send_signal(signal.SIGCONT)
    refused = 1 + PACED_REFUSED + BURST_REFUSED
    # The kernel's totals count every reset, the lost ones too; other
    # processes on this host may add their own.
    for direction, cause in (("sent", "refused"), ("received", "peer_refused")):
        expr = f'rstwatch_resets_total{{direction="{direction}",cause="{cause}"}}'
        got = wait_for(lambda: value(prometheus.series(expr)) >= refused, 30)
        report.check(f"{expr} counts all {refused} refused connects", got,
                     str(prometheus.series(expr)))
    lost = wait_for(lambda: value(prometheus.series("rstwatch_events_lost_total")) > 0, 30)
    report.check("events lost while rstwatchd was stopped are counted", lost)


def check_rules(report, prometheus, traffic, optional):
    rules = wait_for(lambda: all(r["health"] == "ok" for r in prometheus.rules())
                     and prometheus.rules(), 30)
    report.check("Prometheus loaded the rules and evaluates each without error", bool(rules),
                 json.dumps([(r["name"], r["health"], r.get("lastError")) for r in
                             prometheus.rules() if r["health"] != "ok"]))
    for rule in prometheus.rules():
        name, expr = rule["name"], rule["query"]
        ok, result = prometheus.query(expr)
        if not report.check(f"rule {name}: query succeeds", ok, result):
            continue
        if name in MUST_BE_EMPTY:
            report.check(f"rule {name}: no data ({MUST_BE_EMPTY[name]})", not result, result)
        elif name not in MAY_BE_EMPTY and not grafana_dashboard.metric_names(expr) & optional:
            report.check(f"rule {name}: has data", bool(result))
    spike = prometheus.series(
        [r for r in prometheus.rules() if r["name"] == "RstwatchResetSpike"][0]["query"])
    report.check("RstwatchResetSpike selects this node's refused resets",
                 has(spike, direction="sent", cause="refused"), spike)

    def alert(name, state, **labels):
        return any(a["state"] == state and all(a["labels"].get(k) == v for k, v in labels.items())
                   for r in prometheus.rules() if r["name"] == name for a in r.get("alerts", []))

    port = str(traffic.closed_port)
    for name, state, labels in (
        ("RstwatchResetSpike", "pending", {"cause": "refused"}),
        ("RstwatchResetSpike", "pending", {"cause": "peer_refused"}),
        ("RstwatchReceivedResetSpikeToRemotePort", "pending", {"remote_port": port}),
        ("RstwatchEventsLost", "firing", {}),
    ):
        report.check(f"{name} {labels} is {state}",
                     wait_for(lambda: alert(name, state, **labels), 30))
    return alert


def check_dashboard(report, prometheus, dashboard, variables, optional, since):
    problems = grafana_dashboard.structure_problems(dashboard)
    report.check("dashboard: variables, datasources, ids and layout", not problems, problems)
    report.check("dashboard variable job lists rstwatch",
                 JOB in prometheus.label_values("job", "rstwatch_build_info"))
    report.check("dashboard variable instance lists the node", variables["instance"] in
                 prometheus.label_values("instance", f'rstwatch_build_info{{job="{JOB}"}}'))
    results = {}
    for title, ref, template, instant in grafana_dashboard.targets(dashboard):
        what = f"panel {title!r} {ref}"
        try:
            expr = grafana_dashboard.substitute(template, variables)
        except KeyError as unknown:
            report.check(what, False, f"unknown variable {unknown}")
            continue
        ok, result = prometheus.query(expr)
        if not report.check(f"{what}: query succeeds", ok, f"{expr}: {result}"):
            continue
        if not instant:
            ok, series = prometheus.query_range(expr, since, time.time(), 1)
            report.check(f"{what}: range query succeeds", ok, series)
        if not grafana_dashboard.metric_names(expr) & optional:
            report.check(f"{what}: has data", bool(result), expr)
        results[(title, ref)] = result
    return results


def check_names(report, prometheus, exprs, optional):
    """Every metric and recording rule a rule or panel names exists: a query
    ending in `or vector(0)` has data even with a misspelt name."""
    names = set().union(*(grafana_dashboard.metric_names(expr) for expr in exprs)) - optional
    for name in sorted(names):
        report.check(f"{name} has series", bool(prometheus.series(f'count({{__name__="{name}"}})')))


def check_panel_contents(report, prometheus, results, traffic):
    port, service = str(traffic.closed_port), str(traffic.service_port)
    for title, labels in (
        ("Top processes", {"comm": COMM}),
        ("Top service ports (this host's listeners)", {"local_port": service, "direction": "sent"}),
        ("Top remote ports (connections this host made)", {"remote_port": port}),
        ("Received resets by remote port (top 10)", {"remote_port": port}),
        ("Resets sent, by cause", {"cause": "refused"}),
        ("Resets sent, by cause", {"cause": "linger_zero_close"}),
        ("Resets sent, by cause", {"cause": "close_with_unread_data"}),
        ("Resets received, by cause", {"cause": "peer_refused"}),
        ("Resets received, by cause", {"cause": "peer_reset"}),
    ):
        result = results.get((title, "A"), [])
        report.check(f"panel {title!r} shows {labels}", has(result, **labels), result)
    lost = results.get(("Events lost", "A"), [])
    report.check("panel 'Events lost' is above 0", value(lost) > 0, lost)
    # The three connections left idle 1.5 s land between the 1 s and 5 s
    # buckets of the heatmap.
    band = prometheus.series(
        'increase(rstwatch_received_reset_idle_seconds_bucket{le="5"}[10m])'
        ' - ignoring(le) increase(rstwatch_received_reset_idle_seconds_bucket{le="1"}[10m])')
    report.check("the idle heatmap's 1-5 s band holds the 3 idle resets", value(band) >= 3, band)


def check_daemon_down(report, prometheus, daemon, alert, variables):
    stop_process(daemon, "rstwatchd")
    down = [r for r in prometheus.rules() if r["name"] == "RstwatchDown"][0]["query"]
    report.check("RstwatchDown selects the node once rstwatchd is stopped",
                 wait_for(lambda: has(prometheus.series(down), instance=variables["instance"]), 30))
    report.check("RstwatchDown is pending", wait_for(
        lambda: alert("RstwatchDown", "pending", instance=variables["instance"]), 30))
    panel = grafana_dashboard.substitute(
        'count(up{job="$job",instance=~"$instance"} == 0) or vector(0)', variables)
    report.check("panel 'Daemons down' counts it", value(prometheus.series(panel)) == 1)


def main():
    report = Report()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("prometheus-check: terminated"))
    promtool(report)
    with open(DASHBOARD) as source:
        dashboard = json.load(source)
    help_text = subprocess.run([RSTWATCHD, "--help"], capture_output=True, text=True).stdout
    audit = "--audit-interval" in help_text
    with open("/proc/sys/kernel/bpf_stats_enabled") as setting:
        bpf_stats = setting.read().strip() == "1"
    # Series that exist only with a feature this run may not have: their
    # queries may be empty. Nothing here turns a sysctl on for the host.
    optional = set()
    if not audit:
        print("note: this rstwatchd has no audit: rstwatch_sockets_at_risk queries may be empty")
        optional |= {"rstwatch_sockets_at_risk", "job_risk:rstwatch_sockets_at_risk:sum"}
    if not bpf_stats:
        print("note: kernel.bpf_stats_enabled is 0: BPF run-time queries may be empty")
        optional |= {"rstwatch_bpf_program_run_seconds_total"}
    workdir = tempfile.mkdtemp(prefix="rstwatch-prometheus-check.")
    daemon = prometheus = traffic = None
    try:
        daemon, metrics_port = start_daemon(workdir, audit)
        target = f"127.0.0.1:{metrics_port}"
        prometheus = PrometheusServer(workdir, RULES, target, JOB)
        if not report.check("prometheus is ready", prometheus.ready(60)):
            return report.close()
        since = time.time()
        report.check("Prometheus scrapes rstwatchd", wait_for(
            lambda: value(prometheus.series(f'up{{job="{JOB}"}}')) == 1, 30))
        traffic = ResetTraffic()
        make_resets(report, prometheus, daemon, traffic)
        # Windows that hold every reset made, however long the checks take:
        # the panels that drop zero rates must still show them.
        variables = {"datasource": "prometheus", "job": JOB, "instance": target,
                     "__rate_interval": "5m", "__interval": "15s", "__range": "15m"}
        alert = check_rules(report, prometheus, traffic, optional)
        results = check_dashboard(report, prometheus, dashboard, variables, optional, since)
        check_panel_contents(report, prometheus, results, traffic)
        check_names(report, prometheus, [r["query"] for r in prometheus.rules()] +
                    [t[2] for t in grafana_dashboard.targets(dashboard)], optional)
        check_daemon_down(report, prometheus, daemon, alert, variables)
    except Exception as error:  # one line for what failed, then the logs
        report.check("the check ran to its end", False, f"{type(error).__name__}: {error}")
    finally:
        if traffic:
            traffic.close()
        stop_process(daemon, "rstwatchd")
        if prometheus:
            prometheus.stop()
        if report.failed:
            for log in ("rstwatchd.log", "prometheus.log"):
                path = os.path.join(workdir, log)
                if os.path.exists(path):
                    print(f"--- {log} (last 20 lines)")
                    print("".join(open(path).readlines()[-20:]), end="")
        shutil.rmtree(workdir, ignore_errors=True)
    return report.close()


if __name__ == "__main__":
    sys.exit(main())
