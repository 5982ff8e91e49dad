"""Shared test fixtures: an isolated config dir, recorded Flink responses served as expected
requests (`expect`, checked after every test), and an in-process CLI runner."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
VERSIONS = sorted(p.name.removeprefix("flink-") for p in FIXTURES.glob("flink-*") if p.is_dir())


def pytest_addoption(parser):
    parser.addoption(
        "--flink-version",
        default=None,
        help="Flink version(s) for the e2e clusters, comma-separated "
        "[env: FLINKCTL_E2E_FLINK_VERSION; default: 2.3.0,1.20.5]",
    )


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test reads or writes the user's config, or inherits FLINKCTL_* settings."""
    import os

    for var in list(os.environ):
        if var.startswith("FLINKCTL_") or var == "NO_COLOR":
            monkeypatch.delenv(var)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("FLINKCTL_CONFIG", str(tmp_path / "config.yaml"))
    # Keep retry backoff short in tests.
    from flinkctl.client import http

    monkeypatch.setattr(http.Http, "backoff", 0.001)


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
def cli(httpserver, capsys):
    """Run flinkctl in-process against the test server; exit code, stdout and stderr apart."""
    from flinkctl.cli import main as main_module
    from flinkctl.cli.common.failures import run

    def invoke(*args: str, url: str | None = None) -> Result:
        argv = ["--url", url or httpserver.url_for("").rstrip("/"), *args]
        if url == "":
            argv = list(args)
        code = run(main_module.app, argv)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return invoke


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
