"""Ctrl-C (a real SIGINT to a real flinkctl process) during an upload, a wait, a watch and a
fan-out of retrying requests: exit 130 at once, no traceback, no half-written output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


class Server(ThreadingHTTPServer):
    """A real server; ROUTES maps a path (prefix) to (status, body) or to a function of the
    handler; `hit` is set on the first request of each path, `seen` counts them."""

    daemon_threads = True

    def __init__(self, routes: dict):
        self.routes = routes
        self.seen: dict[str, int] = {}
        self.hit: dict[str, threading.Event] = {path: threading.Event() for path in routes}
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, args=(0.01,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def handle_error(self, request, client_address):  # a client that went away mid-request
        pass


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *args):
        pass

    def _serve(self):
        path = next((p for p in self.server.routes if self.path.startswith(p)), None)
        if path is None:
            self.send_error(404)
            return
        self.server.seen[path] = self.server.seen.get(path, 0) + 1
        self.server.hit[path].set()
        route = self.server.routes[path]
        if callable(route):
            route(self)
            return
        status, body = route
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve


def start(*args: str, stdout=subprocess.PIPE, budget: str | None = "1") -> subprocess.Popen:
    """flinkctl ARGS in a process of its own, with Ctrl-C's default meaning (a test runner in
    the background may have SIGINT ignored, which a child would inherit)."""
    env = {k: v for k, v in os.environ.items() if k != "FLINKCTL_RETRY_BUDGET"}
    if budget is not None:
        env["FLINKCTL_RETRY_BUDGET"] = budget
    return subprocess.Popen(
        [sys.executable, "-m", "flinkctl", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def interrupt(proc: subprocess.Popen, after: threading.Event, *, pause: float = 0.3):
    """SIGINT PROC once AFTER is set (and PAUSE more); its exit code, stdout, stderr, and how
    long it took to exit."""
    assert after.wait(30), "the process never got there"
    time.sleep(pause)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err, time.monotonic() - sent


def test_ctrl_c_during_an_upload(flink, tmp_path):
    jar = tmp_path / "big.jar"
    jar.write_bytes(b"PK\x03\x04" + os.urandom(1024) * 48 * 1024)  # 48 MiB: longer than a blink
    release = threading.Event()

    def slow_reader(handler):  # takes the headers, then reads nothing: the upload stalls
        release.wait(30)

    server = Server({"/jars/upload": slow_reader})
    try:
        proc = start("--url", server.url, "jars", "upload", str(jar))
        code, out, err, took = interrupt(proc, server.hit["/jars/upload"])
    finally:
        release.set()
        server.stop()
    assert (code, out) == (130, "")
    assert "Traceback" not in err
    assert took < 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jar", "config.yaml"]


def test_ctrl_c_during_a_wait(flink):
    jid = flink.ids["jobid"]
    trigger = flink.record("savepoint-trigger")
    server = Server(
        {
            f"/jobs/{jid}/savepoints/": (200, flink.body("savepoint-status-in-progress")),
            f"/jobs/{jid}/savepoints": (trigger["status"], trigger["body"]),
        }
    )
    try:
        proc = start("--url", server.url, "savepoint", "trigger", jid, "--wait", "-o", "json")
        code, out, err, took = interrupt(proc, server.hit[f"/jobs/{jid}/savepoints/"])
    finally:
        server.stop()
    assert (code, out) == (130, "")
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0] == f"stopped waiting; the savepoint of job {jid} goes on on the cluster"
    assert lines[1].startswith(f"hint: resume waiting with: flinkctl --url {server.url} ")
    assert took < 5


@pytest.mark.parametrize("fmt", ["json", "yaml", "table"])
def test_ctrl_c_during_a_watch_leaves_whole_output(flink, tmp_path, fmt):
    overview = flink.body("jobs-overview")
    server = Server({"/jobs/overview": (200, overview)})
    out_file = tmp_path / f"watch.{fmt}"
    try:
        with out_file.open("w") as fh:
            proc = start("--url", server.url, "jobs", "list", "-w", "0.1", "-o", fmt, stdout=fh)
            seen = threading.Event()
            threading.Thread(
                target=lambda: (
                    (time.sleep(0.5), seen.set()) if server.hit["/jobs/overview"].wait(30) else None
                ),
                daemon=True,
            ).start()
            code, _, err, took = interrupt(proc, seen, pause=0.05)
    finally:
        server.stop()
    assert code == 130
    assert "Traceback" not in err
    assert took < 5
    text = out_file.read_text()
    assert text.endswith("\n")
    if fmt == "json":
        docs = [json.loads(line) for line in text.splitlines()]
        assert len(docs) >= 2 and all(doc["jobs"] for doc in docs)
    elif fmt == "yaml":
        import yaml

        assert all(doc["jobs"] for doc in yaml.safe_load_all(text))
    else:
        assert all(block.startswith("ID\tNAME\tSTATE") for block in text.split("\n\n"))


def test_ctrl_c_during_retrying_fan_out_exits_at_once(flink):
    """Every vertex's backpressure answers 503 and is retried in worker threads for the default
    20 s budget: Ctrl-C does not wait for them."""
    jid = flink.ids["jobid"]
    server = Server(
        {
            f"/jobs/{jid}/vertices/": (503, {"errors": ["busy"]}),
            f"/jobs/{jid}": (200, flink.body("job")),
        }
    )
    try:
        proc = start("--url", server.url, "vertices", "backpressure", jid, budget=None)
        code, out, err, took = interrupt(proc, server.hit[f"/jobs/{jid}/vertices/"])
    finally:
        server.stop()
    assert (code, out) == (130, "")
    assert "Traceback" not in err
    assert took < 3
    assert server.seen[f"/jobs/{jid}/vertices/"] > len(flink.body("job")["vertices"])  # retrying


def test_ctrl_c_while_saving_the_config_keeps_it_whole(tmp_path):
    """SIGINT at random moments of twenty `config set-context` runs: the file is always a
    valid config, and no temp or lock file stays behind."""
    from flinkctl import config

    path = tmp_path / "config.yaml"
    env_path = {"FLINKCTL_CONFIG": str(path)}
    outcomes: set[int] = set()

    def set_context(i: int) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flinkctl",
                "config",
                "set-context",
                f"c{i}",
                "--url",
                "http://h:1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **env_path},
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )

    begun = time.monotonic()
    assert set_context(99).wait(60) == 0
    whole_run = time.monotonic() - begun  # as long as a run takes on this machine now
    for i in range(20):
        proc = set_context(i)
        time.sleep(whole_run * (i + 1) / 20)  # from interpreter start-up to the save
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        # 0: done before the signal; 130: flinkctl stopped it; else Python was still starting
        # (importing the package: its own traceback, which the tests above show flinkctl's
        # code never prints)
        assert proc.returncode not in (0, 130) or "Traceback" not in err, err
        outcomes.add(proc.returncode)
        config.load(path)  # whole and valid after every one
    assert [p.name for p in Path(tmp_path).iterdir()] == ["config.yaml"]
    assert 130 in outcomes  # some were stopped by flinkctl itself
