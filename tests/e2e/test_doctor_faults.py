"""`flinkctl doctor` on a bad day, each reproduction on a real cluster (issue 20: the faults a
break-it session found).

A cluster of its own per version (8 slots, the `local up --demo` job and a second demo job
running). Faults come from `Rewriting` here, a proxy that forwards every request to the
cluster and rewrites the answers of the paths a test names (a 404 for a job that went away,
metric values of "Infinity", a slow checkpoint). Each test names what the user sees and what
the cluster says, and leaves no job of its own running.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from flinkctl.local.demo import ENTRY_CLASS, JAR

from .conftest import LocalFlink, cli, jobs_named, module_cluster

CLUSTER = "e2e-doctor-faults"
SECOND = "e2e-second"

Rewrite = Callable[[int, bytes], tuple[int, bytes]]


# -- the cluster, and a proxy that rewrites answers -----------------------------------------------


@pytest.fixture(scope="module")
def flink(flink_version, tmp_path_factory) -> LocalFlink:
    with module_cluster(tmp_path_factory, CLUSTER, flink_version, "--slots", "8") as cluster:
        code, out, err = cli(cluster, "local", "demo", "--job-name", SECOND, "-o", "json")
        assert code == 0, err
        cluster.env["E2E_SECOND_JOB"] = json.loads(out)["job-id"]
        yield cluster


class Rewriting:
    """An HTTP proxy in a thread in front of the cluster: every request forwarded, the answer of
    a GET whose path (without its query) matches a rule's regex passed through the rule's
    function (status, body) -> (status, body)."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname, parts.port)
        self.rules: list[tuple[re.Pattern, Rewrite]] = []
        self.rewritten: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    def add(self, path: str, rewrite: Rewrite) -> None:
        self.rules.append((re.compile(path), rewrite))

    def __enter__(self) -> Rewriting:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                self.close_connection = True
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection(*owner.target, timeout=120)
                try:
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower() not in ("host", "connection")}  # fmt: skip
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    status, answer = resp.status, resp.read()
                    kind = resp.getheader("Content-Type") or "application/json"
                finally:
                    conn.close()
                bare = self.path.split("?", 1)[0]
                for pattern, rewrite in owner.rules:
                    if self.command == "GET" and pattern.search(bare):
                        status, answer = rewrite(status, answer)
                        owner.rewritten.append(self.path)
                        break
                self.send_response_only(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(answer)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"


def strict_json(text: str):
    """TEXT parsed as JSON as the RFC has it: NaN and Infinity are not JSON (jq refuses them)."""

    def refuse(constant: str):
        raise ValueError(f"{constant} in the output: not JSON")

    return json.loads(text, parse_constant=refuse)


# -- doctor ---------------------------------------------------------------------------------------


def test_a_job_that_fails_during_the_sample_is_not_reported_running(flink):
    """The job runs when doctor starts and FAILS 8 s into the 15 s sample (no restart strategy).

    Seen: exit 0, state RUNNING, only info findings ("too young"); the cluster says FAILED.
    A FAILED job is critical (docs/diagnosing.md), so `doctor --fail-on critical` as a CI check
    passes a job that failed while it looked."""
    name = "e2e-fails-in-sample"
    code, _, err = cli(flink, "jars", "run", str(JAR), "--class", ENTRY_CLASS,
                       "--arg", "--name", "--arg", name, "--arg", "--fail-after", "--arg", "8",
                       "--arg", "--checkpoint-interval", "--arg", "0",
                       "-D", "restart-strategy.type=none", "--wait-running")  # fmt: skip
    assert code == 0, err
    code, out, err = cli(flink, "doctor", name, "--sample", "15s", "-o", "json")
    report = json.loads(out)
    (job,) = jobs_named(flink, name)
    assert job["state"] == "FAILED"
    assert report["state"] != "RUNNING", "reported RUNNING; the cluster says FAILED"
    assert code == 7, f"exit {code}: a job that FAILED during the sample is critical"


def test_all_survives_a_job_that_is_gone_between_the_listing_and_its_read(flink):
    """`doctor --all`: a job listed by /jobs/overview answers 404 a moment later (it left the
    job store: jobstore.expiration-time, an application cluster shutting down).

    Seen: exit 3, "Job could not be found." (no job named), and no report of any other job."""
    gone = flink.demo_job_id
    with Rewriting(flink.url) as proxy:
        proxy.add(rf"^/jobs/{gone}$", lambda status, body: (404, b'{"errors": ["Job could not '
                                                                  b'be found."]}'))  # fmt: skip
        code, out, err = cli(flink, "doctor", "--all", "--sample", "0", "-o", "json",
                             url=proxy.url)  # fmt: skip
    assert proxy.rewritten
    reports = [r for r in json.loads(out) if "findings" in r] if out.strip() else []
    assert flink.env["E2E_SECOND_JOB"] in {r["job"] for r in reports}, (
        f"exit {code}: the job still running is not reported: {err.strip()}"
    )
    assert code in (0, 7), f"exit {code}: {err.strip()}"


def test_an_infinite_metric_is_not_judged_and_the_json_stays_json(flink):
    """Every vertex metric value "Infinity" (a broken reporter, a proxy's rewrite).

    Seen: `-o json` prints `"busy-max": Infinity` (not JSON: jq, JSON.parse refuse it), and on
    a judged job a warning "backpressured inf% (> 50%)"."""

    def infinite(status: int, body: bytes) -> tuple[int, bytes]:
        metrics = json.loads(body)
        return status, json.dumps([{**m, "value": "Infinity"} for m in metrics]).encode()

    with Rewriting(flink.url) as proxy:
        proxy.add(r"^/jobs/[0-9a-f]{32}/vertices/[0-9a-f]{32}/metrics$", infinite)
        code, out, err = cli(flink, "doctor", flink.demo_job_id, "--sample", "0", "-o", "json",
                             url=proxy.url)  # fmt: skip
    assert proxy.rewritten and code in (0, 7), err
    report = strict_json(out)
    assert not [f["summary"] for f in report["findings"] if "inf%" in f["summary"]]


def test_watch_jsonl_is_one_finding_per_line(flink):
    """`doctor JOB --watch 1 -o jsonl`: the help says -o jsonl is one finding per line.

    Seen: each line is the whole report object ({job, ..., findings: [...]}) under --watch,
    though without --watch each line is a finding ({..., rule, severity, ...})."""
    proc = subprocess.Popen(
        [flink.exe, "--url", flink.url, "doctor", flink.demo_job_id, "--sample", "0",
         "--watch", "1", "-o", "jsonl"],
        env=flink.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    time.sleep(4)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Traceback" not in err, err
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert lines, err
    assert all("rule" in line and "findings" not in line for line in lines), (
        f"not one finding per line: keys {sorted(lines[0])}"
    )


def test_a_sample_shorter_than_the_refresh_is_not_stretched_to_it(flink):
    """`--sample 1s` ("read the metrics over this window").

    Seen: it sleeps a whole 10 s refresh and reports sampled-ms ~10000 with 2 readings: a
    1 s window takes ten times as long (0.5s, 5s, 9s alike)."""
    started = time.monotonic()
    code, out, err = cli(flink, "doctor", flink.demo_job_id, "--sample", "1s", "-o", "json")
    took = time.monotonic() - started
    assert code in (0, 7), err
    report = json.loads(out)
    assert report["sampled-ms"] <= 3000 and took < 6, (
        f"--sample 1s took {took:.1f}s, sampled-ms {report['sampled-ms']}"
    )


@pytest.mark.skipif(not shutil.which("script"), reason="needs script(1) for a terminal")
def test_the_findings_fit_a_terminal_of_40_columns(flink):
    """On a terminal of 40 columns (the module docstring of flinkctl/output/doctor.py: "fits
    its width without cutting anything short").

    Seen: every finding row is 41 columns (SUBJECT_MIN 12 beside SEVERITY and the 15 of
    "slow-checkpoint"), so each wraps onto a line of its own. The slow checkpoint is the
    proxy's: the latest completed checkpoint's details say it took a minute."""

    def slow(status: int, body: bytes) -> tuple[int, bytes]:
        return status, json.dumps({**json.loads(body), "end_to_end_duration": 60_000}).encode()

    with Rewriting(flink.url) as proxy:
        proxy.add(r"^/jobs/[0-9a-f]{32}/checkpoints/details/[0-9]+$", slow)
        command = (f"stty cols 40; {flink.exe} --url {proxy.url} doctor {flink.demo_job_id} "
                   "--sample 0")  # fmt: skip
        proc = subprocess.run(["script", "-q", "-c", command, "/dev/null"], env=flink.env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=60)  # fmt: skip
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", proc.stdout).replace("\r", "")
    lines = [line for line in text.splitlines() if not line.startswith(("error:", "hint:"))]
    assert "slow-checkpoint" in text, text
    wide = [line for line in lines if len(line) > 40]
    assert not wide, f"{len(wide)} line(s) wider than 40 columns: {wide[:3]}"
