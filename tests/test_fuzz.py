"""Schema drift never crashes: every read command over mutated recorded answers (issue 12).

Each recorded body a read command reads is mutated (keys dropped, nulls, values of another
type, empty and huge containers, odd numbers, unicode) and served in place of the recording;
the command's table, wide and json output must then end in exit 0 or one of flinkctl's own
errors: a documented exit code and a one-line `error: ...`, never a traceback. A body that only
lacks fields renders with exit 0, unless the field is one the command cannot go on without.

Bounded: FLINKCTL_FUZZ_EXAMPLES examples per (version, command, body read) and mode (default
3, about 1,000 runs in ~30 s, the same ones each run); raise it for a deeper search:
`FLINKCTL_FUZZ_EXAMPLES=30 pytest -m fuzz tests/test_fuzz.py`.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from functools import cache
from urllib.parse import parse_qsl, urlsplit

import pytest
from conftest import VERSIONS, Recorded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flinkctl.errors import ExitCode

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FLINKCTL_FUZZ_EXAMPLES", "3"))
FORMATS = ("table", "wide", "json")

# The read commands, with placeholders filled from each version's recorded ids.
COMMANDS: list[tuple[str, ...]] = [
    ("cluster", "overview"),
    ("cluster", "config"),
    ("jm", "config"),
    ("jm", "metrics"),
    ("jm", "metrics", "--get", "Status.JVM.Memory.Heap.Used,Status.JVM.Memory.Heap.Max"),
    ("jm", "logs", "--list"),  # the log itself is text in every format
    ("jm", "thread-dump"),
    ("jm", "environment"),
    ("tm", "list"),
    ("tm", "show", "{tmid}"),
    ("tm", "metrics", "{tmid}"),
    ("tm", "metrics", "{tmid}", "--get", "Status.JVM.CPU.Load"),
    ("tm", "logs", "{tmid}", "--list"),
    ("tm", "thread-dump", "{tmid}"),
    ("jobs", "list"),
    ("jobs", "show", "{jobid}"),
    ("jobs", "show", "{jobprefix}"),
    ("jobs", "status", "{jobid}"),
    ("jobs", "plan", "{jobid}"),
    ("jobs", "config", "{jobid}"),
    ("jobs", "jobmanager-config", "{jobid}"),
    ("jobs", "exceptions", "{jobid}"),
    ("jobs", "result", "{jobid}"),
    ("jobs", "accumulators", "{jobid}"),
    ("jobs", "metrics"),
    ("jobs", "metrics", "{jobid}"),
    ("jobs", "metrics", "{jobid}", "--get", "uptime,numRestarts"),
    ("jobs", "log-url", "{jobid}"),
    ("jobs", "rescales", "{jobid}"),
    ("jobs", "rescales", "{jobid}", "--history"),
    ("jobs", "rescales", "{jobid}", "--summary"),
    ("jobs", "rescales", "{jobid}", "--config"),
    ("vertices", "list", "{jobid}"),
    ("vertices", "show", "{jobid}", "{vertexid}"),
    ("vertices", "backpressure", "{jobid}"),
    ("vertices", "metrics", "{jobid}", "{vertexid}"),
    ("vertices", "jm-operator-metrics", "{jobid}", "{sourcevertexid}"),
    ("vertices", "accumulators", "{jobid}", "{vertexid}"),
    ("vertices", "subtask-times", "{jobid}", "{vertexid}"),
    ("vertices", "taskmanagers", "{jobid}", "{vertexid}"),
    ("vertices", "watermarks", "{jobid}", "{vertexid}"),
    ("vertices", "flamegraph", "{jobid}", "{sourcevertexid}"),
    ("subtasks", "show", "{jobid}", "{vertexid}", "0"),
    ("subtasks", "metrics", "{jobid}", "{vertexid}", "0"),
    ("subtasks", "accumulators", "{jobid}", "{vertexid}", "0"),
    ("checkpoints", "list", "{jobid}"),
    ("checkpoints", "show", "{jobid}", "{checkpointid}"),
    ("checkpoints", "show", "{jobid}", "latest"),
    ("checkpoints", "config", "{jobid}"),
    ("savepoint", "status", "{jobid}", "{savepoint_trigger}"),
    ("savepoint", "dispose-status", "{disposal_trigger}"),
    ("jars", "list"),
    ("jars", "plan", "{jar}"),
    ("datasets", "list"),
    ("applications", "list"),
    ("applications", "show", "{jobid}"),
    ("applications", "exceptions", "{jobid}"),
    ("applications", "config", "{jobid}"),
]

# Fields a command cannot go on without: a body lacking one may end in exit 1, "unexpected
# answer from Flink", naming the field. Any other missing field renders as '-' with exit 0.
ESSENTIAL = frozenset(
    {"jid", "id", "vertices", "jobs", "taskmanagers", "applications", "files", "attempt"}
)


# -- the recorded answers, routed by request -------------------------------------------------

# Of several answers recorded at one path, these variants win (else the shortest name).
PREFERRED = ("-adaptive", "-completed")
# Commands over something the recordings of a version do not hold.
UNRECORDED = {
    "1.20.5": {"rescales", "applications", "flamegraph"},
    "2.3.0": {"flamegraph", "latest"},
}


def _key(method: str, path: str, query: str) -> tuple[str, str, frozenset]:
    return method, path, frozenset(parse_qsl(query))


def _rank(name: str) -> tuple[bool, int, str]:
    return (not name.endswith(PREFERRED), len(name), name)


@cache
def routes(version: str) -> dict[tuple, tuple[str, dict]]:
    """(method, path, query) -> (fixture name, record) for every recorded answer of VERSION."""
    flink = Recorded(version)
    found: dict[tuple, list[tuple[str, dict]]] = {}
    for file in flink.dir.glob("*.json"):
        record = json.loads(file.read_text())
        if "path" in record:
            url = urlsplit(record["path"].format(**flink.ids))
            key = _key(record.get("method", "GET"), url.path, url.query)
            found.setdefault(key, []).append((file.stem, record))
    plan = next(a for a in found.values() if a[0][0] == "jar-plan")  # for the listed jar too
    found[_key("POST", f"/jars/{_listed_jar(version)}/plan", "")] = plan
    return {key: min(answers, key=lambda a: _rank(a[0])) for key, answers in found.items()}


def _listed_jar(version: str) -> str:
    return Recorded(version).body("jars")["files"][0]["id"]


def body(version: str, name: str) -> object:
    return next(rec["body"] for n, rec in routes(version).values() if n == name)


@cache
def ids(version: str) -> dict[str, str]:
    """The placeholders of COMMANDS for VERSION."""
    flink = Recorded(version)
    last = lambda stem: flink.record(stem)["path"].split("/")[-1]  # noqa: E731
    return dict(
        flink.ids,
        jobprefix=flink.ids["jobid"][:6],
        savepoint_trigger=last("savepoint-status-completed"),
        disposal_trigger=last("disposal-status-completed"),
        jar=_listed_jar(version),
    )


def argv(version: str, command: tuple[str, ...]) -> list[str]:
    return [part.format(**ids(version)) for part in command]


class Server:
    """Serves a version's recorded answers, one of them (by fixture name) replaced."""

    def __init__(self) -> None:
        self.version = ""
        self.replaced: dict[str, object] = {}
        self.read: list[str] = []

    def __call__(self, request):
        from werkzeug import Response

        key = _key(request.method, request.path, request.query_string.decode())
        found = routes(self.version).get(key)
        if found is None:
            missing = {"errors": ["Not found: " + request.path]}
            return Response(json.dumps(missing), 404, content_type="application/json")
        name, record = found
        self.read.append(name)
        answer = self.replaced.get(name, record["body"])
        if isinstance(answer, dict) and set(answer) == {"text"} and isinstance(answer["text"], str):
            return Response(answer["text"], record["status"], content_type="text/plain")
        return Response(json.dumps(answer), record["status"], content_type="application/json")


@pytest.fixture(scope="module")
def server(make_httpserver):
    """One recorded-answer server for the whole module (a fresh one per test costs ~0.5 s)."""
    served = Server()
    make_httpserver.expect_request(re.compile(".*")).respond_with_handler(served)
    served.url = make_httpserver.url_for("").rstrip("/")
    yield served
    make_httpserver.clear()


# -- mutations -------------------------------------------------------------------------------

ODD_NUMBERS = [math.nan, math.inf, -math.inf, -1, -(2**63), 2**64, 10**30, 1e308, 0, 0.5, -0.0]
ODD_TEXT = st.sampled_from(["", " ", "\n", "é", "🦩", "\u202e", "\x00", "x" * 5000, "[red]x[/]"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(ODD_NUMBERS),
    st.integers(),
    st.floats(),
    ODD_TEXT,
    st.text(max_size=20),
)
WRONG = st.one_of(SCALARS, st.just([]), st.just({}), st.lists(SCALARS, max_size=3))


def places(body: object, at: tuple = ()) -> Iterator[tuple]:
    """The path of every value in BODY (keys and list indexes), the root first."""
    yield at
    if isinstance(body, dict):
        for k, v in body.items():
            yield from places(v, (*at, k))
    elif isinstance(body, list):
        for i, v in enumerate(body[:3]):  # the first few entries stand for the rest
            yield from places(v, (*at, i))


def _get(body: object, path: tuple) -> object:
    for part in path:
        body = body[part]  # type: ignore[index]
    return body


def mutate(data, body: object, drop_only: bool, dropped: list[str]) -> object:
    """BODY with one to three mutations drawn by DATA (only dropped keys, noted in DROPPED,
    with DROP_ONLY)."""
    body = json.loads(json.dumps(body))
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        spots = list(places(body))
        if drop_only:
            spots = [p for p in spots if p and isinstance(_get(body, p[:-1]), dict)]
            if not spots:
                return body
        path = data.draw(st.sampled_from(spots), label="at")
        value = _get(body, path)
        ops = ["drop", "null", "wrong", "number", "text"] if not drop_only else ["drop"]
        if isinstance(value, (list, dict)) and not drop_only:
            ops += ["empty", "huge"]
        op = data.draw(st.sampled_from(ops), label="op")
        if op == "drop" and path and isinstance(_get(body, path[:-1]), dict):
            del _get(body, path[:-1])[path[-1]]  # type: ignore[attr-defined]
            dropped.append(path[-1])
            continue
        new: object
        if op == "empty":
            new = type(value)()
        elif op == "huge":
            items = list(value.items()) if isinstance(value, dict) else list(value)
            new = items and (
                {f"{k}{i}": v for i in range(300) for k, v in items[:1]}
                if isinstance(value, dict)
                else items[:1] * 2000
            )
        elif op == "number":
            new = data.draw(st.sampled_from(ODD_NUMBERS), label="number")
        elif op == "text":
            new = data.draw(ODD_TEXT | st.text(max_size=30), label="text")
        elif op == "null" or op == "drop":
            new = None
        else:
            new = data.draw(WRONG, label="wrong")
        if not path:
            body = new
        else:
            _get(body, path[:-1])[path[-1]] = new  # type: ignore[index]
    return body


# -- the runs --------------------------------------------------------------------------------


def check(code: int, out: str, err: str, fmt: str, dropped: list[str] | None) -> None:
    """Exit 0, or one of flinkctl's documented errors as one line; never a traceback. With
    DROPPED keys only, exit 0 unless an ESSENTIAL one is missing."""
    result = (code, out[:2000], err[:2000])
    assert "Traceback" not in err, result
    if code == 0:
        if fmt == "json":
            json.loads(out)
        return
    assert code in {int(c) for c in ExitCode}, result
    lines = err.splitlines()
    if fmt == "json":
        assert len(lines) == 1 and "error" in json.loads(lines[0]), result
        message = json.loads(lines[0])["error"]["message"]
    else:
        assert lines and lines[0].startswith("error: "), result
        assert all(ln.startswith("hint: ") for ln in lines[1:]), result
        message = lines[0]
    if dropped is not None:
        assert ESSENTIAL.intersection(dropped), (dropped, result)
        assert code in (ExitCode.FAILED, ExitCode.NOT_FOUND), result
        assert code == ExitCode.NOT_FOUND or "unexpected answer from Flink at " in message, result


CASES = [(v, c) for v in VERSIONS for c in COMMANDS if not UNRECORDED.get(v, set()) & set(c)]
READS: dict[tuple, list[str]] = {}  # (version, command) -> the fixtures it reads


@pytest.mark.parametrize(
    ("version", "command"), CASES, ids=[f"{v}-{' '.join(c)}" for v, c in CASES]
)
@pytest.mark.parametrize("drop_only", [False, True], ids=["any", "drop"])
def test_read_commands_survive_mutated_answers(server, capsys, version, command, drop_only):
    from flinkctl.cli import main
    from flinkctl.cli.common.failures import run

    def invoke(fmt: str) -> tuple[int, str, str]:
        code = run(main.app, ["--url", server.url, *argv(version, command), "-o", fmt])
        return (code, *capsys.readouterr())

    server.version, server.replaced, server.read = version, {}, []
    if (version, command) not in READS:
        for fmt in FORMATS:  # `-o wide` may read more (e.g. each job's exceptions)
            baseline = invoke(fmt)
            assert baseline[0] == 0, baseline  # the recordings serve this command
        READS[version, command] = list(dict.fromkeys(server.read))
    read = READS[version, command]

    @settings(
        max_examples=max(1, EXAMPLES * len(read)),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def mutated(data):
        name = data.draw(st.sampled_from(read), label="fixture")
        fmt = data.draw(st.sampled_from(FORMATS), label="format")
        dropped: list[str] = []
        server.replaced = {name: mutate(data, body(version, name), drop_only, dropped)}
        check(*invoke(fmt), fmt, dropped if drop_only else None)

    mutated()


# -- the cases of issue 12, spelled out ------------------------------------------------------


def test_job_without_jid_still_shows(flink, httpserver, cli):
    job = {k: v for k, v in flink.body("job").items() if k != "jid"}
    httpserver.expect_request(f"/jobs/{flink.ids['jobid']}").respond_with_json(job)
    httpserver.expect_request(re.compile(r".*/subtasks/metrics")).respond_with_json([])
    flink.serve(httpserver, "job-exceptions")
    r = cli("jobs", "show", flink.ids["jobid"])
    assert (r.code, r.err) == (0, "")
    assert r.out.startswith("ID:")
    assert r.out.splitlines()[0].split() == ["ID:", "-"]


@pytest.mark.parametrize("answer", [[], "text", None, 3])
def test_an_answer_of_another_shape_is_exit_1(httpserver, cli, answer):
    httpserver.expect_request("/overview").respond_with_json(answer)
    r = cli("cluster", "overview")
    got = "a JSON array" if answer == [] else "a JSON string" if answer == "text" else None
    got = got or ("nothing" if answer is None else "a JSON number")
    assert (r.code, r.out) == (1, "")
    assert (
        r.err
        == f"error: unexpected answer from Flink at GET /overview: expected an object, got {got}\n"
    )
