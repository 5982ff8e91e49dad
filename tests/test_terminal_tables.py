"""Tables on a real terminal: the CLI as a subprocess whose stdout is a pseudo-terminal of 80 or
120 columns, against recorded responses whose names were made long (40 characters) and
non-ASCII. Ids stay whole on one line; free text shrinks with an ellipsis; -o wide runs past."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest
from rich.cells import cell_len

LONG = "Käsekuchen → 乱数ソース with a forty-char name"[:40]  # 40 characters, some double-width
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def on_terminal(url: str, columns: int, *argv: str) -> tuple[int, list[str], str]:
    """(exit code, stdout lines without colour codes, stderr) of `flinkctl --url URL ARGV` with
    stdout on a pty COLUMNS wide."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLINKCTL_")}
    env.update(COLUMNS=str(columns), LINES="50", TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "flinkctl", "--url", url, *argv],
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    err = proc.stderr.read().decode() if proc.stderr else ""
    code = proc.wait(timeout=60)
    text = ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")
    return code, text.rstrip("\n").split("\n"), err


@pytest.fixture
def long_names(flink, httpserver):
    """The recorded overview and job, every job and vertex name LONG plus a number."""
    overview = flink.body("jobs-overview")
    for i, job in enumerate(overview["jobs"]):
        job["name"] = f"{LONG[:-1]}{i}"
    job = flink.body("job")
    for i, vertex in enumerate(job["vertices"]):
        vertex["name"] = f"{LONG[:-1]}{i}"
    flink.expect(httpserver, "jobs-overview", body=overview, always=True)
    flink.expect(httpserver, "job", body=job, always=True)
    return overview["jobs"], job


def _whole_on_one_line(ids: list[str], lines: list[str]) -> None:
    for i in ids:
        assert any(i in line for line in lines), f"{i} split or cut in:\n" + "\n".join(lines)


@pytest.mark.parametrize("columns", [80, 120])
def test_jobs_list_keeps_ids_whole_and_fits(long_names, httpserver, columns):
    jobs, _ = long_names
    code, lines, err = on_terminal(httpserver.url_for(""), columns, "jobs", "list")
    assert (code, err) == (0, "")
    _whole_on_one_line([j["jid"] for j in jobs], lines)
    assert max(cell_len(line) for line in lines) <= columns
    assert lines[0].split()[:3] == ["ID", "NAME", "STATE"]
    assert len(lines) == 2 + len(jobs)  # one line per job: nothing wrapped
    names = [line.split("   ")[1].strip() for line in lines[2:]]
    # too narrow for the whole name (45 cells): cut with an ellipsis, never wrapped
    assert all(n.endswith("…") and LONG.startswith(n[:-1]) for n in names)
    headers = re.split(r"\s{3,}", lines[0])
    full = ["ID", "NAME", "STATE", "START", "DURATION", "TASKS"]
    # at 120 columns everything fits once the name shrinks; at 80 the rightmost columns go
    assert headers == (full if columns == 120 else full[:4])


@pytest.mark.parametrize("columns", [80, 120])
def test_vertices_list_keeps_ids_whole_and_drops_columns_from_the_right(
    long_names, httpserver, flink, columns
):
    _, job = long_names
    code, lines, err = on_terminal(httpserver.url_for(""), columns, "vertices", "list", job["jid"])
    assert (code, err) == (0, "")
    vertices = job["vertices"]
    _whole_on_one_line([v["id"] for v in vertices], lines)
    assert max(cell_len(line) for line in lines) <= columns
    assert len(lines) == 2 + len(vertices)
    headers = re.split(r"\s{3,}", lines[0])
    assert headers[:3] == ["ID", "NAME", "STATUS"]
    full = ["ID", "NAME", "STATUS", "PARALLELISM", "TASKS", "DURATION"]
    full += ["RECORDS IN", "RECORDS OUT", "BYTES IN", "BYTES OUT"]
    assert headers == full[: len(headers)]  # the lowest-priority columns went first
    assert len(headers) < len(full)
    for line, vertex in zip(lines[2:], vertices, strict=True):
        assert vertex["status"] in line.split()  # a state is never cut


@pytest.mark.parametrize("columns", [80, 120])
def test_vertices_list_wide_runs_past_the_edge(long_names, httpserver, columns):
    _, job = long_names
    code, lines, err = on_terminal(
        httpserver.url_for(""), columns, "vertices", "list", job["jid"], "-o", "wide"
    )
    assert (code, err) == (0, "")
    # the terminal wraps the long lines itself; the rows were not squeezed to fit
    text = "".join(lines)
    for header in ("SLOT SHARING GROUP", "MAX PARALLELISM", "RECORDS OUT", "STATUS"):
        assert header in text
    for vertex in job["vertices"]:
        assert vertex["id"] in text and vertex["name"] in text
    assert max(cell_len(line) for line in lines) > columns or len(lines) > 2 + len(job["vertices"])


def test_empty_list_is_a_note_on_stderr_at_a_terminal(flink, httpserver):
    flink.expect(httpserver, "jobs-overview", body={"jobs": []})
    code, lines, err = on_terminal(httpserver.url_for(""), 80, "jobs", "list")
    assert (code, lines, err) == (0, [""], "no jobs\n")


def _headers(lines: list[str]) -> list[str]:
    return re.split(r"\s{3,}", lines[0].strip())


@pytest.mark.parametrize("columns", [80, 120])
def test_savepoint_list_keeps_the_path_whole_and_drops_other_columns_first(
    long_names, flink, httpserver, columns
):
    """The path is what `savepoint list` is for: never cut; SIZE, KIND, AGE and TAKEN go
    first, and the 40-character name shortens."""
    flink.expect(httpserver, "checkpoints", always=True)
    path = flink.body("checkpoints")["latest"]["savepoint"]["external_path"]
    code, lines, err = on_terminal(httpserver.url_for(""), columns, "savepoint", "list")
    assert (code, err) == (0, "")
    assert len(lines) == 3 and lines[2].endswith(path)  # one row, the path whole at its end
    headers = _headers(lines)
    assert headers[0] == "NAME" and headers[-1] == "PATH"
    # at 120: NAME, STATUS, PATH fit; at 80 not even STATUS does (PATH alone is 75 cells)
    assert headers == (["NAME", "STATUS", "PATH"] if columns == 120 else ["NAME", "PATH"])
    name = lines[2].split("   ")[0]
    assert name.endswith("…") and LONG.startswith(name[:-1])
    if columns == 120:
        assert max(cell_len(line) for line in lines) <= columns


def _renamed_deploy(flink, name: str) -> tuple[dict, dict]:
    """The recorded overview and config of the job deployed as `deployed`, renamed NAME (in
    the revision record it carries too)."""
    import base64
    import json

    overview = flink.body("deploy-jobs-overview")
    for job in overview["jobs"]:
        if job["name"] == "deployed":
            job["name"] = name
    config = flink.body("deploy-config-deployed")
    config["name"] = name
    user = config["execution-config"]["user-config"]
    value = user["flinkctl.deploy"]  # base64url JSON without padding (workflows.revisions)
    record = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    text = json.dumps(record, ensure_ascii=False).replace('"deployed"', json.dumps(name))
    user["flinkctl.deploy"] = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    return overview, config


@pytest.mark.parametrize("columns", [80, 120])
def test_jobs_history_fits_keeping_action_and_outcome(flink, httpserver, columns):
    overview, config = _renamed_deploy(flink, LONG)
    flink.expect(httpserver, "deploy-jobs-overview", body=overview, always=True)
    flink.expect(httpserver, "deploy-config-deployed", body=config, always=True)
    code, lines, err = on_terminal(httpserver.url_for(""), columns, "jobs", "history", LONG)
    assert (code, err) == (0, ""), err
    assert max(cell_len(line) for line in lines) <= columns
    headers = _headers(lines)
    assert headers[:5] == ["REVISION", "JOB-ID", "STATE", "ACTION", "OUTCOME"]
    _whole_on_one_line([config["jid"]], lines)
    [row] = [line for line in lines[2:] if config["jid"] in line]
    assert row.split()[3] == "deploy"  # ACTION shown; the jar's name gives way first
    assert "JAR" not in headers
