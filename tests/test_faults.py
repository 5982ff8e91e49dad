"""Faults ridden out or ended cleanly: 503 storms, refused and reset connections, a JobManager
that restarts, answers lost after Flink took a trigger, and URLs that are not Flink's REST API.

Bodies are the recorded ones (tests/fixtures); the faults come from real sockets.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from conftest import LEADER_ELECTION, Answer, FaultServer, Recorded

from flinkctl.client import FlinkClient
from flinkctl.client.http import Http
from flinkctl.client.requests import Program
from flinkctl.config import Context
from flinkctl.errors import (
    FlinkctlError,
    UnreachableError,
    UnsupportedError,
)


def recorded(flink: Recorded, name: str) -> Answer:
    rec = flink.record(name)
    return ("json", rec["status"], rec["body"])


def client(url: str, budget: float = 20.0) -> FlinkClient:
    return FlinkClient(Context(name="t", url=url, retry_budget=budget))


SHORT_BUDGET = 0.15  # seconds: room for several attempts, with backoff from 1 ms (conftest)


@pytest.fixture
def short_budget(monkeypatch):
    """A retry budget of SHORT_BUDGET (the tests' usual one is as good, only slower)."""
    monkeypatch.setenv("FLINKCTL_RETRY_BUDGET", str(SHORT_BUDGET))


# -- the retry budget -------------------------------------------------------------------------


@pytest.mark.parametrize("storm", [1, 5, 30])
def test_a_503_storm_within_the_budget_is_ridden_out(flink, httpserver, monkeypatch, storm):
    """A JobManager restarting behind its gateway: 503 for STORM requests, then the answer."""
    monkeypatch.setattr(Http, "max_delay", 0.005)  # 30 pauses of 2 s would be a real minute
    for _ in range(storm):
        httpserver.expect_ordered_request("/overview").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/overview").respond_with_json(flink.body("overview"))
    assert client(httpserver.url_for("").rstrip("/")).overview() == flink.body("overview")
    httpserver.check_assertions()
    assert len(httpserver.log) == storm + 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_storm_longer_than_the_budget_is_exit_5_after_many_attempts(
    httpserver, cli, short_budget, status
):
    """Retried for the budget (SHORT_BUDGET here), not a fixed number of times; then exit 5."""
    httpserver.expect_request("/overview").respond_with_data("<html>gateway</html>", status=status)
    start = time.monotonic()
    r = cli("cluster", "overview")
    took = time.monotonic() - start
    assert (r.code, r.out) == (5, "")
    assert r.err.startswith(f"error: cannot reach {httpserver.url_for('').rstrip('/')}: ")
    assert f"GET /overview answers {status} " in r.err and " attempts in " in r.err
    assert "hint: the JobManager may be restarting" in r.err
    assert SHORT_BUDGET <= took < 8.0  # the budget decides when to stop (slow attempts: load)
    assert len(httpserver.log) >= 2  # how many fit in the budget depends on jitter and load


def test_flink_s_own_503_message_is_kept():
    with (
        FaultServer(lambda m, p, b: LEADER_ELECTION) as server,
        pytest.raises(UnreachableError) as info,
    ):
        client(server.url, budget=0.05).overview()
    assert "an ongoing leader election" in info.value.message
    assert info.value.status == 503 and info.value.flink == LEADER_ELECTION[2]["errors"]


def test_backoff_doubles_with_jitter_up_to_the_cap(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    http = Http(Context(name="t"))
    http.backoff, http.max_delay = 0.2, 2.0
    deadline = time.monotonic() + 3600
    for attempt in range(8):
        assert http._again(attempt, deadline)
    for attempt, pause in enumerate(slept):
        full = min(2.0, 0.2 * 2**attempt)
        assert full / 2 <= pause <= full
    assert len(set(slept)) == len(slept)  # jitter: no two pauses alike


def test_the_last_pause_ends_at_the_budget_and_then_it_stops(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    http = Http(Context(name="t"))
    assert http._again(10, time.monotonic() + 0.05)
    assert slept[0] <= 0.05
    assert not http._again(11, time.monotonic() - 0.01)


def test_retry_after_lengthens_the_pause(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    http = Http(Context(name="t"))
    assert http._again(0, time.monotonic() + 60, "3")
    assert slept == [3.0]


def test_a_budget_of_0_means_one_attempt(httpserver):
    httpserver.expect_request("/overview").respond_with_data("busy", status=503)
    with pytest.raises(UnreachableError):
        client(httpserver.url_for("").rstrip("/"), budget=0).overview()
    assert len(httpserver.log) == 1


def test_shell_completion_never_retries(flink, httpserver, monkeypatch):
    """A TAB must not hang: one request, whatever the context's budget."""
    from flinkctl.cli.common import completers

    monkeypatch.setenv("FLINKCTL_RETRY_BUDGET", "60")
    httpserver.expect_request("/jobs/overview").respond_with_data("busy", status=503)

    class Typed:  # what completion sees of a typed command line
        params: dict = {"url": httpserver.url_for("").rstrip("/"), "config": None, "context": None}

        def find_root(self):
            return self

    start = time.monotonic()
    assert completers.jobs(Typed(), "") == []
    assert time.monotonic() - start < 1
    assert len(httpserver.log) == 1


def test_refused_connections_while_the_jobmanager_restarts(flink, monkeypatch):
    """Nothing listens for 0.2 s (connection refused), then the JobManager is back."""
    monkeypatch.setattr(Http, "max_delay", 0.02)  # back within 20 ms of its return
    overview = recorded(flink, "overview")
    with FaultServer.later(lambda m, p, b: overview, 0.2) as (url, _):
        assert client(url, budget=10).overview() == overview[2]


@pytest.mark.parametrize("resets", [1, 3, 8])
def test_reset_connections_are_retried_for_reads(flink, monkeypatch, resets):
    monkeypatch.setattr(Http, "max_delay", 0.005)  # 8 doublings from 1 ms: a quarter second
    overview = recorded(flink, "overview")

    def answer(method, path, body):
        return ("reset",) if len(server.log) <= resets else overview

    with FaultServer(answer) as server:
        assert client(server.url).overview() == overview[2]
    assert len(server.log) == resets + 1


@pytest.mark.parametrize(
    "call",
    [
        lambda c, jid: c.cancel_job(jid),
        lambda c, jid: c.run_jar("demo.jar", Program(entry_class="x.Y")),
        lambda c, jid: c.dispose_savepoint("file:///sp/savepoint-1"),
        lambda c, jid: c.shutdown_cluster(),
    ],
    ids=["cancel", "jar-run", "dispose", "shutdown"],
)
@pytest.mark.parametrize("fault", ["reset", "503"])
def test_changes_without_a_trigger_id_are_never_repeated(flink, call, fault):
    def answer(method, path, body):
        if path == "/config":
            return recorded(flink, "config")
        return ("reset",) if fault == "reset" else LEADER_ELECTION

    with FaultServer(answer) as server, pytest.raises(FlinkctlError):
        call(client(server.url), flink.ids["jobid"])
    changes = [entry for entry in server.log if entry[0] != "GET"]
    assert len(changes) == 1, server.log


def test_a_connection_never_opened_is_retried_even_for_a_change(flink, tmp_path, monkeypatch):
    """Refused: nothing was sent, so even an upload is safe to send again."""
    monkeypatch.setattr(Http, "max_delay", 0.02)  # back within 20 ms of its return
    jar = tmp_path / "job.jar"
    jar.write_bytes(b"PK\x03\x04" + b"x" * 1000)
    uploaded = recorded(flink, "jar-upload")
    with FaultServer.later(lambda m, p, b: uploaded, 0.2) as (url, started):
        assert client(url, budget=10).upload_jar(jar) == uploaded[2]
        assert [(m, p) for m, p, _ in started[0].log] == [("POST", "/jars/upload")]
        assert b"x" * 1000 in started[0].log[0][2]  # the whole jar, read again from its start


def test_tls_failures_are_not_retried(httpserver):
    """A certificate or protocol error does not pass with time: one attempt, at once."""
    httpserver.expect_request("/overview").respond_with_json({})
    url = httpserver.url_for("").rstrip("/").replace("http://", "https://")
    start = time.monotonic()
    with pytest.raises(UnreachableError):
        client(url, budget=30).overview()
    assert time.monotonic() - start < 2


# -- not Flink's REST API ---------------------------------------------------------------------


def _unknown_path(flink: Recorded) -> Callable[[str], Answer]:
    """Flink's 404 for a path it has no handler for, as recorded (its web UI's file server
    names the path it could not load)."""
    rec = Recorded("1.20.5").record("applications-overview")  # a path 1.20 does not have
    template = rec["body"]["errors"][0]
    recorded_path = template.removeprefix("Unable to load requested file ").rstrip(".")
    return lambda path: ("json", 404, {"errors": [template.replace(recorded_path, path)]})


def test_a_wrong_path_prefix_is_exit_5_never_3(flink, cli):
    """Flink answers every path under a wrong prefix with 404 "Unable to load requested file":
    a deploy script must not read that as "the job does not exist"."""
    unknown = _unknown_path(flink)
    with FaultServer(lambda m, p, b: unknown(p)) as server:
        jid = flink.ids["jobid"]
        for args in (("jobs", "show", jid), ("jobs", "list"), ("savepoint", "trigger", jid)):
            r = cli(*args, url=server.url + "/flink")
            assert (r.code, r.out) == (5, ""), (args, r.err)
            line, hint = r.err.splitlines()
            assert line.startswith(f"error: no Flink REST API at {server.url}/flink: ")
            assert "knows no such path (404)" in line
            assert hint.startswith("hint: check the URL and its path prefix '/flink'")
        r = cli("jobs", "show", jid, "-o", "json", url=server.url + "/flink")
        error = json.loads(r.err)["error"]
        assert (r.code, error["code"], error["kind"], error["status"]) == (
            5,
            5,
            "no-flink-api",
            404,
        )
    # one probe of GET /config told "no Flink here" from "this Flink lacks the endpoint"
    assert ("GET", "/flink/config", None) in server.log


def test_flink_without_its_web_ui_says_not_found_for_unknown_paths(flink, cli):
    """Without flink-runtime-web, Flink's router answers `Not found: /path` (RouterHandler)."""
    with FaultServer(lambda m, p, b: ("json", 404, {"errors": [f"Not found: {p}"]})) as server:
        r = cli("jobs", "list", url=server.url + "/wrong")
    assert r.code == 5 and "no Flink REST API" in r.err


def test_a_missing_object_is_still_exit_3(flink, cli):
    """The same prefix-less URL, a real Flink, a job it does not know: exit 3."""
    missing = recorded(flink, "job-not-found")
    with FaultServer(lambda m, p, b: missing) as server:
        r = cli("jobs", "show", "0123456789abcdef0123456789abcdef", url=server.url)
    assert (r.code, r.err) == (3, "error: Job 0123456789abcdef0123456789abcdef not found\n")


def test_an_endpoint_this_flink_lacks_is_unsupported_not_missing(flink):
    """An unknown path on a server whose GET /config is Flink's: an older Flink (exit 1)."""
    unknown = _unknown_path(flink)
    config = recorded(flink, "config")

    def answer(method, path, body):
        return config if path == "/config" else unknown(path)

    with FaultServer(answer) as server, pytest.raises(UnsupportedError) as info:
        client(server.url).http.request("GET", "/jobs/x/rescales/overview")
    version = flink.body("config")["flink-version"]
    assert info.value.message == (
        f"this cluster (Flink {version}) has no endpoint GET /jobs/x/rescales/overview"
    )
    assert info.value.code == 1


@pytest.mark.parametrize(
    "args, path",
    [(["jars", "list"], "GET /jars"), (["jars", "upload", "JAR"], "POST /jars/upload")],
)
def test_jars_on_a_cluster_that_takes_none_say_why(flink, cli, tmp_path, args, path):
    """web.submit.enable: false (recorded): no /jars handler; an upload is the file server's
    400 "POST request not allowed"."""
    answers = {
        "/config": recorded(flink, "config-no-submit"),
        "/jars": recorded(flink, "jars-no-submit"),
        "/jars/upload": recorded(flink, "jar-upload-no-submit"),
    }
    jar = tmp_path / "job.jar"
    jar.write_bytes(b"PK\x03\x04")
    with FaultServer(lambda m, p, b: answers[p.split("?")[0]]) as server:
        r = cli(*[str(jar) if a == "JAR" else a for a in args], url=server.url)
    assert (r.code, r.out) == (1, "")
    version = flink.body("config")["flink-version"]
    assert r.err.splitlines() == [
        f"error: this cluster (Flink {version}) takes no jars over REST ({path}): "
        "web.submit.enable is false",
        "hint: submit with bin/flink run, or start the cluster with web.submit.enable: true",
    ]


@pytest.mark.parametrize(
    "answer, said",
    [
        (("text", 200, "<!doctype html><title>Sign in</title>", "text/html"), "an HTML page (200)"),
        (("text", 200, "ok", "text/plain"), "a body not JSON (200)"),
        (("text", 404, "<html>404 Not Found</html>", "text/html"), "not Flink's (404)"),
        (("text", 404, "404 page not found", "text/plain"), "not Flink's (404)"),
        (("json", 404, {"error": "no route"}), "not Flink's (404)"),
        (("json", 404, {"message": "Not Found", "status": 404}), "not Flink's (404)"),
    ],
    ids=["login-page", "text", "nginx-404", "prometheus", "other-json", "spring"],
)
def test_other_servers_are_no_flink_rest_api(cli, answer, said):
    with FaultServer(lambda m, p, b: answer) as server:
        r = cli("jobs", "list", url=server.url)
    assert (r.code, r.out) == (5, "")
    line = r.err.splitlines()[0]
    assert line.startswith(f"error: no Flink REST API at {server.url}: GET /jobs/overview ")
    assert line.endswith(said)
    assert "hint: check the URL: it must lead to a JobManager's REST endpoint" in r.err


# -- answers lost after Flink took the trigger --------------------------------------------------


class Cluster:
    """A Flink that takes triggers, as the dispatcher does (one operation per job and trigger
    id), behind a gateway that loses every answer to a trigger: a reset, or a 504."""

    def __init__(self, flink: Recorded, trigger: str, lose: str = "reset", accept: bool = True):
        self.flink, self.trigger, self.lose, self.accept = flink, trigger, lose, accept
        self.known: set[str] = set()
        self.status_polls = 0

    def __call__(self, method: str, path: str, body: object) -> Answer:
        jid = self.flink.ids["jobid"]
        if method == "POST":
            assert isinstance(body, dict)
            if self.accept:
                self.known.add(body["triggerId"])
            return (
                ("reset",)
                if self.lose == "reset"
                else ("text", 504, "<html>504</html>", "text/html")
            )
        checkpoint = self.trigger.startswith("checkpoint")
        prefix = f"/jobs/{jid}/{'checkpoints' if checkpoint else 'savepoints'}/"
        if path.startswith(prefix):
            if path.removeprefix(prefix) not in self.known:
                unknown = "checkpoint-trigger" if checkpoint else "savepoint"
                return recorded(self.flink, f"{unknown}-status-unknown")
            self.status_polls += 1
            state = "in-progress" if self.status_polls == 1 else "completed"
            return recorded(self.flink, f"{self.trigger}-status-{state}")
        if path == f"/jobs/{jid}":
            return recorded(self.flink, "job-stopped")
        if path == "/jobs/overview":  # the job's name, for the catalog
            return recorded(self.flink, "jobs-overview")
        return recorded(self.flink, "config")


def _posts(server: FaultServer) -> list[str]:
    return [body["triggerId"] for method, _, body in server.log if method == "POST"]


@pytest.mark.parametrize("lose", ["reset", "504"])
def test_a_savepoint_whose_every_answer_was_lost_is_followed(flink, cli, short_budget, lose):
    jid = flink.ids["jobid"]
    with FaultServer(Cluster(flink, "savepoint", lose)) as server:
        r = cli("savepoint", "trigger", jid, "--wait", "-o", "json", url=server.url)
    assert (r.code, r.err) == (0, ""), r.err
    out = r.json()
    posts = _posts(server)
    assert len(posts) > 2 and set(posts) == {out["trigger-id"]}  # retried, one trigger id
    location = flink.body("savepoint-status-completed")["operation"]["location"]
    assert (out["status"], out["location"]) == ("COMPLETED", location)


def test_a_stop_whose_every_answer_was_lost_is_followed(flink, cli, short_budget):
    jid = flink.ids["jobid"]
    with FaultServer(Cluster(flink, "stop")) as server:
        r = cli("jobs", "stop", jid, "--wait", "--yes", "-o", "json", url=server.url)
    assert r.code == 0, r.err
    out = r.json()
    assert set(_posts(server)) == {out["trigger-id"]}
    assert out["location"] == flink.body("stop-status-completed")["operation"]["location"]
    assert out["job-state"] == flink.body("job-stopped")["state"]


def test_a_checkpoint_whose_every_answer_was_lost_is_followed(flink, cli, short_budget):
    jid = flink.ids["jobid"]
    with FaultServer(Cluster(flink, "checkpoint-trigger")) as server:
        r = cli("checkpoints", "trigger", jid, "--wait", "-o", "json", url=server.url)
    assert r.code == 0, r.err
    assert set(_posts(server)) == {r.json()["trigger-id"]}


def test_a_trigger_flink_never_took_is_exit_5(flink, cli, short_budget):
    """The status by trigger id is asked once; Flink does not know it: the lost answer stands."""
    jid = flink.ids["jobid"]
    with FaultServer(Cluster(flink, "savepoint", accept=False)) as server:
        r = cli("savepoint", "trigger", jid, "--wait", url=server.url)
    assert (r.code, r.out) == (5, "")
    assert r.err.startswith(f"error: cannot reach {server.url}: ")
    gets = [path for method, path, _ in server.log if method == "GET"]
    statuses = [p for p in gets if p != "/jobs/overview"]
    assert len(statuses) >= 1 and all("/savepoints/" in p for p in statuses)


def test_the_library_recovers_a_lost_trigger_too(flink):
    from flinkctl import new_trigger_id

    tid = new_trigger_id()
    with FaultServer(Cluster(flink, "savepoint")) as server:
        triggered = client(server.url, budget=SHORT_BUDGET).trigger_savepoint(
            flink.ids["jobid"], tid
        )
    assert triggered == {"request-id": tid}


def test_a_redirect_names_its_target_without_credentials(cli):
    answer = ("json", 302, {}, {"Location": "https://sso:s3cret@login.example.com/?next=/"})
    with FaultServer(lambda m, p, b: answer) as server:
        r = cli("jobs", "list", url=server.url)
    assert r.code == 1 and "s3cret" not in r.err
    assert "redirects to https://login.example.com/?next=/" in r.err
