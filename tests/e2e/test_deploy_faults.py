"""`deploy` and `rollback` on their worst day (issue 18), each reproduction on a real cluster.

A cluster of its own per version (4 slots; the demo job cancelled), and a fault proxy
(faultproxy.py) in front of its REST port: every flinkctl run here goes through the proxy, so
the catalog knows one cluster URL, and a test adds the rules its fault needs (a lost answer, a
503, an answer slower than the read timeout). Signals are real (SIGKILL, SIGTERM to the
flinkctl process), and so are the second processes (a concurrent deploy, `savepoint prune`, a
Python holding the catalog's write lock).

Each test deploys a NAME of its own and ends by checking the invariants on the cluster: exactly
one RUNNING job named NAME, the report's job-id is that job, the report's savepoint exists on
disk. The demo jar's knobs (flinkctl/local/demo/DemoJob.java) make the failures: the throttle
argument changes the program (a new revision), --fail-after N makes every start fail N seconds
in (a crash loop), --checkpoint-interval 1000 keeps health gates short.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from flinkctl.local.demo import JAR

from .conftest import LocalFlink, module_cluster
from .faultproxy import FaultProxy

CLUSTER = "e2e-faults"
GATE = ["--healthy-for", "3", "--timeout", "60"]
ENDED = ("FINISHED", "CANCELED", "FAILED")
RUN = r"^/jars/[^/]+/run$"  # POST: start a job from an uploaded jar
STOP = r"^/jobs/[0-9a-f]{32}/stop$"  # POST: stop-with-savepoint
TOUCHING = {"savepoint", "cancel", "checkpoint", "start", "cancel-new", "rollback"}


# -- the cluster, the proxy and the runs ---------------------------------------------------------


@pytest.fixture(scope="module")
def flink(flink_version, tmp_path_factory) -> LocalFlink:
    with module_cluster(tmp_path_factory, CLUSTER, flink_version, "--slots", "4") as cluster:
        # the demo job would only take a slot
        code, _, err = cluster.run("--url", cluster.url, "jobs", "cancel", cluster.demo_job_id,
                                   "--yes", "--wait")  # fmt: skip
        assert code == 0, err
        yield cluster


@pytest.fixture(scope="module")
def proxy(flink) -> FaultProxy:
    with FaultProxy(flink.url) as running:
        yield running


class Runs:
    """flinkctl runs of one test, through the proxy; the NAME it deploys; cleanup afterwards."""

    def __init__(self, flink: LocalFlink, proxy: FaultProxy, name: str, tmp: Path) -> None:
        self.flink, self.proxy, self.name, self.tmp = flink, proxy, name, tmp
        self.env = dict(flink.env)
        self.procs: list[subprocess.Popen] = []
        self.failures: list[str] = []

    # running flinkctl

    def command(self, *args: str, url: bool = True) -> list[str]:
        return [self.flink.exe, *(["--url", self.proxy.url] if url else []), *args]

    def run(self, *args: str, env: dict | None = None, url: bool = True, timeout: float = 300):
        """flinkctl ARGS through the proxy (URL=False: the context ENV names); (code, out, err)."""
        proc = subprocess.run(self.command(*args, url=url), env=env or self.env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)  # fmt: skip
        log(proc.args, proc.returncode, proc.stdout, proc.stderr)
        return proc.returncode, proc.stdout, proc.stderr

    def expect(self, ok: object, message: str) -> None:
        """A check whose failure is reported at the end (`verdict`), so one run of a slow
        test shows every invariant it breaks."""
        if not ok:
            self.failures.append(message)

    def verdict(self) -> None:
        assert not self.failures, "\n".join(f"- {f}" for f in self.failures)

    def start(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        """flinkctl ARGS in the background (stdout and stderr kept)."""
        proc = subprocess.Popen(
            self.command(*args),
            env=env or self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        return proc

    def json(self, *args: str):
        code, out, err = self.run(*args, "-o", "json")
        assert code == 0, f"flinkctl {' '.join(args)}: exit {code}: {err}"
        return json.loads(out)

    # deploy

    def deploy_args(self, throttle: str = "20", *extra: str, gate=GATE) -> list[str]:
        program = [throttle, "--name", self.name, "--checkpoint-interval", "1000"]
        return ["deploy", self.name, "--jar", str(JAR), *(a for p in program for a in ("--arg", p)),
                *gate, *extra, "-o", "json"]  # fmt: skip

    def deploy(self, throttle: str = "20", *extra: str, env: dict | None = None, url=True):
        """`deploy NAME` of the demo job with THROTTLE (another value: another revision);
        (exit code, report or None, stderr)."""
        code, out, err = self.run(*self.deploy_args(throttle, *extra), env=env, url=url)
        return code, report_of(out), err

    def deployed(self, throttle: str = "20", *extra: str) -> dict:
        """A deploy that must succeed (the set-up of a test)."""
        code, report, err = self.deploy(throttle, *extra)
        assert report and (code, report["result"]) == (0, "deployed"), (code, report, err)
        return report

    # the cluster

    def jobs(self, name: str | None = None) -> list[dict]:
        listed = self.json("jobs", "list", "--name", name or self.name)["jobs"]
        return sorted(listed, key=lambda j: j.get("start-time", 0))

    def state(self) -> str:
        """NAME's jobs on the cluster, for failure messages."""
        return ", ".join(f"{j['jid']} {j['state']}" for j in self.jobs()) or "no jobs"

    def fail(self, message: str) -> None:
        """Fail now, with the checks that failed before (`expect`)."""
        raise AssertionError("\n".join(f"- {f}" for f in [*self.failures, message]))

    def active(self) -> str:
        """The one job of NAME that has not ended (running, restarting...); its id."""
        active = [j for j in self.jobs() if j["state"] not in ENDED]
        if len(active) != 1:
            self.fail(f"expected exactly one active job named {self.name}; cluster: {self.state()}")
        return active[0]["jid"]

    def running(self) -> str:
        """Invariant 1: exactly one job of NAME is active, and it is RUNNING; its id."""
        active = [j for j in self.jobs() if j["state"] not in ENDED]
        if len(active) != 1 or active[0]["state"] != "RUNNING":
            self.fail(
                f"expected exactly one RUNNING job named {self.name}; cluster: {self.state()}"
            )
        return active[0]["jid"]

    def holds(self, report: dict) -> str:
        """Invariants 1 and 2 after REPORT: one RUNNING job of NAME, the report's job-id is
        it, the report's savepoint exists on disk; the job id."""
        jid = self.running()
        if report["job-id"] != jid:
            self.fail(f"the report's job-id is {report['job-id']}, {jid} runs: {show(report)}")
        if report.get("savepoint") and not exists(report["savepoint"]):
            self.fail(f"the report's savepoint is gone: {show(report)}")
        return jid

    def history(self) -> list[dict]:
        return self.json("jobs", "history", self.name)

    def jars(self) -> set[str]:
        return {f["id"] for f in self.json("jars", "list")["files"]}

    def rest(self, path: str) -> dict:
        """GET PATH from the cluster itself (not through the proxy)."""
        with urllib.request.urlopen(self.flink.url + path, timeout=30) as answer:
            return json.loads(answer.read())

    def started(self, seen) -> str:
        """The job id a POST /jars/:id/run that the proxy saw started (asked of the cluster:
        the newest job of NAME)."""
        assert seen.status == 200, f"{seen.path}: {seen.status}"
        return self.jobs()[-1]["jid"]

    def until_running(self, jid: str, timeout: float = 60) -> None:
        """Until job JID and all its tasks run."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.rest(f"/jobs/{jid}")
            if job["state"] == "RUNNING" and all(
                v["status"] == "RUNNING" for v in job.get("vertices", [])
            ):
                return
            time.sleep(0.2)
        raise AssertionError(f"job {jid} not running within {timeout:g} s: {job['state']}")

    def until_restarting(self, jid: str, times: int, timeout: float = 90) -> None:
        """Until job JID has failed TIMES times more (its exception history counts them: a poll
        of its state can miss a short RESTARTING on a loaded machine) and is RESTARTING: its
        backoff has grown by then."""
        before, failures, state = None, 0, None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.rest(f"/jobs/{jid}")["state"]
            history = self.rest(f"/jobs/{jid}/exceptions").get("exceptionHistory") or {}
            failures = len(history.get("entries") or [])
            before = failures if before is None else before
            if state == "RESTARTING" and failures - before >= times:
                return
            time.sleep(0.1)
        raise AssertionError(
            f"job {jid} failed {failures - (before or 0)} times more in {timeout:g} s, not "
            f"{times}; it is {state}"
        )

    def restored_from(self, jid: str) -> str | None:
        latest = self.json("checkpoints", "list", jid).get("latest") or {}
        return (latest.get("restored") or {}).get("external_path")

    def cleanup(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.proxy.clear()
        for job in self.jobs():
            if job["state"] not in ENDED:
                self.flink.run("--url", self.flink.url, "jobs", "cancel", job["jid"], "--yes",
                               "--wait", timeout=120)  # fmt: skip


@pytest.fixture
def runs(flink, proxy, request, tmp_path) -> Runs:
    name = "f-" + request.node.originalname.removeprefix("test_").replace("_", "-")[:32]
    params = getattr(request.node, "callspec", None)
    name += "".join(
        f"-{v}" for k, v in (params.params if params else {}).items() if k != "flink_version"
    )
    proxy.clear()
    it = Runs(flink, proxy, name, tmp_path)
    yield it
    it.cleanup()


def report_of(out: str) -> dict | None:
    try:
        return json.loads(out) if out.strip() else None
    except json.JSONDecodeError:
        return None


def finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, dict | None, str]:
    out, err = proc.communicate(timeout=timeout)
    log(proc.args, proc.returncode, out, err)
    return proc.returncode, report_of(out), err


def log(command: list[str], code: int, out: str, err: str) -> None:
    """What a run of flinkctl did, for the captured output of a test (pytest -rA shows it)."""
    verb = next((a for a in command[1:] if not a.startswith("-") and "://" not in a), "?")
    if verb in ("deploy", "rollback", "prune") or "prune" in command:
        report = report_of(out)
        print(f"$ {' '.join(command[3:])}\n  exit {code}: "
              f"{show(report) if report and 'result' in report else out.strip()[:600]}"
              + (f"\n  stderr: {err.strip()[:600]}" if err.strip() else ""))  # fmt: skip


def show(report: dict | None) -> str:
    if report is None:
        return "no report"
    brief = {k: report.get(k) for k in ("result", "revision", "job-id", "previous-job-id",
                                        "savepoint", "cause", "hint", "notes")}  # fmt: skip
    brief["steps"] = [f"{s['step']}:{s['status']}" for s in report.get("steps", [])]
    return json.dumps(brief)


def path_of(location: str) -> Path:
    return Path(urlsplit(location).path if location.startswith("file:") else location)


def exists(location: str) -> bool:
    return path_of(location).exists()


def steps(report: dict) -> dict[str, str]:
    return {s["step"]: s["status"] for s in report.get("steps", [])}


def touched(report: dict) -> bool:
    return bool(TOUCHING & set(steps(report)))


def answered(proxy: FaultProxy, method: str, path: str, since: int, proc=None, timeout=120.0):
    """Wait until a request matching METHOD PATH after SINCE came and the cluster answered it
    (failing early, with its output, when PROC ends before)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            seen = proxy.wait(method, path, since=since, timeout=1)
            break
        except AssertionError:
            if proc is not None and proc.poll() is not None:
                code, report, err = finish(proc)
                raise AssertionError(
                    f"flinkctl ended (exit {code}) before {method} {path}: {show(report)} {err}"
                ) from None
            if time.monotonic() > deadline:
                raise
    deadline = time.monotonic() + timeout
    while seen.status is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen.status is not None, f"{method} {seen.path}: the cluster never answered"
    return seen


# -- 1. a lost answer to POST /jars/:id/run ----------------------------------------------------


@pytest.mark.parametrize("fault", ["drop", "delay"])
def test_a_lost_run_answer_is_found_not_reported_missing(runs, proxy, fault):
    """The job starts, its answer is lost (the connection closes) or comes after the read
    timeout: the report must name the job that runs, and a re-run must gate it, not call
    an ungated job `unchanged`."""
    env, url = runs.env, True
    if fault == "delay":  # a context whose read timeout the held answer outlasts
        config = runs.tmp / "slow.yaml"
        config.write_text(f"contexts:\n  slow:\n    url: {proxy.url}\n    timeout: 8s\n")
        env, url = {**runs.env, "FLINKCTL_CONFIG": str(config), "FLINKCTL_CONTEXT": "slow"}, False
    first = runs.deployed("20")
    rule = proxy.add("POST", RUN, fault, delay=14.0)

    code, report, err = runs.deploy("21", env=env, url=url)
    assert rule.fired == 1, "the fault was not injected"
    assert report is not None, f"no report (exit {code}): {err}"
    runs.expect(
        not (report["result"] == "failed" and report["job-id"] is None),
        f"the run's answer was lost, the job runs ({runs.state()}), yet the report says "
        f"failed with job-id null (exit {code}): {show(report)}",
    )
    jid = runs.running()
    runs.expect(jid != first["job-id"], f"the old job still runs: {show(report)}")
    runs.expect(report["job-id"] == jid, f"the report's job-id is not {jid}: {show(report)}")
    runs.expect(exists(report["savepoint"] or "/nonexistent"), f"no savepoint: {show(report)}")

    gated = steps(report).get("health") == "ok"
    code, again, err = runs.deploy("21")
    assert again is not None, f"no report from the re-run (exit {code}): {err}"
    if not gated:
        runs.expect(
            again["result"] != "unchanged" and steps(again).get("health") == "ok",
            f"the job started by the lost request was never health-gated, yet the re-run "
            f"(exit {code}) says {again['result']}: {show(again)}",
        )
    runs.expect((code, again["result"]) in ((0, "unchanged"), (0, "deployed")), show(again))
    runs.holds(again)
    runs.verdict()


# -- 2. a 503 on DELETE /jars/... after the health gate passed ---------------------------------


def test_a_503_tidying_jars_after_a_healthy_gate_is_a_warning(runs, proxy):
    runs.deployed("20")
    runs.deployed("21")
    rule = proxy.add("DELETE", r"^/jars/", "503", times=None)  # every attempt, retries too
    code, report, err = runs.deploy("22", "--keep-jars", "1",
                                    env={**runs.env, "FLINKCTL_RETRY_BUDGET": "2"})  # fmt: skip
    assert report is not None, f"no report (exit {code}): {err}"
    assert rule.fired >= 1, f"tidy deleted no jar, the fault was not injected: {show(report)}"
    assert steps(report).get("health") == "ok", show(report)
    runs.expect(
        (code, report["result"], report["revision"]) == (0, "deployed", 3),
        f"a jar that could not be deleted after a healthy gate must be a warning, not exit "
        f"{code}: {show(report)}; stderr: {err.strip()}",
    )
    jar = proxy.requests("DELETE", r"^/jars/")[0].path.rsplit("/", 1)[1]
    said = " ".join(report.get("notes") or []) + err
    runs.expect(
        jar in said or "warn" in said.lower(),
        f"no warning about the jar {jar} left behind: {show(report)}; stderr: {err.strip()}",
    )
    runs.holds(report)
    runs.verdict()


# -- 3. SIGKILL during the health gate, then the same command ----------------------------------


def test_killed_during_the_gate_the_same_command_gates_again(runs, proxy):
    """The new revision crash-loops; the deploy gating it is killed. Running the same command
    again must gate it (and roll back), not report `unchanged` over a crash loop."""
    first = runs.deployed("20")
    crashing = runs.deploy_args("21", "--arg", "--fail-after", "--arg", "2")
    mark = proxy.mark()
    proc = runs.start(*crashing)
    answered(proxy, "POST", RUN, since=mark, proc=proc)
    time.sleep(0.5)  # in the health gate now
    assert proc.poll() is None, f"the deploy ended before the kill: {proc.communicate()}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    code, out, err = runs.run(*crashing)
    report = report_of(out)
    assert report is not None, f"no report from the re-run (exit {code}): {err}"
    assert report["result"] != "unchanged", (
        f"the re-run calls a revision whose gate never passed unchanged (exit {code}) while "
        f"the cluster has {runs.state()}: {show(report)}"
    )
    assert steps(report).get("health") == "failed", f"the re-run did not gate: {show(report)}"
    assert (code, report["result"], report["revision"]) == (6, "rolled-back", 1), show(report)
    assert runs.holds(report) != first["job-id"]


def test_sigterm_during_the_gate_reports_the_revision_that_runs(runs, proxy):
    """Found by a break-it round: SIGTERM in the health gate reported the new job's id with
    `revision: null` (and so did a failed gate whose rollback kept running)."""
    runs.deployed("20")
    mark = proxy.mark()
    proc = runs.start(*runs.deploy_args("21"))
    answered(proxy, "POST", RUN, since=mark, proc=proc)
    time.sleep(0.5)  # in the health gate now (3 s)
    assert proc.poll() is None, f"the deploy ended before the signal: {proc.communicate()}"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    log(proc.args, proc.returncode, out, err)
    report = report_of(out)
    assert proc.returncode == 143 and report is not None, (proc.returncode, out, err)
    assert report["result"] == "interrupted", show(report)
    assert (runs.holds(report), report["revision"]) == (report["job-id"], 2), show(report)


# -- 4. SIGTERM while the old job stops --------------------------------------------------------


@pytest.mark.parametrize("output", ["json", "table"])
def test_sigterm_mid_stop_prints_the_report_and_a_rerun_converges(runs, proxy, output):
    first = runs.deployed("20")
    # the stop's answer is held a while, so the signal lands while the stop is under way
    rule = proxy.add("POST", STOP, "delay", delay=4.0)
    args = runs.deploy_args("21")
    if output != "json":
        args = args[: args.index("-o")]
    mark = proxy.mark()
    proc = runs.start(*args)
    proxy.wait("POST", STOP, since=mark)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    code = proc.returncode
    log(proc.args, code, out, err)
    assert rule.fired == 1
    runs.expect(code == 143, f"exit {code} after SIGTERM; stdout: {out!r}; stderr: {err!r}")
    runs.expect("Traceback" not in err, f"a traceback: {err}")
    runs.expect(out.strip(), f"SIGTERM printed no report; stderr: {err!r}")
    if output == "json" and out.strip():
        report = report_of(out)
        runs.expect(report is not None, f"the report is not JSON: {out!r}")
        report = report or {}
        text = json.dumps(report)
        runs.expect(
            report.get("savepoint") or first["job-id"] in text,
            f"the report names no state to recover from: {show(report)}",
        )
        runs.expect("flinkctl " in text, f"the report names no command to run: {show(report)}")

    code, again, err = runs.deploy("21")
    assert again is not None, f"no report from the re-run (exit {code}): {err}"
    assert (code, again["result"], again["revision"]) == (0, "deployed", 2), (
        f"the re-run after SIGTERM does not converge: exit {code}, {show(again)}; "
        f"cluster: {runs.state()}; stderr: {err.strip()}"
    )
    jid = runs.holds(again)
    assert again["savepoint"] and runs.restored_from(jid) == again["savepoint"], show(again)
    runs.verdict()


# -- 5. two deploys of one NAME overlapping ----------------------------------------------------


def test_two_overlapping_deploys_leave_one_job_and_every_jar(runs, proxy):
    """The second deploy stops the first's new job while the first gates it (two processes,
    two catalogs: two CI runners)."""
    runs.deployed("20")
    mark = proxy.mark()
    # the first gates for long enough that the second surely stops its job meanwhile
    first = runs.start(*runs.deploy_args("21", gate=["--healthy-for", "10", "--timeout", "60"]))
    answered(proxy, "POST", RUN, since=mark, proc=first)
    other = {**runs.env, "FLINKCTL_CATALOG": str(runs.tmp / "other.db")}
    second = runs.start(*runs.deploy_args("22"), env=other)
    results = {"first": finish(first), "second": finish(second)}
    for which, (code, report, err) in results.items():
        assert report is not None, f"the {which} deploy printed no report (exit {code}): {err}"
        runs.expect(
            not (report["result"] == "refused" and touched(report)),
            f"the {which} deploy says refused (exit {code}) after touching the cluster: "
            f"{show(report)}",
        )
    jid = runs.running()
    runs.expect(
        any(r["job-id"] == jid for _, r, _ in results.values()),
        f"no report names the job that runs ({jid}): "
        + "; ".join(f"{w}: {show(r)}" for w, (_, r, _) in results.items()),
    )
    uploaded = runs.jars()
    history = runs.history()
    missing = [(row["revision"], row["jar-id"]) for row in history
               if row.get("jar-id") and row["jar-id"] not in uploaded]  # fmt: skip
    runs.expect(not missing, f"revisions whose jar was deleted (revision, jar): {missing}")

    code, out, err = runs.run("rollback", runs.name, *GATE, "-o", "json")
    back = report_of(out)
    assert back is not None, f"rollback printed no report (exit {code}): {err}"
    runs.expect((code, back["result"]) == (0, "deployed"), f"rollback: exit {code}, {show(back)}")
    runs.holds(back)
    runs.verdict()


# -- 6. savepoint prune from another process during a deploy -----------------------------------


def test_prune_during_the_gate_keeps_the_rollback_state(runs, proxy):
    """Cron during a `deploy --from-savepoint latest`'s health gate: a savepoint of the new job,
    then `savepoint prune --keep 1`. The new revision fails 6 s in; the rollback restores the
    stop savepoint, which must have survived the prune."""
    runs.deployed("20")
    runs.json("savepoint", "trigger", runs.name, "--wait")  # one before, as cron took it
    args = runs.deploy_args("21", "--from-savepoint", "latest", "--arg", "--fail-after",
                            "--arg", "6", gate=["--healthy-for", "10", "--timeout", "60"])  # fmt: skip
    mark = proxy.mark()
    proc = runs.start(*args)
    jid = runs.started(answered(proxy, "POST", RUN, since=mark, proc=proc))
    runs.until_running(jid)
    code, out, err = runs.run("savepoint", "trigger", jid, "--wait", "-o", "json")
    cron = f"savepoint of the new job (exit {code}): {(out or err).strip()[:300]}"
    pcode, pout, perr = runs.run("savepoint", "prune", runs.name, "--keep", "1", "--yes",
                                 "-o", "json", timeout=120)  # fmt: skip
    pruned = f"prune (exit {pcode}): {(pout or perr).strip()[:1500]}"
    print(cron, pruned, sep="\n")
    code, report, err = finish(proc)
    assert report is not None, f"no report (exit {code}): {err}"
    assert steps(report).get("health") == "failed", f"the gate did not fail: {show(report)}"
    taken = report["savepoint"]
    runs.expect(
        taken and exists(taken),
        f"the stop savepoint {taken} was disposed during the deploy; {pruned}; "
        f"report: {show(report)}",
    )
    runs.expect(
        (code, report["result"], report["revision"]) == (6, "rolled-back", 1),
        f"exit {code}: {show(report)}; cluster: {runs.state()}",
    )
    back = runs.holds(report)
    runs.expect(runs.restored_from(back) == taken, "the rollback did not restore the stop state")
    runs.verdict()


# -- 7. --from-savepoint latest with a running job ---------------------------------------------


def test_from_savepoint_latest_starts_from_the_savepoint_just_taken(runs):
    runs.deployed("20")
    older = runs.json("savepoint", "trigger", runs.name, "--wait")
    code, report, err = runs.deploy("21", "--from-savepoint", "latest")
    assert report is not None and (code, report["result"]) == (0, "deployed"), (code, report, err)
    jid = runs.holds(report)
    row = next(r for r in runs.history() if r["job-id"] == jid)
    assert report["savepoint"] != older.get("location"), show(report)
    assert (row["restored-from"], runs.restored_from(jid)) == (report["savepoint"],) * 2, (
        f"the report names {report['savepoint']}; the new job started from "
        f"{runs.restored_from(jid)} (history: {row['restored-from']}); the savepoint "
        f"triggered before the deploy: {older.get('location')}"
    )


# -- 8. the catalog locked by another process --------------------------------------------------

LOCKER = textwrap.dedent(
    """
    import sqlite3, sys, time
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    """
)


def lock(catalog: str, seconds: float) -> subprocess.Popen:
    """Another process holding CATALOG's write lock (BEGIN EXCLUSIVE) for SECONDS; once held."""
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, catalog, str(seconds)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert locker.stdout.readline().strip() == "locked"
    return locker


def test_a_locked_catalog_refuses_before_touching_the_cluster(runs):
    """Another process holds the catalog's write lock longer than the busy timeout (10 s)."""
    first = runs.deployed("20")
    jars, before = runs.jars(), [j["jid"] for j in runs.jobs()]
    savepoints = runs.flink.dir / "savepoints"
    taken = sorted(savepoints.iterdir()) if savepoints.is_dir() else []
    locker = lock(runs.env["FLINKCTL_CATALOG"], 90)
    try:
        began = time.monotonic()
        code, out, err = runs.run(*runs.deploy_args("21"), timeout=180)
        took = time.monotonic() - began
    finally:
        locker.kill()
        locker.wait()
    report = report_of(out)
    runs.expect("Traceback" not in err, f"a traceback (exit {code}):\n{err}")
    runs.expect(code == 2, f"exit {code} after {took:.0f} s; {show(report)}; stderr: {err}")
    if report is not None:
        runs.expect(report["result"] == "refused" and not touched(report), show(report))
    said = [line for line in err.splitlines() if line.strip()]
    message = said[0] if said else (report or {}).get("cause") or ""
    runs.expect(len(said) <= 1 and "\n" not in message, f"not a one-line error: {said or message}")
    runs.expect("catalog" in message, f"the error does not name the catalog: {message!r}")
    runs.expect([j["jid"] for j in runs.jobs()] == before and runs.running() == first["job-id"],
                f"the cluster was touched: {runs.state()}")  # fmt: skip
    runs.expect(runs.jars() == jars, "a jar was left behind or deleted")
    now = sorted(savepoints.iterdir()) if savepoints.is_dir() else []
    runs.expect(now == taken, f"a savepoint was taken: {sorted(set(now) - set(taken))}")
    runs.verdict()


def test_a_catalog_locked_after_the_stop_does_not_abandon_the_deploy(runs, proxy):
    """The lock comes right after the old job's stop was sent (and lasts 15 s, beyond the busy
    timeout): the deploy carries on (the record on the cluster is the truth), warns, no
    traceback."""
    runs.deployed("20")
    mark = proxy.mark()
    proc = runs.start(*runs.deploy_args("21"))
    proxy.wait("POST", STOP, since=mark)
    locker = lock(runs.env["FLINKCTL_CATALOG"], 15)
    try:
        code, report, err = finish(proc)
    finally:
        locker.kill()
        locker.wait()
    runs.expect("Traceback" not in err, f"a traceback (exit {code}):\n{err}")
    assert report is not None, f"no report (exit {code}): {err}"
    runs.expect(
        (code, report["result"], report["revision"]) == (0, "deployed", 2),
        f"exit {code}: {show(report)}; cluster: {runs.state()}; stderr: {err.strip()}",
    )
    said = " ".join(report.get("notes") or []) + err
    runs.expect("catalog" in said, f"no warning about the catalog: {show(report)}; {err.strip()}")
    runs.holds(report)
    runs.verdict()


# -- 9. a crash-looping job can be rolled back -------------------------------------------------


def test_a_crash_looping_job_rolls_back_from_retained_state(runs):
    """Stop-with-savepoint fails while tasks restart; rollback falls back to a retained
    checkpoint or NAME's newest savepoint, and says which. The job fails 1 s after each start
    and restarts with a growing backoff (Flink's default exponential delay): the rollback
    comes while it waits to restart."""
    first = runs.deployed("20")
    code, report, err = runs.deploy("21", "--no-rollback", "--arg", "--fail-after", "--arg", "1")
    assert report is not None and (code, report["result"]) == (1, "failed"), (code, report, err)
    crashing = runs.active()
    runs.expect(
        report["job-id"] == crashing,
        f"after --no-rollback the report's job-id is {report['job-id']}, {crashing} runs",
    )
    runs.until_restarting(crashing, times=2)

    code, out, err = runs.run("rollback", runs.name, *GATE, "-o", "json")
    back = report_of(out)
    assert back is not None, f"rollback printed no report (exit {code}): {err}"
    assert (code, back["result"], back["revision"]) == (0, "deployed", 1), (
        f"a crash-looping job could not be rolled back: exit {code}, {show(back)}; "
        f"cluster: {runs.state()}; stderr: {err.strip()}"
    )
    jid = runs.holds(back)
    assert jid not in (first["job-id"], crashing)
    state = back["savepoint"]
    runs.expect(
        state and exists(state), f"the rollback names no state it started from: {show(back)}"
    )
    runs.expect(runs.restored_from(jid) == state, f"started from {runs.restored_from(jid)}")
    runs.verdict()
