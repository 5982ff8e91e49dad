"""The poller and waiting under faults: backoff, timeout, 503s, a vanished job, Ctrl-C, resets."""

from __future__ import annotations

import json
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from flinkctl.client.poller import Poller, new_trigger_id
from flinkctl.errors import NotFoundError, OperationFailed, ServerError, WaitTimeout


class FakeTime:
    """A clock that only moves when the poller sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def bodies(*items):
    """A fetch function answering ITEMS in turn (exceptions are raised)."""
    it = iter(items)

    def fetch():
        item = next(it)
        if isinstance(item, Exception):
            raise item
        return item

    return fetch


def test_backoff_grows_from_100ms_to_2s(flink):
    t = FakeTime()
    pending = flink.body("savepoint-status-in-progress")
    done = flink.body("savepoint-status-completed")
    poller = Poller(600, sleep=t.sleep, clock=t.clock)
    op = poller.operation(bodies(*[pending] * 12, done))
    assert op == done["operation"]
    assert t.sleeps[0] == pytest.approx(0.1)
    assert t.sleeps == sorted(t.sleeps)
    assert max(t.sleeps) == pytest.approx(2.0)


def test_failure_cause_raises_with_first_line_and_full_trace(flink):
    failed = flink.body("savepoint-status-failed")
    with pytest.raises(OperationFailed) as info:
        Poller(sleep=lambda s: None).operation(bodies(failed), what="savepoint")
    trace = failed["operation"]["failure-cause"]["stack-trace"]
    assert info.value.message.startswith("savepoint failed: ")
    assert "\n" not in info.value.message
    assert "IO-problem detected" in info.value.message
    assert info.value.flink == [trace.rstrip()]


def test_timeout_raises_wait_timeout(flink):
    t = FakeTime()
    pending = flink.body("savepoint-status-in-progress")
    poller = Poller(5, sleep=t.sleep, clock=t.clock)
    with pytest.raises(WaitTimeout):
        poller.operation(lambda: pending)
    assert t.now == pytest.approx(5)


def test_timeout_zero_waits_forever(flink):
    t = FakeTime()
    pending = flink.body("savepoint-status-in-progress")
    done = flink.body("savepoint-status-completed")
    Poller(0, sleep=t.sleep, clock=t.clock).operation(bodies(*[pending] * 500, done))
    assert t.now > 600


def test_transient_errors_are_ridden_through_but_not_others(flink):
    done = flink.body("savepoint-status-completed")
    busy = ServerError("busy", status=503)
    assert Poller(sleep=lambda s: None).operation(bodies(busy, busy, done)) == done["operation"]
    with pytest.raises(ServerError):
        Poller(sleep=lambda s: None).operation(bodies(ServerError("bug", status=500)))


def test_on_tick_reports_elapsed_and_last_body(flink):
    t = FakeTime()
    pending = flink.body("savepoint-status-in-progress")
    ticks = []
    poller = Poller(sleep=t.sleep, clock=t.clock, on_tick=lambda e, b: ticks.append((e, b)))
    poller.operation(bodies(pending, pending, flink.body("savepoint-status-completed")))
    assert [b for _, b in ticks] == [pending, pending]
    assert ticks[1][0] > ticks[0][0]


def test_last_returns_the_last_body_when_time_is_up_without_raising():
    t = FakeTime()
    poller = Poller.within(5, sleep=t.sleep, clock=t.clock)
    assert poller.last(bodies(*range(100)), lambda n: n < 0) > 0
    assert t.now == pytest.approx(5)
    assert (
        Poller.within(5, sleep=t.sleep, clock=t.clock).last(bodies(1, 2, 3), lambda n: n == 2) == 2
    )


def test_within_zero_polls_once_without_sleeping():
    t = FakeTime()
    assert Poller.within(0, sleep=t.sleep, clock=t.clock).last(bodies(1, 2), lambda n: False) == 1
    assert t.sleeps == []


def test_errors_while_sampling_propagate():
    with pytest.raises(ServerError):
        Poller.within(5, sleep=lambda s: None).last(bodies(ServerError("busy", status=503)), bool)


def test_trigger_ids_are_32_hex_and_unique():
    ids = {new_trigger_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


# -- the CLI's waiting, against the test server ------------------------------------------------


def test_status_503s_are_ridden_through(cli, flink, expect, tid):
    jid = flink.ids["jobid"]
    expect("jobs-overview", ordered=True)  # the job's name, for the catalog
    expect("savepoint-trigger", ordered=True)
    expect("savepoint-status-in-progress", ordered=True)
    for _ in range(6):  # more than the HTTP layer's own retries
        expect("savepoint-status-completed", ordered=True, body="busy", status=503)
    expect("savepoint-status-completed", ordered=True)
    r = cli("savepoint", "trigger", jid, "--wait", "-o", "json")
    assert (r.code, r.err) == (0, "")
    assert r.json()["location"] == flink.body("savepoint-status-completed")["operation"]["location"]


def test_job_gone_during_wait_is_exit_3(cli, flink, expect, tid):
    jid = flink.ids["jobid"]
    expect("jobs-overview", ordered=True)  # the job's name, for the catalog
    expect("savepoint-trigger", ordered=True)
    expect("savepoint-status-in-progress", ordered=True)
    expect("savepoint-status-completed", ordered=True, answer="savepoint-status-unknown")
    r = cli("savepoint", "trigger", jid, "--wait")
    assert r.code == 3
    assert r.out == ""
    first, hint = r.err.splitlines()
    assert first.startswith(f"error: the savepoint of job {jid} can no longer be followed: ")
    assert "There is no savepoint operation" in first
    assert hint.startswith("hint: the job may have ended")


def test_timeout_is_exit_8_with_resume_command(cli, flink, httpserver, expect, tid):
    jid = flink.ids["jobid"]
    expect("jobs-overview", always=True)  # the job's name, for the catalog
    expect("savepoint-trigger")
    expect("savepoint-status-in-progress", always=True)
    r = cli("savepoint", "trigger", jid, "--wait", "--timeout", "0.1")
    url = httpserver.url_for("").rstrip("/")
    assert (r.code, r.out) == (8, "")
    assert r.err.splitlines() == [
        f"error: savepoint of job {jid} still in progress after 0.1s; it may still complete",
        f"hint: resume waiting with: flinkctl --url {url} savepoint status {jid} {tid} --wait",
    ]


def test_ctrl_c_stops_waiting_and_prints_the_resume_command(
    cli, flink, httpserver, expect, tid, monkeypatch
):
    jid = flink.ids["jobid"]
    expect("jobs-overview", always=True)  # the job's name, for the catalog
    expect("savepoint-trigger")
    expect("savepoint-status-in-progress", always=True)

    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr("time.sleep", interrupt)
    r = cli("savepoint", "trigger", jid, "--wait", "-o", "json")
    url = httpserver.url_for("").rstrip("/")
    assert (r.code, r.out) == (130, "")
    assert r.err.splitlines()[:2] == [
        f"stopped waiting; the savepoint of job {jid} goes on on the cluster",
        f"hint: resume waiting with: flinkctl --url {url} savepoint status {jid} {tid} "
        "--wait -o json",
    ]


def test_failure_is_exit_1_with_first_line_and_full_cause_with_debug(cli, flink, expect, tid):
    jid = flink.ids["jobid"]
    expect("jobs-overview", always=True)  # the job's name, for the catalog
    expect("savepoint-trigger")
    expect("savepoint-status-completed", answer="savepoint-status-failed")
    r = cli("savepoint", "trigger", jid, "--wait")
    assert (r.code, r.out) == (1, "")
    assert len(r.err.splitlines()) == 1
    assert r.err.startswith(f"error: savepoint of job {jid} failed: ")
    expect("savepoint-trigger")
    expect("savepoint-status-completed", answer="savepoint-status-failed")
    r = cli("--debug", "savepoint", "trigger", jid, "--wait")
    assert r.code == 1
    assert (
        flink.body("savepoint-status-failed")["operation"]["failure-cause"]["stack-trace"].strip()
        in r.err
    )


# -- the trigger POST is reset after the server took it: one savepoint, same triggerId ------------


class ResetOnceServer(ThreadingHTTPServer):
    """Serves recorded bodies; drops the connection (RST) on the first savepoint trigger.

    Served with `serve_forever(0.01)`: its shutdown waits for a poll interval (0.5 s by default).
    """

    daemon_threads = True

    def __init__(self, flink):
        self.flink = flink
        self.posts: list[str] = []
        self.savepoints: set[str] = set()
        super().__init__(("127.0.0.1", 0), ResetHandler)

    def handle_error(self, request, client_address):  # the reset is on purpose
        pass


class ResetHandler(BaseHTTPRequestHandler):
    server: ResetOnceServer

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        tid = body["triggerId"]
        self.server.posts.append(tid)
        self.server.savepoints.add(tid)  # Flink keys the operation by (job, triggerId)
        if len(self.server.posts) == 1:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        self._json(202, {"request-id": tid})

    def do_GET(self):
        self._json(200, self.server.flink.body("savepoint-status-completed"))

    def _json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_reset_trigger_is_retried_with_the_same_trigger_id(cli, flink):
    server = ResetOnceServer(flink)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        jid = flink.ids["jobid"]
        r = cli("savepoint", "trigger", jid, "--wait", "-o", "json", url=url)
    finally:
        server.shutdown()
        server.server_close()
    assert (r.code, r.err) == (0, "")
    assert len(server.posts) == 2
    assert server.posts[0] == server.posts[1] == r.json()["trigger-id"]
    assert len(server.savepoints) == 1


def test_stop_with_savepoint_is_retried_with_its_trigger_id(flink):
    """Stop-with-savepoint carries a triggerId too (every version from 1.15 on): repeated on a
    reset with the same id, it stops the job once."""
    from flinkctl.client import FlinkClient
    from flinkctl.config import Context

    server = ResetOnceServer(flink)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    tid = new_trigger_id()
    try:
        client = FlinkClient(Context(name="t", url=f"http://127.0.0.1:{server.server_address[1]}"))
        assert client.stop_job(flink.ids["jobid"], tid) == {"request-id": tid}
    finally:
        server.shutdown()
        server.server_close()
    assert server.posts == [tid, tid]


def test_not_found_during_poll_propagates():
    with pytest.raises(NotFoundError):
        Poller(sleep=lambda s: None).operation(bodies(NotFoundError("gone")))
