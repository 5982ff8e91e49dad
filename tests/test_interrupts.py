"""Ctrl-C (a real SIGINT to a real flinkctl process) during an upload, a wait, a watch and a
fan-out of retrying requests: exit 130 at once, no traceback, no half-written output; SIGTERM
(what CI sends on cancel) stops a command as Ctrl-C does, with exit 143."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import LEADER_ELECTION, VERSIONS, FaultServer, Recorded
from signals import interrupt, start


@pytest.fixture
def flink() -> Recorded:
    """One recorded version: what is tested is flinkctl's own handling of Ctrl-C."""
    return Recorded(VERSIONS[-1])


def test_ctrl_c_during_an_upload(flink, tmp_path):
    jar = tmp_path / "big.jar"
    jar.write_bytes(b"PK\x03\x04" + os.urandom(1024) * 48 * 1024)  # 48 MiB: longer than a blink
    release = threading.Event()
    with FaultServer(lambda m, p, b: ("hang", release)) as server:  # reads nothing: it stalls
        proc = start("--url", server.url, "jars", "upload", str(jar))
        try:
            code, out, err, took = interrupt(proc, server, "/jars/upload")
        finally:
            release.set()
    assert (code, out) == (130, "")
    assert "Traceback" not in err
    assert err == (
        f"Interrupted while uploading big.jar: Flink may keep it (see flinkctl --url {server.url} "
        "jars list)\n"
    )  # it said nothing (found by a break-it round: `jars run FILE` left an upload unsaid)
    assert took < 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jar", "config.yaml"]


SIGNALS = pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])


def _savepoint_in_progress(flink):
    """A FaultServer's answers: the recorded trigger, then a savepoint forever in progress."""
    trigger = flink.record("savepoint-trigger")

    def answer(method, path, body):
        if method == "POST":
            return ("json", trigger["status"], trigger["body"])
        return ("json", 200, flink.body("savepoint-status-in-progress"))

    return answer


@pytest.mark.parametrize(
    "sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 130)]
)
def test_a_signal_during_a_wait_says_how_to_resume(flink, sig, code):
    """Ctrl-C, SIGTERM as CI sends on cancel (it used to end the process without a word), or
    SIGHUP as a closed terminal sends (it killed the process: 129, no word)."""
    jid = flink.ids["jobid"]
    with FaultServer(_savepoint_in_progress(flink)) as server:
        proc = start("--url", server.url, "savepoint", "trigger", jid, "--wait", "-o", "json")
        returned, out, err, took = interrupt(proc, server, f"/jobs/{jid}/savepoints/", sig=sig)
    assert (returned, out) == (code, "")
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0] == f"stopped waiting; the savepoint of job {jid} goes on on the cluster"
    assert lines[1].startswith(f"hint: resume waiting with: flinkctl --url {server.url} ")
    assert took < 5


def test_under_nohup_sighup_leaves_a_wait_alone(flink):
    """A process that ignores SIGHUP (`nohup flinkctl ...`) goes on when its terminal closes."""
    jid = flink.ids["jobid"]
    with FaultServer(_savepoint_in_progress(flink)) as server:
        proc = start("--url", server.url, "savepoint", "trigger", jid, "--wait",
                     ignored=(signal.SIGHUP,))  # fmt: skip
        try:
            assert server.wait_for(f"/jobs/{jid}/savepoints/", 1)
            proc.send_signal(signal.SIGHUP)
            time.sleep(1)
            assert proc.poll() is None, proc.communicate()
            asked = len(server.log)
            time.sleep(1.5)
            assert len(server.log) > asked  # still polling
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out) == (143, "")
    assert err.startswith(f"stopped waiting; the savepoint of job {jid} goes on on the cluster")


@SIGNALS
def test_a_signal_while_savepoints_of_all_jobs_are_waited_for_says_they_go_on(
    flink, tmp_path, sig, code
):
    """`savepoint trigger --all --wait` stopped by Ctrl-C or SIGTERM: it said nothing (found by
    a break-it round, 7 of 7)."""
    jid = flink.ids["jobid"]
    trigger = flink.record("savepoint-trigger")

    def answer(method, path, body):
        if path == "/jobs/overview":
            return ("json", 200, flink.body("jobs-overview"))
        if method == "POST":
            return ("json", trigger["status"], trigger["body"])
        return ("json", 200, flink.body("savepoint-status-in-progress"))

    with FaultServer(answer) as server:
        proc = start("--url", server.url, "savepoint", "trigger", "--all", "--wait",
                     "--catalog", str(tmp_path / "c.db"))  # fmt: skip
        returned, out, err, took = interrupt(proc, server, f"/jobs/{jid}/savepoints/", sig=sig)
    assert (returned, out) == (code, ""), err
    assert err == (
        "stopped; a savepoint already triggered goes on on the cluster: flinkctl --url "
        f"{server.url} savepoint list shows them\n"
    )
    assert took < 5


@pytest.mark.parametrize("fmt", ["json", "yaml", "table"])
def test_ctrl_c_during_a_watch_leaves_whole_output(flink, tmp_path, fmt):
    overview = ("json", 200, flink.body("jobs-overview"))
    out_file = tmp_path / f"watch.{fmt}"
    with FaultServer(lambda m, p, b: overview) as server, out_file.open("w") as fh:
        proc = start("--url", server.url, "jobs", "list", "-w", "0.1", "-o", fmt, stdout=fh)
        code, _, err, took = interrupt(proc, server, "/jobs/overview", count=3)
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

    def answer(method, path, body):
        if path.startswith(f"/jobs/{jid}/vertices/"):
            return LEADER_ELECTION
        return ("json", 200, flink.body("job"))

    with FaultServer(answer) as server:
        proc = start("--url", server.url, "vertices", "backpressure", jid, budget=None)
        retrying = len(flink.body("job")["vertices"]) + 1  # a vertex asked twice
        code, out, err, took = interrupt(proc, server, f"/jobs/{jid}/vertices/", count=retrying)
    assert (code, out) == (130, "")
    assert "Traceback" not in err
    assert took < 3


def test_ctrl_c_while_saving_the_config_keeps_it_whole(tmp_path):
    """SIGINT at spread-out moments of `config set-context` runs (ten, and up to thirty until
    one was stopped by flinkctl itself; load moves the moment of the save): the file is always
    a valid config, and no temp or lock file stays behind."""
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
    for i in range(30):
        if i >= 10 and 130 in outcomes:
            break
        proc = set_context(i)
        time.sleep(whole_run * (i % 10 + 1) / 10)  # from interpreter start-up to the save
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        # 0: done before the signal; 130: flinkctl stopped it; else Python was still starting
        # (importing the package: its own traceback, which the tests above show flinkctl's
        # code never prints). A signal inside one of the import system's weakref callbacks is
        # Python's "Exception ignored in ..." note, after which the run goes on: not ours either.
        ours = "\n".join(
            block for block in err.split("Exception ignored in") if "<frozen" not in block
        )
        assert proc.returncode not in (0, 130) or "Traceback" not in ours, err
        outcomes.add(proc.returncode)
        config.load(path)  # whole and valid after every one
    assert [p.name for p in Path(tmp_path).iterdir()] == ["config.yaml"]
    assert 130 in outcomes  # some were stopped by flinkctl itself


@pytest.mark.parametrize(
    "sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 130)]
)
def test_a_signal_during_the_stop_of_a_deploy_prints_its_report(flink, tmp_path, sig, code):
    """What CI sends on cancel (SIGTERM), Ctrl-C and a closed terminal's SIGHUP, during the old
    job's stop-with-savepoint:
    the report in the chosen format on stdout, naming the job that was being stopped and how
    to resume; exit 143 / 130; no traceback."""
    from flinkctl.workflows.revisions import record_in

    jobs = flink.body("deploy-jobs-overview")["jobs"]
    running = next(j for j in jobs if j["name"] == "deployed")
    jid = running["jid"]
    record = record_in(flink.body("deploy-config-deployed"))
    upload = flink.body("jar-upload")
    jar = Path(upload["filename"]).name
    answers = {
        ("GET", "/jobs/overview"): {**flink.body("deploy-jobs-overview"), "jobs": [running]},
        ("GET", f"/jobs/{jid}/config"): flink.body("deploy-config-deployed"),
        ("GET", f"/jobs/{jid}"): flink.body("deploy-job-deployed"),
        ("GET", "/config"): flink.body("config"),
        ("GET", "/overview"): flink.body("overview"),
        ("GET", "/jobmanager/config"): flink.body("jobmanager-config"),
        ("POST", "/jars/upload"): upload,
        ("POST", f"/jars/{jar}/plan"): {**flink.body("jar-plan"), "plan": {
            **flink.body("jar-plan")["plan"], "name": "deployed"}},
    }  # fmt: skip
    release = threading.Event()

    def answer(method, path, body):
        if method == "POST" and path == f"/jobs/{jid}/stop":
            return ("hang", release)
        found = answers.get((method, path.split("?")[0]))
        return ("json", 200, found) if found is not None else ("json", 404, {"errors": ["no"]})

    demo = Path(__file__).resolve().parents[1] / "flinkctl" / "local" / "demo" / "flinkctl-demo.jar"
    args = [a for arg in record.spec.args for a in ("--arg", arg)]
    with FaultServer(answer) as server:
        proc = start("--url", server.url, "deploy", "deployed", "--jar", str(demo), *args,
                     "-p", "3", "--catalog", str(tmp_path / "c.db"), "-o", "json")  # fmt: skip
        code_, out, err, _ = interrupt(proc, server, f"/jobs/{jid}/stop", sig=sig, release=release)
    assert code_ == code, err
    assert "Traceback" not in err
    report = json.loads(out)
    assert report["result"] == "interrupted"
    assert report["cause"] == f"interrupted by {sig.name} during savepoint"
    assert report["previous-job-id"] == jid
    assert "run the same command again (flinkctl deploy deployed ...): it resumes" in report["hint"]
    trigger = next(b for m, path, b in server.log if path == f"/jobs/{jid}/stop")["triggerId"]
    assert f"flinkctl savepoint status {jid} {trigger} --wait" in report["hint"]
    assert [s["step"] for s in report["steps"]][-2:] == ["journal", "savepoint"]


def _jars_run(flink: Recorded, run_answer: tuple) -> tuple[FaultServer, str]:
    """A FaultServer for `jars run DEMO`: the recorded upload, and RUN_ANSWER for its run."""
    from flinkctl.flink import jar_id

    jar = jar_id(flink.body("jar-upload"))

    def answer(method, path, body):
        if (method, path) == ("POST", f"/jars/{jar}/run"):
            return run_answer
        name = {"/jars/upload": "jar-upload", "/config": "config"}[path.split("?")[0]]
        return ("json", flink.record(name)["status"], flink.body(name))

    return FaultServer(answer), jar


DEMO = Path(__file__).resolve().parents[1] / "flinkctl" / "local" / "demo" / "flinkctl-demo.jar"


@SIGNALS
def test_a_signal_while_flink_runs_the_jar_says_its_job_may_run(flink, sig, code):
    """The job may start after Ctrl-C or SIGTERM; each used to end the process with nothing on
    stderr, the upload left behind unsaid (found by a break-it round)."""
    release = threading.Event()
    server, jar = _jars_run(flink, ("hang", release))
    with server:
        proc = start("--url", server.url, "jars", "run", str(DEMO))
        returned, out, err, _ = interrupt(
            proc, server, f"/jars/{jar}/run", sig=sig, release=release
        )
    assert (returned, out) == (code, ""), err
    assert err == (
        f"Interrupted while Flink ran the jar: its job may run: see flinkctl --url {server.url} "
        f"jobs list before running it again; the upload stays: flinkctl --url {server.url} "
        f"jars delete {jar}\n"
    )
    assert not [entry for entry in server.log if entry[0] == "DELETE"]


def test_a_lost_answer_to_the_run_says_its_job_may_run(flink):
    """Not only "is the cluster running?": Flink may have started the job (exit 5)."""
    server, jar = _jars_run(flink, ("reset",))
    with server:
        proc = start("--url", server.url, "jars", "run", str(DEMO))
        out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out) == (5, ""), err
    assert err.splitlines()[-1] == (  # not the transport's "is the cluster running?"
        f"hint: its job may run: see flinkctl --url {server.url} jobs list before running it "
        f"again; the upload stays: flinkctl --url {server.url} jars delete {jar}"
    ), err


def test_sigterm_before_the_command_body_runs_exits_143(cli, monkeypatch):
    """A real SIGTERM while the root callback runs (before the command body, where Typer turns
    any KeyboardInterrupt into exit 130): exit 143 all the same (found by a break-it round:
    `jobs list --watch 1` signalled 0.075 s after its start exited 130, 9 of 36)."""
    from flinkctl.cli.common import options

    set_output = options.set_output

    def signalled(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return set_output(*args, **kwargs)

    monkeypatch.setattr(options, "set_output", signalled)
    r = cli("jobs", "list")
    assert (r.code, r.out) == (143, "")
    assert "Traceback" not in r.err


def test_sigterm_in_a_block_of_its_own_exits_143(cli, monkeypatch):
    """A real SIGTERM caught by a block that turns signals into exceptions of its own (as
    `local up` starts its processes in one): the run still knows it was SIGTERM, exit 143;
    a SIGHUP there is Ctrl-C's 130."""
    from flinkctl.cli.common import options
    from flinkctl.signals import signals_interrupt

    set_output = options.set_output
    seen: list[list[int]] = []
    for sig, code in ((signal.SIGTERM, 143), (signal.SIGHUP, 130)):

        def signalled(*args, sig=sig, **kwargs):
            set_output(*args, **kwargs)
            with signals_interrupt() as received:
                seen.append(received)  # filled as the block is left
                os.kill(os.getpid(), sig)

        monkeypatch.setattr(options, "set_output", signalled)
        r = cli("jobs", "list")
        assert (r.code, r.out) == (code, ""), r.err
        assert seen.pop() == [sig] and "Traceback" not in r.err


def test_a_signal_during_a_command_modules_import_waits_for_the_import(cli, monkeypatch, request):
    """A SIGTERM that lands while a command's module is imported used to raise inside the
    import: lost in an import-lock callback (exit 0), or wrapped in a RuntimeError from a
    class's creation (exit 1 and a traceback), about 1 run in 120 of a break-it round. It is
    held back until the module is imported, then stops the command: exit 143."""
    import importlib
    import sys

    from flinkctl.cli import main
    from flinkctl.cli.common import failures

    real = importlib.import_module
    imported = []

    def import_module(name, *args):
        if not name.startswith("flinkctl.cli."):
            return real(name, *args)
        os.kill(os.getpid(), signal.SIGTERM)
        real(name, *args)
        imported.append(name)  # reached only while the signal waits
        return sys.modules[name]

    for built in (main._command, failures._root):  # built once per process: import them again
        built.cache_clear()
        request.addfinalizer(built.cache_clear)
    monkeypatch.setattr(importlib, "import_module", import_module)
    r = cli("jobs", "list")
    assert (r.code, r.out) == (143, ""), r.err
    assert imported == ["flinkctl.cli.jobs"]


def test_a_closed_pipe_before_the_command_body_exits_0_quietly(cli, monkeypatch):
    """The catch-all for an interruption wrapped in another exception comes last: it took a
    BrokenPipeError's place and let it out as a traceback."""
    from flinkctl.cli.common import failures, options

    def closed(*args, **kwargs):
        raise BrokenPipeError

    monkeypatch.setattr(options, "set_output", closed)
    monkeypatch.setattr(failures, "silence", lambda stream: None)  # not pytest's own stdout
    r = cli("jobs", "list")
    assert (r.code, r.out, r.err) == (0, "", "")
