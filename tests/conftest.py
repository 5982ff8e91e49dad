"""Shared test fixtures: an isolated config dir, recorded Flink responses served as expected
requests (`expect`, checked after every test), an in-process CLI runner, and a real HTTP server
whose faults a test decides (`FaultServer`)."""

from __future__ import annotations

import functools
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from pytest_httpserver import HTTPServer

FIXTURES = Path(__file__).parent / "fixtures"
VERSIONS = sorted(p.name.removeprefix("flink-") for p in FIXTURES.glob("flink-*") if p.is_dir())
# The retry budget (seconds) of the contexts the CLI resolves in tests (FLINKCTL_RETRY_BUDGET,
# see `isolated`), and the CLI's first pause between polls in tests (`short_polls`; flinkctl's
# own is 0.1 s): nothing a test asserts depends on their length.
TEST_RETRY_BUDGET = 0.3
TEST_POLL_INITIAL = 0.01


def pytest_addoption(parser):
    parser.addoption(
        "--flink-version",
        default=None,
        help="Flink version(s) for the e2e clusters, comma-separated "
        "[env: FLINKCTL_E2E_FLINK_VERSION; default: 2.3.0,1.20.5]",
    )


def pytest_configure(config):
    """Ctrl-C keeps its meaning in the processes the tests start and signal, also when the test
    run itself was started in the background (where the shell has SIGINT ignored, which every
    child would inherit): Python's handler here is reset to the default in an exec'd child."""
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test reads or writes the user's config, or inherits FLINKCTL_* settings."""
    import os

    for var in list(os.environ):
        if var.startswith("FLINKCTL_") or var == "NO_COLOR":
            monkeypatch.delenv(var)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # the catalog
    # A named config file must exist: an empty one is an empty config, as no file at the default.
    monkeypatch.setenv("FLINKCTL_CONFIG", str(tmp_path / "config.yaml"))
    (tmp_path / "config.yaml").touch(mode=0o600)
    # Keep retry backoff short in tests, and the retry budget of resolved contexts short too
    # (TEST_RETRY_BUDGET): what a test asserts of retries does not depend on the budget's
    # length, which only a test that gives up spends in full.
    from flinkctl.client import http

    monkeypatch.setattr(http.Http, "backoff", 0.001)
    monkeypatch.setenv("FLINKCTL_RETRY_BUDGET", str(TEST_RETRY_BUDGET))


@dataclass
class Recorded:
    """The recorded responses of one Flink version."""

    version: str

    @property
    def dir(self) -> Path:
        return FIXTURES / f"flink-{self.version}"

    @property
    def ids(self) -> dict[str, str]:
        return json.loads((self.dir / "ids.json").read_text())

    def record(self, name: str) -> dict:
        """{"status", "path", "body"} as recorded."""
        return json.loads((self.dir / f"{name}.json").read_text())

    def body(self, name: str):
        return self.record(name)["body"]

    def path(self, name: str) -> str:
        return self.record(name)["path"].format(**self.ids)

    def serve_refused_start(self, httpserver) -> str:
        """A first deploy of the demo jar whose start Flink refuses as a duplicate job id: no
        job runs, the upload, its plan, the refused run, the upload's deletion, the version and
        the slots. The uploaded jar's id."""
        from pathlib import Path

        httpserver.expect_request("/jobs/overview").respond_with_json(
            {**self.body("deploy-jobs-overview"), "jobs": []}
        )
        upload = self.body("jar-upload")
        jar = Path(upload["filename"]).name
        httpserver.expect_request("/jars/upload", method="POST").respond_with_json(upload)
        httpserver.expect_request(f"/jars/{jar}/plan", method="POST").respond_with_json(
            self.body("jar-plan")
        )
        duplicate = self.record("deploy-run-duplicate-job-id")
        httpserver.expect_request(f"/jars/{jar}/run", method="POST").respond_with_json(
            duplicate["body"], status=duplicate["status"]
        )
        httpserver.expect_oneshot_request(f"/jars/{jar}", method="DELETE").respond_with_json({})
        self.serve(httpserver, "config", "overview", "jobmanager-config")
        return jar

    def expect(
        self,
        httpserver,
        name: str,
        *,
        json=None,
        query=None,
        answer: str | None = None,
        body=None,
        status: int | None = None,
        ordered: bool = False,
        always: bool = False,
        **matchers,
    ) -> None:
        """Expect the request recorded as NAME (method, path, query) and answer its recorded response.

        Once by default, in registration order among one-shots on one path; `ordered` puts it in
        the server's strict sequence; `always` answers every matching request. The test fails
        unless every expectation was met (see `pytest_runtest_call`). JSON and QUERY are the body
        and query the request must carry (QUERY defaults to the recorded one). The answer is the
        response recorded as ANSWER (default NAME); BODY and STATUS replace its body and status
        (a str BODY is sent as text).
        """
        assert not (ordered and always), "a stub is either ordered or permanent"
        rec = self.record(name)
        url = urlsplit(rec["path"].format(**self.ids))
        matchers.setdefault("method", rec.get("method", "GET"))
        matchers["query_string"] = query if query is not None else dict(parse_qsl(url.query)) or ""
        if json is not None:
            matchers["json"] = json
        if ordered:
            handler = httpserver.expect_ordered_request(url.path, **matchers)
        elif always:
            handler = httpserver.expect_request(url.path, **matchers)
        else:
            handler = httpserver.expect_oneshot_request(url.path, **matchers)
        response = self.record(answer) if answer else rec
        body = response["body"] if body is None else body
        if isinstance(body, dict) and set(body) == {"text"}:
            body = body["text"]
        status = response["status"] if status is None else status
        if isinstance(body, str):
            handler.respond_with_data(body, status=status)
        else:
            handler.respond_with_json(body, status=status)

    def serve(self, httpserver, *names: str, **matchers) -> None:
        """Answer every request for each recorded response NAMES, however often it comes."""
        for name in names:
            self.expect(httpserver, name, always=True, **matchers)


# ("json", status, body[, headers]) | ("text", status, text, content type) | ("reset",) |
# ("hang", event): what a FaultServer answers
Answer = tuple
# Flink's answer while a JobManager gains leadership (LeaderRetrievalHandler); it lasts a
# moment, so it is not among the recorded responses.
LEADER_ELECTION = (
    "json",
    503,
    {
        "errors": [
            "Service temporarily unavailable due to an ongoing leader election. Please refresh."
        ]
    },
)


class FaultServer(ThreadingHTTPServer):
    """A real HTTP server whose every answer a test decides: ANSWER(method, path, body).

    ("reset",) drops the connection with an RST after the request was read (the answer is
    lost); ("hang", event) answers nothing until EVENT is set. A body up to 1 MiB is read and
    decoded (JSON, else bytes) before ANSWER is asked; a larger one is left unread (None), so
    the client stalls sending it. LOG holds (method, path, body).
    """

    daemon_threads = True

    def __init__(self, answer: Callable[[str, str, object], Answer], port: int = 0):
        self.answer = answer
        self.log: list[tuple[str, str, object]] = []
        super().__init__(("127.0.0.1", port), _FaultHandler)
        self.thread = threading.Thread(target=self.serve_forever, args=(0.01,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()

    def handle_error(self, request, client_address):  # resets and hung-up clients are on purpose
        pass

    def wait_for(self, prefix: str, count: int = 1, timeout: float = 30) -> bool:
        """Whether COUNT requests for paths starting with PREFIX arrive within TIMEOUT."""
        deadline = time.monotonic() + timeout
        while sum(p.startswith(prefix) for _, p, _ in list(self.log)) < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    @classmethod
    @contextmanager
    def later(
        cls, answer: Callable[[str, str, object], Answer], delay: float
    ) -> Iterator[tuple[str, list[FaultServer]]]:
        """A port where nothing listens (connections are refused) for DELAY seconds, then a
        FaultServer does, as a JobManager restarting: yields its URL and a list that holds the
        server once it is up."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        started: list[FaultServer] = []

        def start() -> None:
            time.sleep(delay)
            server = cls(answer, port=port)  # listening: a connection waits for the thread
            started.append(server)  # before it serves one, so the test finds it when it ends
            server.__enter__()

        threading.Thread(target=start, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{port}", started
        finally:
            for server in started:
                server.__exit__()


class _FaultHandler(BaseHTTPRequestHandler):
    server: FaultServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body: object = None
        if 0 < length <= 1 << 20:
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
        self.server.log.append((self.command, self.path, body))
        answer = self.server.answer(self.command, self.path, body)
        if answer[0] == "hang":
            answer[1].wait(30)
            self.close_connection = True
            return
        if answer[0] == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        kind, status, payload, *rest = answer
        data = json.dumps(payload).encode() if kind == "json" else payload.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if kind == "json" else rest[0])
        for key, value in (rest[0] if kind == "json" and rest else {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


@pytest.fixture(params=VERSIONS)
def flink(request) -> Recorded:
    """Recorded responses, once per recorded Flink version (see `pytest_generate_tests`)."""
    return Recorded(request.param)


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc):
    """`@pytest.mark.flink(since="2.3")` / `(before="2.3")`: only the recorded versions in range.

    One test per version range instead of a branch on the version inside a test.
    """
    marker = metafunc.definition.get_closest_marker("flink")
    if marker is None or "flink" not in metafunc.fixturenames:
        return
    since, before = marker.kwargs.get("since"), marker.kwargs.get("before")
    chosen = [
        v
        for v in VERSIONS
        if (since is None or _release(v) >= _release(since))
        and (before is None or _release(v) < _release(before))
    ]
    assert chosen, f"{metafunc.definition.nodeid}: no recorded Flink version in range"
    # As a parametrize mark, so that it takes precedence over the fixture's own params.
    metafunc.definition.add_marker(pytest.mark.parametrize("flink", chosen, indirect=True))


@pytest.fixture
def expect(flink, httpserver):
    """`expect(name, ...)`: Recorded.expect on the test server for the version under test."""
    return functools.partial(flink.expect, httpserver)


@pytest.fixture
def trigger_id(flink, monkeypatch):
    """`trigger_id(name)`: the client generates the trigger id that NAME's recorded answer holds."""

    def use(name: str) -> str:
        value = flink.body(name)["request-id"]
        monkeypatch.setattr("flinkctl.client.poller.new_trigger_id", lambda: value)
        return value

    return use


@pytest.fixture
def tid(trigger_id) -> str:
    """The recorded savepoint trigger id, which the client generates."""
    return trigger_id("savepoint-trigger")


def unmet_expectations(server) -> list[str]:
    """Requests no stub expected, errors in handlers, and one-shot or ordered stubs never used.

    Permanent stubs (`Recorded.serve`, `always=True`) stand for a cluster that answers whatever
    is asked; they need not all be asked.
    """
    problems = [str(a) for a in server.assertions] + [repr(e) for e in server.handler_errors]
    unused = [*server.ordered_handlers, *server.oneshot_handlers]
    return problems + [f"never requested: {h.matcher}" for h in unused]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A passing test fails after all on an unused one-shot or ordered stub of its test server,
    or on a request that no stub expected."""
    result = yield
    server = getattr(item, "funcargs", {}).get("httpserver")
    if server is not None:
        problems = unmet_expectations(server)
        server.clear_assertions()
        server.clear_handler_errors()
        if problems:
            pytest.fail("test server:\n" + "\n".join(problems), pytrace=False)
    return result


@pytest.fixture
def refreshes(monkeypatch):
    """Stop a --watch after N refreshes (as Ctrl-C would); records the intervals slept."""
    from flinkctl.cli.common import watching

    slept: list[float] = []

    def limit(n: int) -> list[float]:
        def fake_sleep(seconds: float) -> None:
            slept.append(seconds)
            if len(slept) >= n:
                raise KeyboardInterrupt

        monkeypatch.setattr(watching, "_sleep", fake_sleep)
        return slept

    return limit


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def short_polls(monkeypatch) -> None:
    """The CLI's waits against a test server poll every 10 ms at first, not 100 ms (a test on a
    fake clock keeps flinkctl's own pauses: the tests of the poller, the deploy simulation)."""
    from flinkctl.client.poller import Poller

    monkeypatch.setattr(Poller, "initial", TEST_POLL_INITIAL)


def _inprocess(request) -> bool:
    """Whether the test's module (or the test) is marked `inprocess` (see `httpserver`)."""
    return request.node.get_closest_marker("inprocess") is not None


@pytest.fixture
def httpserver(request):
    """The test server: pytest-httpserver's, or in a module marked `inprocess`
    (`pytestmark = pytest.mark.inprocess`: the read-only commands) tests/inprocess.py's Server,
    which answers through httpx.MockTransport with no socket."""
    if _inprocess(request):
        from inprocess import Server

        return Server()
    server = request.getfixturevalue("make_httpserver")
    server.clear()
    return server


@pytest.fixture
def cli(request, httpserver, short_polls):
    """Run flinkctl in-process against the test server; exit code, stdout and stderr apart.

    Against the in-process server (`inprocess`), the client's transport is the server's and the
    streams are StringIOs (a terminal with FLINKCTL_FORCE_TTY=1); otherwise capsys reads them.
    """
    import io
    import os

    from flinkctl.cli import main as main_module
    from flinkctl.cli.common.failures import run
    from flinkctl.cli.invocation import Invocation
    from flinkctl.output.streams import IO

    capsys = None if _inprocess(request) else request.getfixturevalue("capsys")

    def invoke(*args: str, url: str | None = None) -> Result:
        argv = ["--url", url or httpserver.url_for("").rstrip("/"), *args]
        if url == "":
            argv = list(args)
        if capsys is not None:
            code = run(main_module.app, argv)
            return Result(code, *capsys.readouterr())
        streams = IO(
            out=io.StringIO(),
            err=io.StringIO(),
            out_is_terminal=os.environ.get("FLINKCTL_FORCE_TTY") == "1",
        )
        code = run(main_module.app, argv, Invocation(io=streams, transport=httpserver.transport))
        return Result(code, streams.out.getvalue(), streams.err.getvalue())

    return invoke


class _QuickStopServer(HTTPServer):
    """pytest-httpserver's server, whose stop (at the end of each pytest process) waits a
    twentieth of a second for its thread, not half a second."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.05)


@pytest.fixture(scope="session")
def make_httpserver(httpserver_listen_address, httpserver_ssl_context) -> Iterator[HTTPServer]:
    """pytest-httpserver's session server (its own fixture, but for the quick stop)."""
    host, port = httpserver_listen_address
    server = _QuickStopServer(
        host=host or HTTPServer.DEFAULT_LISTEN_HOST,
        port=port or HTTPServer.DEFAULT_LISTEN_PORT,
        ssl_context=httpserver_ssl_context,
    )
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Count e2e results per Flink version; a skipped test is not a passed one: fail the run."""
    import re
    from collections import Counter

    per_version: Counter = Counter()
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            match = re.search(r"\[(?:.*-)?(\d+\.\d+\.\d+)(?:-.*)?\]$", nodeid)
            if "tests/e2e/" in nodeid and match and getattr(report, "when", "call") == "call":
                per_version[(match.group(1), outcome)] += 1
    for version in sorted({v for v, _ in per_version}, reverse=True):
        counts = ", ".join(
            f"{per_version[(version, o)]} {o}" for o in ("passed", "failed", "skipped")
        )
        terminalreporter.write_line(f"e2e against real Flink {version}: {counts}")
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped and exitstatus == 0:
        terminalreporter.write_line(
            f"error: {len(skipped)} test(s) skipped; skips fail this suite", red=True
        )
        terminalreporter._session.exitstatus = 1
