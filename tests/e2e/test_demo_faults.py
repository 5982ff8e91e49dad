"""`flinkctl local demo` on a bad day, each reproduction on a real cluster: a wait that runs
out, a wait stopped by Ctrl-C or SIGTERM, a name that already runs, two runs racing on one.

A cluster of its own per version (4 slots, the `local up --demo` job). Each test names what the
user sees and what the cluster says, and leaves no job of its own behind.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from .conftest import LocalFlink, active, cancel_all, cli, eventually, jobs_named, module_cluster
from .faultproxy import FaultProxy

CLUSTER = "e2e-demo-faults"
JOB = r"^/jobs/[0-9a-f]{32}$"


@pytest.fixture(scope="module")
def flink(flink_version, tmp_path_factory) -> LocalFlink:
    with module_cluster(tmp_path_factory, CLUSTER, flink_version, "--slots", "4") as cluster:
        yield cluster


def left_behind_unsaid(flink: LocalFlink, name: str, err: str) -> list[str]:
    """The jobs named NAME still running that ERR neither cancelled nor told the user of (its
    id with a way to cancel it)."""
    running = active(flink, name)
    return [jid for jid in running if not (jid in err and "cancel" in err)]


def test_demo_timeout_leaves_no_job_behind_unsaid(flink):
    """`local demo --timeout 0`: exit 1, "demo job ID was not running after 0s".

    Seen: the job runs on (RUNNING a second later), and nothing says so: the user who reads
    "was not running" does not know a job takes a slot until they cancel it."""
    name = "e2e-demo-timeout"
    try:
        code, _, err = cli(flink, "local", "demo", "--job-name", name, "--timeout", "0")
        assert code == 1, err
        time.sleep(2)
        assert not left_behind_unsaid(flink, name, err), (
            f"a job left running, unsaid: {active(flink, name)}; stderr: {err.strip()}"
        )
    finally:
        cancel_all(flink, name)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_demo_interrupted_while_it_waits_leaves_no_job_behind_unsaid(flink, signum):
    """Ctrl-C (or SIGTERM) while `local demo` waits for its job's tasks to run (GET /jobs/:id
    held back 8 s by the proxy, so the wait is a known step).

    Seen: exit 130 (SIGTERM: killed, -15), nothing on stdout or stderr, and the job runs on:
    its id was never printed."""
    name = f"e2e-demo-{signum.name.lower()}"
    try:
        with FaultProxy(flink.url) as proxy:
            proxy.add("GET", JOB, "delay", delay=8.0, times=None)
            mark = proxy.mark()
            proc = subprocess.Popen(
                [flink.exe, "--url", proxy.url, "local", "demo", "--job-name", name],
                env=flink.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True,
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            )  # fmt: skip
            proxy.wait("GET", JOB, since=mark, timeout=60)
            time.sleep(1)
            proc.send_signal(signum)
            _, err = proc.communicate(timeout=60)
        assert "Traceback" not in err, err
        assert proc.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143}[signum], err
        eventually(lambda: jobs_named(flink, name), what=f"the job {name}", timeout=20)
        assert not left_behind_unsaid(flink, name, err), (
            f"exit {proc.returncode}: a job left running, unsaid: {active(flink, name)}; "
            f"stderr: {err.strip()!r}"
        )
    finally:
        cancel_all(flink, name)


def test_demo_twice_with_one_name_its_hint_still_works(flink):
    """`local demo --job-name N` twice: the second starts another job N, and its own hint
    ("Diagnose it once it has run for a minute: flinkctl doctor N") fails: exit 2, "job 'N' is
    ambiguous". Either the second run is refused (the name runs), or its hint names the job
    it started. Neither run leaves its upload of the demo jar on the cluster."""
    name = "e2e-demo-twice"
    try:
        _, out, _ = cli(flink, "jars", "list", "-o", "json")
        uploads = json.loads(out)["files"]
        code, _, err = cli(flink, "local", "demo", "--job-name", name)
        assert code == 0, err
        code, _, err = cli(flink, "local", "demo", "--job-name", name)
        assert code == 2, err
        (running,) = active(flink, name)
        assert f"a job named {name!r} already runs: {running}" in err
        _, out, _ = cli(flink, "jars", "list", "-o", "json")
        assert json.loads(out)["files"] == uploads
    finally:
        cancel_all(flink, name)


def test_demo_twice_at_once_with_one_name_keeps_one_job(flink):
    """Two `local demo --job-name N` at once: both passed the check (no job N yet) and both
    started a job N, exit 0 each; then every `flinkctl doctor N` is ambiguous. One of them
    must keep the name, the other exit 2 without a job of its own running on."""
    name = "e2e-demo-race"
    argv = [flink.exe, "--url", flink.url, "local", "demo", "--job-name", name]
    try:
        procs = [
            subprocess.Popen(argv, env=flink.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]  # fmt: skip
        results = [(p.communicate(timeout=60)[1], p.returncode)[::-1] for p in procs]
        assert sorted(code for code, _ in results) == [0, 2], results
        (running,) = active(flink, name)
        (refused,) = [err for code, err in results if code == 2]
        assert f"a job named {name!r} already runs: {running}" in refused
    finally:
        cancel_all(flink, name)
