"""Logs as `kubectl logs` prints them, and `jars run FILE` cleaning up after itself, on a real
cluster with two TaskManagers (`local up --taskmanagers 2`)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time

import pytest

from flinkctl.local.demo import JAR

from .conftest import LocalFlink, eventually, module_cluster

CLUSTER = "e2e-logs"


@pytest.fixture(scope="module")
def flink(flink_version, tmp_path_factory) -> LocalFlink:
    options = ("--taskmanagers", "2", "--slots", "2")
    with module_cluster(tmp_path_factory, CLUSTER, flink_version, *options) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def wide_job(flink) -> str:
    """A job over both task managers (3 subtasks; the demo job holds 1 of the 4 slots) that
    fails every 12 s and restarts from its checkpoint: started by `jars run FILE`, which
    deletes its upload once Flink has the job. The jar list stays as it was."""
    before = ok_json(flink, "jars", "list")["files"]
    args = (
        "--arg",
        "10",
        "--arg",
        "--fail-after",
        "--arg",
        "12",
        "--arg",
        "--name",
        "--arg",
        "wide",
    )
    started = ok_json(flink, "jars", "run", str(JAR), "-p", "3", *args, "--wait-running")
    assert started["jar-deleted"] is True and started["state"] == "RUNNING"
    assert ok_json(flink, "jars", "list")["files"] == before
    return started["job-id"]


def ok(flink: LocalFlink, *args: str, timeout: float = 60) -> str:
    code, out, err = flink.run(*args, timeout=timeout)
    assert code == 0, err
    return out


def ok_json(flink: LocalFlink, *args: str):
    return json.loads(ok(flink, *args, "-o", "json"))


def follow(flink: LocalFlink, *args: str, until, timeout: float = 60) -> tuple[int, str]:
    """Run `flinkctl ARGS -f` until UNTIL(its stdout so far) or TIMEOUT, then Ctrl-C it."""
    proc = subprocess.Popen([flink.exe, *args, "-f"], env=flink.env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    out, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline and not until(out.decode(errors="replace")):
        if select.select([proc.stdout], [], [], 0.5)[0]:
            out += os.read(proc.stdout.fileno(), 1 << 16)
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=10)
    return proc.returncode, (out + rest).decode(errors="replace")


def test_the_job_restarts_from_a_checkpoint_after_its_jar_is_gone(flink, wide_job):
    """Flink runs the job from its blob store copy: failing tasks restart and restore state."""
    stats = eventually(
        lambda: ok_json(flink, "checkpoints", "list", wide_job),
        lambda s: (s["counts"]["restored"] or 0) >= 1,
        timeout=90,
        what="a restore from a checkpoint",
    )
    assert stats["latest"]["restored"]["id"] >= 1
    job = eventually(
        lambda: ok_json(flink, "jobs", "show", wide_job),
        lambda j: j["state"] == "RUNNING" and all(v["status"] == "RUNNING" for v in j["vertices"]),
        timeout=60,
        what="the restarted job running",
    )
    assert job["name"] == "wide"


def test_taskmanager_and_jobmanager_logs(flink):
    tms = ok(flink, "tm", "list", "-o", "name").split()
    assert len(tms) == 2
    out = ok(flink, "tm", "logs", tms[0], "--tail", "5")
    assert len(out.splitlines()) == 5
    assert "TaskManagerRunner" in ok(flink, "tm", "logs", tms[0])
    files = ok(flink, "tm", "logs", tms[0], "--list", "-o", "name").split()
    assert any(f.endswith(".log") for f in files)
    # the old help example: a standalone TaskManager has no file named taskmanager.log
    code, out, err = flink.run("tm", "logs", tms[0], "taskmanager.log")
    assert (code, out) == (3, "")
    assert err.splitlines() == [
        f"error: task manager {tms[0]} cannot send log file 'taskmanager.log'",
        f"hint: list its log files: flinkctl taskmanagers logs {tms[0]} --list",
    ]
    out = ok(flink, "jm", "logs", "--tail", "3")
    assert len(out.splitlines()) == 3
    assert "StandaloneSessionClusterEntrypoint" in ok(flink, "jm", "logs")


def test_jobmanager_logs_follow(flink):
    """The demo job checkpoints every 3 s, and the JobManager logs each one."""
    code, out = follow(flink, "jm", "logs", "--tail", "0", until=lambda o: "checkpoint" in o)
    assert code == 130
    assert "checkpoint" in out


def test_job_logs_of_a_job_on_one_taskmanager_have_no_prefix(flink):
    out = ok(flink, "jobs", "logs", flink.demo_job_id, "--tail", "4")
    assert len(out.splitlines()) == 4
    assert not out.startswith("[")


def test_job_logs_of_a_job_on_two_taskmanagers_are_prefixed(flink, wide_job):
    tms = set(ok(flink, "tm", "list", "-o", "name").split())
    out = ok(flink, "jobs", "logs", wide_job, "--tail", "3")
    lines = out.splitlines()
    assert len(lines) == 6
    assert {line[1 : line.index("] ")] for line in lines} == tms
    out = ok(flink, "jobs", "logs", wide_job, "--vertex", "Source", "--tail", "1")
    assert len(out.splitlines()) == 2  # the source's 3 subtasks run on both too


def test_job_logs_follow_both_taskmanagers(flink, wide_job):
    """Every restart (each 12 s) logs task state changes on both task managers."""
    tms = set(ok(flink, "tm", "list", "-o", "name").split())

    def both(out: str) -> bool:
        return {line[1 : line.find("] ")] for line in out.splitlines() if "] " in line} == tms

    code, out = follow(flink, "jobs", "logs", wide_job, "--tail", "0", until=both, timeout=90)
    assert code == 130
    assert both(out)
    assert all(line.startswith("[") for line in out.splitlines())
