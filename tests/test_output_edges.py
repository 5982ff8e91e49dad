"""Output that must hold whatever the expression, the data, the terminal or the streams: a
JMESPath expression failing on the answer, values JSON cannot hold, objects in custom columns,
ids in a --watch frame on a narrow terminal, and stdout or stderr closed or full (a real
flinkctl process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from rich.cells import cell_len

# -- --query and custom columns that fail on the answer ----------------------------------------


@pytest.mark.inprocess
@pytest.mark.parametrize("expr", ['abs(`"x"`)', "sort_by(jobs,&tasks)", "max(jobs)", "nope(@)"])
def test_a_query_failing_on_the_answer_is_one_error_line_and_exit_2(flink, httpserver, cli, expr):
    flink.serve(httpserver, "jobs-overview")
    r = cli("jobs", "list", "-o", "yaml", "--query", expr)
    assert (r.code, r.out) == (2, ""), r.err
    assert r.err.startswith(f"error: invalid --query expression {expr!r}: "), r.err
    assert r.err.count("\n") == 1 and len(r.err) < 250  # an object in the message is cut short
    r = cli("jobs", "list", "--query", expr)  # --query alone prints JSON: the error too
    assert (r.code, r.out) == (2, "")
    assert json.loads(r.err)["error"]["message"].startswith(f"invalid --query expression {expr!r}")


@pytest.mark.inprocess
def test_a_type_error_names_the_function_and_jmespaths_message(flink, httpserver, cli):
    flink.serve(httpserver, "jobs-overview")
    r = cli("jobs", "list", "-o", "json", "--query", "max(jobs)")
    message = json.loads(r.err)["error"]["message"]
    assert message.startswith("invalid --query expression 'max(jobs)': In function max(), ")
    assert "expected one of: ['array-number', 'array-string']" in message


@pytest.mark.inprocess
def test_a_custom_column_failing_on_a_row_is_one_error_line_and_exit_2(flink, httpserver, cli):
    flink.serve(httpserver, "jobs-overview")
    r = cli("jobs", "list", "-o", "custom-columns=ID:jid,A:abs(name)")
    assert (r.code, r.out) == (2, "")
    assert r.err.startswith("error: invalid custom column 'A' expression 'abs(name)': In function")
    assert r.err.count("\n") == 1


@pytest.mark.inprocess
def test_a_watch_query_failing_on_the_answer_exits_2(flink, httpserver, cli, refreshes):
    flink.serve(httpserver, "jobs-overview")
    refreshes(2)
    r = cli("jobs", "list", "-w", "0.1", "-o", "json", "--query", "max(jobs)")
    assert (r.code, r.out) == (2, "")


# -- JSON that JSON can hold ------------------------------------------------------------------


@pytest.mark.inprocess
def test_an_infinite_query_result_prints_as_null(flink, httpserver, cli, refreshes):
    flink.serve(httpserver, "jobs-overview")
    assert cli("jobs", "list", "--query", "`1e400`").out == "null\n"
    assert cli("jobs", "list", "--query", "[`1e400`, `-1e400`, `1`]").out == "null\nnull\n1\n"
    r = cli("jobs", "list", "-o", "json", "--query", "{a: `1e400`, b: [`1e400`]}")
    assert json.loads(r.out, parse_constant=pytest.fail) == {"a": None, "b": [None]}
    assert cli("jobs", "list", "-o", "jsonl", "--query", "[`1e400`]").out == "null\n"
    refreshes(1)
    assert cli("jobs", "list", "-w", "0.1", "-o", "json", "--query", "`1e400`").out == "null\n"


@pytest.mark.inprocess
def test_a_nan_in_flinks_answer_prints_as_null(flink, expect, cli):
    body = flink.body("jobs-overview")
    body["jobs"][0]["duration"] = float("nan")
    expect("jobs-overview", body=body)
    r = cli("jobs", "list", "-o", "json")
    assert r.code == 0
    assert json.loads(r.out, parse_constant=pytest.fail)["jobs"][0]["duration"] is None


# -- objects in custom columns ------------------------------------------------------------------


@pytest.mark.inprocess
def test_an_object_in_a_custom_column_prints_as_compact_json(flink, httpserver, cli):
    flink.serve(httpserver, "jobs-overview")
    jobs = {j["jid"]: j for j in flink.body("jobs-overview")["jobs"]}
    r = cli("jobs", "list", "-o", "custom-columns=ID:jid,TASKS:tasks,STATES:keys(tasks)")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "ID\tTASKS\tSTATES"
    for line in lines[1:]:
        jid, tasks, states = line.split("\t")
        assert json.loads(tasks) == jobs[jid]["tasks"] and " " not in tasks
        assert states == ",".join(jobs[jid]["tasks"])  # a list of strings: joined by commas


@pytest.mark.inprocess
def test_a_list_of_objects_in_a_custom_column_prints_as_compact_json(flink, httpserver, cli):
    flink.serve(httpserver, "taskmanagers")
    r = cli("tm", "list", "-o", "custom-columns=ALL:@")
    tms = flink.body("taskmanagers")["taskmanagers"]
    assert [json.loads(line) for line in r.out.splitlines()[1:]] == tms


# -- --watch on a narrow terminal ---------------------------------------------------------------

WATCHED = [
    pytest.param(("jobs", "list"), "jobs-overview", lambda b: [j["jid"] for j in b["jobs"]], id="jobs"),
    pytest.param(
        ("taskmanagers", "list"), "taskmanagers", lambda b: [t["id"] for t in b["taskmanagers"]],
        id="taskmanagers",
    ),
]  # fmt: skip


def _frame(cli, refreshes, monkeypatch, columns: int, args: tuple[str, ...]) -> list[str]:
    """The lines of a --watch frame COLUMNS wide, without its header."""
    monkeypatch.setenv("FLINKCTL_FORCE_TTY", "1")
    monkeypatch.setenv("COLUMNS", str(columns))
    refreshes(1)
    r = cli(*args, "-w", "0.1")
    assert r.code == 130, r.err
    lines = r.out.rstrip("\n").split("\n")
    return lines[lines.index("") + 1 :]


@pytest.mark.inprocess
@pytest.mark.parametrize(("args", "name", "ids"), WATCHED)
def test_watch_on_a_terminal_narrower_than_an_id_keeps_it_whole(
    flink, httpserver, cli, refreshes, monkeypatch, args, name, ids
):
    flink.serve(httpserver, name)
    lines = _frame(cli, refreshes, monkeypatch, 20, args)
    assert max(cell_len(line) for line in lines) <= 20
    joined = "".join(line.rstrip() for line in lines)  # the lines a terminal would wrap
    for i in ids(flink.body(name)):
        assert i in joined, "\n".join(lines)


@pytest.mark.inprocess
def test_watch_frame_shows_every_cell_the_table_shows(
    flink, httpserver, cli, refreshes, monkeypatch
):
    """40 columns: the job id and the shortest a name gets (12) run past the edge."""
    flink.serve(httpserver, "jobs-overview")
    monkeypatch.setenv("FLINKCTL_FORCE_TTY", "1")
    monkeypatch.setenv("COLUMNS", "40")
    table = cli("jobs", "list").out.split()
    lines = _frame(cli, refreshes, monkeypatch, 40, ("jobs", "list"))
    assert max(cell_len(line) for line in lines) <= 40
    for job in flink.body("jobs-overview")["jobs"]:  # an id that fits is whole on one line
        assert any(job["jid"] in line for line in lines), "\n".join(lines)
    shown = " ".join(lines).split()
    assert [w for w in table if not set(w) <= {"─"}] == [w for w in shown if not set(w) <= {"─"}]


# -- stdout and stderr closed or full: a real process -------------------------------------------


def _run(url: str, *args: str, close: int | None = None, unbuffered: bool = True, **streams):
    """(exit code, stdout, stderr) of `flinkctl --url URL ARGS` with file descriptor CLOSE closed
    (1: stdout, 2: stderr) and STREAMS as subprocess.run's stdout/stderr (default: pipes)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    streams.setdefault("stdout", None if close == 1 else subprocess.PIPE)
    streams.setdefault("stderr", None if close == 2 else subprocess.PIPE)
    proc = subprocess.run(
        [sys.executable, "-m", "flinkctl", "--url", url, *args],
        env=env,
        preexec_fn=None if close is None else lambda: os.close(close),
        timeout=60,
        **streams,
    )
    decode = lambda data: (data or b"").decode()  # noqa: E731
    return proc.returncode, decode(proc.stdout), decode(proc.stderr)


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_closed_stdout_is_one_error_line_and_exit_1(flink, httpserver, fmt):
    flink.serve(httpserver, "jobs-overview")
    code, _, err = _run(httpserver.url_for(""), "jobs", "list", "-o", fmt, close=1)
    assert code == 1, err
    message = "cannot write to standard output: Bad file descriptor"
    if fmt == "json":  # as every error with -o json
        assert json.loads(err) == {"error": {"code": 1, "kind": "error", "message": message}}
    else:
        assert err == f"error: {message}\n"


@pytest.mark.parametrize("unbuffered", [True, False], ids=["unbuffered", "buffered"])
def test_a_full_stdout_is_one_error_line_and_exit_1(flink, httpserver, unbuffered):
    flink.serve(httpserver, "jobs-overview")
    with open("/dev/full", "wb") as full:
        code, _, err = _run(
            httpserver.url_for(""), "jobs", "list", stdout=full, unbuffered=unbuffered
        )
    assert (code, err) == (1, "error: cannot write to standard output: No space left on device\n")


def test_config_view_to_a_full_stdout_is_one_error_line_and_exit_1():
    with open("/dev/full", "wb") as full:
        code, _, err = _run("http://127.0.0.1:9", "config", "view", stdout=full)
    assert (code, err) == (1, "error: cannot write to standard output: No space left on device\n")


def test_a_closed_pipe_still_ends_quietly(flink, httpserver):
    flink.serve(httpserver, "jobs-overview")
    read, write = os.pipe()
    os.close(read)
    try:
        code, _, err = _run(httpserver.url_for(""), "jobs", "list", stdout=write)
    finally:
        os.close(write)
    assert (code, err) == (0, "")


@pytest.mark.parametrize("stderr", ["closed", "full"])
def test_stderr_that_cannot_be_written_keeps_the_exit_code(flink, httpserver, stderr):
    flink.serve(httpserver, "jobs-overview")
    url = httpserver.url_for("")
    if stderr == "closed":
        code, out, _ = _run(url, "jobs", "show", "no-such-job", close=2)
    else:
        with open("/dev/full", "wb") as full:
            code, out, _ = _run(url, "jobs", "show", "no-such-job", stderr=full)
    assert (code, out) == (3, "")
