"""A Prometheus server of scripts/prometheus-check's own, and its HTTP API.

The server is Debian's prometheus binary with a config and storage in a
temporary directory, listening on loopback only.
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

# Straight to loopback, whatever http_proxy the environment names.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, seconds, pause=0.5):
    """condition() until it returns something true, for at most `seconds`;
    returns its last answer."""
    deadline = time.monotonic() + seconds
    while True:
        answer = condition()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(pause)


def stop_process(process, name):
    """SIGCONT (in case it was stopped), SIGTERM, and SIGKILL after 20 s."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGCONT)
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        print(f"prometheus-check: {name} ignored SIGTERM for 20 s; killing it")
        process.kill()
        process.wait()


class PrometheusServer:
    def __init__(self, workdir, rules, scrape_target, job):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = os.path.join(workdir, "prometheus.log")
        config = os.path.join(workdir, "prometheus.yml")
        with open(config, "w") as out:
            out.write(
                "global:\n"
                "  scrape_interval: 1s\n"
                "  scrape_timeout: 1s\n"
                "  evaluation_interval: 1s\n"
                f"rule_files: [{json.dumps(rules)}]\n"
                "scrape_configs:\n"
                f"  - job_name: {job}\n"
                "    static_configs:\n"
                f"      - targets: [{json.dumps(scrape_target)}]\n"
            )
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={config}",
                    f"--storage.tsdb.path={os.path.join(workdir, 'data')}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--log.level=warn",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def ready(self, seconds):
        def answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.process.returncode}")
            try:
                with OPENER.open(self.base + "/-/ready", timeout=2) as reply:
                    return reply.status == 200
            except (urllib.error.URLError, ConnectionError):
                return False

        return wait_for(answers, seconds)

    def stop(self):
        stop_process(self.process, "prometheus")

    def get(self, path, params):
        url = self.base + path + "?" + urllib.parse.urlencode(params, doseq=True)
        try:
            with OPENER.open(url, timeout=10) as reply:
                return json.load(reply)
        except urllib.error.HTTPError as error:
            # A bad query is a 400 whose body still says why.
            return json.load(error)

    def query(self, expr):
        """(ok, result or error text) of an instant query at the present time."""
        answer = self.get("/api/v1/query", {"query": expr})
        if answer.get("status") != "success":
            return False, f"{answer.get('errorType')}: {answer.get('error')}"
        return True, answer["data"]["result"]

    def query_range(self, expr, start, end, step):
        answer = self.get(
            "/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step}
        )
        if answer.get("status") != "success":
            return False, f"{answer.get('errorType')}: {answer.get('error')}"
        return True, answer["data"]["result"]

    def series(self, expr):
        """The result of an instant query, [] when it fails."""
        ok, result = self.query(expr)
        return result if ok else []

    def rules(self):
        return [
            rule
            for group in self.get("/api/v1/rules", {})["data"]["groups"]
            for rule in group["rules"]
        ]

    def label_values(self, label, match):
        return self.get(f"/api/v1/label/{label}/values", {"match[]": match}).get("data", [])
