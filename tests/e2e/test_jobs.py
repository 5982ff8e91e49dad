"""`flinkctl jobs ...` read commands and --watch against the real cluster's demo job."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import time

import pytest

from flinkctl.client.base import parse_version

from .conftest import eventually

DEMO = "flinkctl-demo"


def ok(local_flink, *args: str) -> str:
    """stdout of a `flinkctl ARGS` that must succeed with nothing on stderr."""
    code, out, err = local_flink.run(*args)
    assert (code, err) == (0, ""), f"flinkctl {' '.join(args)} -> {code}: {err}"
    return out


def ok_json(local_flink, *args: str):
    return json.loads(ok(local_flink, *args, "-o", "json"))


def test_list(local_flink):
    jid = local_flink.demo_job_id
    out = ok(local_flink, "jobs", "list")
    assert out.splitlines()[0] == "ID\tNAME\tSTATE\tSTART\tDURATION\tTASKS"
    row = next(line for line in out.splitlines() if line.startswith(jid)).split("\t")
    assert row[1:3] == [DEMO, "RUNNING"]
    assert (
        jid
        in ok(
            local_flink, "jobs", "list", "--state", "running", "--name", "flinkctl-*", "-o", "name"
        ).split()
    )
    body = ok_json(local_flink, "jobs", "list", "--sort", "start")
    assert any(j["jid"] == jid and j["tasks"]["running"] >= 2 for j in body["jobs"])
    assert "TASK STATES" in ok(local_flink, "jobs", "list", "-o", "wide")


def test_job_argument_forms(local_flink):
    jid = local_flink.demo_job_id
    for form in (jid, jid[:8], DEMO):
        assert ok(local_flink, "jobs", "status", form) == "RUNNING\n"
    code, out, err = local_flink.run("jobs", "status", "no-such-job")
    assert (code, out) == (3, "")
    assert err == "error: job 'no-such-job' not found\n"


def _vertex_rows(local_flink) -> tuple[str, list[list[str]]]:
    header, vertices = ok(local_flink, "jobs", "show", DEMO).split("\n\n")
    return header, [line.split("\t") for line in vertices.splitlines()]


def test_show(local_flink):
    jid = local_flink.demo_job_id
    header, rows = _vertex_rows(local_flink)
    fields = [" ".join(line.split()) for line in header.splitlines()]  # aligned: one space here
    assert f"ID: {jid}" in fields and "State: RUNNING" in fields
    assert "Restarts: 0" in fields and "Last exception: -" in fields
    assert rows[0][-2:] == ["BUSY MAX", "BACKPRESSURED MAX"]
    assert {r[0] for r in rows[1:]} == {
        "Source: Sequence -> Timestamps -> Throttle",
        "Count -> Drop -> Sink: Print",
    }
    eventually(  # the JobManager fetches task metrics every 10 s
        lambda: _vertex_rows(local_flink)[1],
        lambda rows: all(r[-2].endswith("%") and r[-1].endswith("%") for r in rows[1:]),
        timeout=30,
        what="busy and backpressured ratios in `jobs show`",
    )
    body = ok_json(local_flink, "jobs", "show", jid)
    assert body["jid"] == jid and len(body["vertices"]) == 2
    assert jid in ok(local_flink, "jobs", "show", jid, "-o", "wide")


def test_status_json(local_flink):
    assert ok_json(local_flink, "jobs", "status", local_flink.demo_job_id) == {"status": "RUNNING"}


def test_plan(local_flink):
    out = ok(local_flink, "jobs", "plan", DEMO)
    assert out.splitlines() == [
        f"{DEMO} (STREAMING)",
        "  Source: Sequence -> Timestamps -> Throttle  (parallelism 1)",
        "    HASH -> Count -> Drop -> Sink: Print  (parallelism 1)",
    ]
    assert len(ok_json(local_flink, "jobs", "plan", DEMO)["plan"]["nodes"]) == 2
    dot = ok(local_flink, "jobs", "plan", DEMO, "-o", "dot")
    assert dot.startswith(f'digraph "{DEMO}" {{') and '[label="HASH"];' in dot
    proc = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True)
    assert proc.returncode == 0 and "<svg" in proc.stdout, proc.stderr


def test_config_and_jobmanager_config(local_flink):
    out = ok(local_flink, "jobs", "config", DEMO)
    assert f"Name:   {DEMO}" in out and "job-parallelism\t1" in out
    assert ok_json(local_flink, "jobs", "config", DEMO)["jid"] == local_flink.demo_job_id
    out = ok(local_flink, "jobs", "jobmanager-config", DEMO)
    assert f"rest.port\t{local_flink.port}" in out
    assert "rest.port" in ok(local_flink, "jobs", "jobmanager-config", DEMO, "-o", "name").split()


def test_exceptions(local_flink):
    out = ok(local_flink, "jobs", "exceptions", DEMO, "--max", "5")
    assert out.splitlines()[0] == "TIME\tTASK\tLOCATION\tEXCEPTION\tCONCURRENT"
    body = ok_json(local_flink, "jobs", "exceptions", DEMO)
    assert "entries" in body["exceptionHistory"]
    ok(local_flink, "jobs", "exceptions", DEMO, "-o", "wide")


def test_result(local_flink):
    assert ok(local_flink, "jobs", "result", DEMO) == "Status: IN_PROGRESS\n"
    assert ok_json(local_flink, "jobs", "result", DEMO) == {"status": {"id": "IN_PROGRESS"}}
    code, out, err = local_flink.run("jobs", "result", DEMO, "--wait", "--timeout", "1")
    assert (code, out) == (8, "")
    assert "hint: resume waiting with: flinkctl " in err
    assert f" jobs result {local_flink.demo_job_id} --wait\n" in err


def test_accumulators(local_flink):
    assert ok(local_flink, "jobs", "accumulators", DEMO).startswith("NAME\tTYPE\tVALUE")
    body = ok_json(local_flink, "jobs", "accumulators", DEMO, "--include-serialized")
    assert set(body) >= {"job-accumulators", "user-task-accumulators"}


def test_metrics(local_flink):
    names = ok(local_flink, "jobs", "metrics", DEMO).split()
    assert names[0] == "METRIC" and "uptime" in names and "numRestarts" in names
    values = ok_json(local_flink, "jobs", "metrics", DEMO, "--get", "uptime,numRest*")
    assert {m["id"] for m in values} == {"uptime", "numRestarts"}
    agg = ok_json(local_flink, "jobs", "metrics", "--get", "uptime", "--agg", "max", "--jobs", DEMO)
    assert agg[0]["id"] == "uptime" and agg[0]["max"] > 0
    assert "uptime" in ok(local_flink, "jobs", "metrics").split()


def test_rescales(local_flink):
    code, out, err = local_flink.run("jobs", "rescales", DEMO)
    assert (code, out) == (1, "")
    if parse_version(local_flink.version) < (2, 3):
        needs = "error: rescale history needs Flink 2.3 or newer"
        assert err == f"{needs} (this cluster runs {local_flink.version})\n"
    else:  # the demo cluster runs the default scheduler
        assert "does not run the adaptive scheduler" in err
        assert "hint: set jobmanager.scheduler: adaptive" in err


def test_log_urls(local_flink):
    url = ok(local_flink, "jobs", "log-url", DEMO).strip()
    assert url.startswith("http") and url.endswith("/logs")
    tm = ok(local_flink, "taskmanagers", "list", "-o", "name").split()[0]
    url = ok(local_flink, "jobs", "log-url", DEMO, "--taskmanager", tm[:6]).strip()
    assert tm in url


def _interrupted(proc: subprocess.Popen, after_lines: int) -> tuple[list[str], int, str]:
    """Read AFTER_LINES lines of PROC's stdout, then Ctrl-C it; (lines, exit code, stderr)."""
    lines = []
    deadline = time.monotonic() + 30
    while len(lines) < after_lines and time.monotonic() < deadline:
        lines.append(proc.stdout.readline())
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=10)
    return lines + rest.splitlines(keepends=True), proc.returncode, err


WATCHED = [["jobs", "list"], ["taskmanagers", "list"], ["jobs", "show", DEMO]]


@pytest.mark.parametrize("command", WATCHED, ids=" ".join)
def test_watch_json_lines(local_flink, command):
    proc = subprocess.Popen(
        [local_flink.exe, *command, "--watch", "0.2", "-o", "json"],
        env=local_flink.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines, code, err = _interrupted(proc, 3)
    assert (code, err) == (130, "")  # Ctrl-C: 130, quietly
    docs = [json.loads(line) for line in lines if line.strip()]
    assert len(docs) >= 3
    assert all(isinstance(d, dict) for d in docs)


def test_watch_on_a_terminal_redraws_in_place(local_flink):
    """On a pty: a Rich Live view (cursor-up redraws, no scrolling copies); Ctrl-C exits 130."""
    env = {**local_flink.env, "COLUMNS": "160", "LINES": "40", "TERM": "xterm-256color"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: flinkctl on the pty
        os.execve(local_flink.exe, [local_flink.exe, "jobs", "list", "-w", "0.3"], env)
    screen = b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and screen.count(b"Every 0.3s") < 3:
        if select.select([fd], [], [], 0.5)[0]:
            try:
                screen += os.read(fd, 65536)
            except OSError:
                break
    os.kill(pid, signal.SIGINT)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.WEXITSTATUS(status) == 130, screen[-2000:]
    text = screen.decode(errors="replace")
    assert text.count("Every 0.3s") >= 3
    assert local_flink.demo_job_id in text
    assert "\x1b[2K" in text or "\x1b[1A" in text  # Live moves the cursor up and redraws
    assert "\t" not in text


def _on_terminal(local_flink, columns: int, *args: str) -> list[str]:
    """The lines `flinkctl ARGS` draws on a pty COLUMNS wide (colour codes removed)."""
    import re

    env = {**local_flink.env, "COLUMNS": str(columns), "LINES": "40", "TERM": "xterm-256color"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: flinkctl on the pty
        os.execve(local_flink.exe, [local_flink.exe, *args], env)
    screen = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child is done
            break
        if not chunk:
            break
        screen += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.WEXITSTATUS(status) == 0, screen[-2000:]
    text = re.sub(r"\x1b\[[0-9;]*m", "", screen.decode()).replace("\r\n", "\n")
    return text.rstrip("\n").split("\n")


def test_tables_on_an_80_column_terminal_keep_ids_whole(local_flink):
    jid = local_flink.demo_job_id
    lines = _on_terminal(local_flink, 80, "jobs", "list")
    assert any(line.startswith(jid) for line in lines), lines
    assert max(len(line) for line in lines) <= 80
    vertex_ids = [v["id"] for v in ok_json(local_flink, "jobs", "show", jid)["vertices"]]
    lines = _on_terminal(local_flink, 80, "vertices", "list", jid)
    assert all(any(line.startswith(v) for line in lines) for v in vertex_ids), lines
    assert max(len(line) for line in lines) <= 80 and len(lines) == 2 + len(vertex_ids)
    assert (
        ok(local_flink, "jobs", "list", "--query", f"jobs[?jid=='{jid}'].jid | [0]") == f"{jid}\n"
    )
