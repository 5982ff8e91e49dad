"""Shared test fixtures: an isolated config dir, recorded Flink responses, and an in-process CLI runner."""

from __future__ import annotations

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
    # A named config file must exist: an empty one is an empty config, as no file at the default.
    monkeypatch.setenv("FLINKCTL_CONFIG", str(tmp_path / "config.yaml"))
    (tmp_path / "config.yaml").touch(mode=0o600)
    # Keep retry backoff short in tests, and the retry budget of resolved contexts to 1 s.
    from flinkctl.client import http

    monkeypatch.setattr(http.Http, "backoff", 0.001)
    monkeypatch.setenv("FLINKCTL_RETRY_BUDGET", "1")


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

    def serve(self, httpserver, *names: str, **kwargs) -> None:
        """Register each recorded response at its (id-substituted) path."""
        for name in names:
            rec = self.record(name)
            url = urlsplit(rec["path"].format(**self.ids))
            query = dict(parse_qsl(url.query)) or ""
            body = rec["body"]
            request = httpserver.expect_request(url.path, query_string=query, **kwargs)
            if isinstance(body, dict) and set(body) == {"text"}:
                request.respond_with_data(body["text"], status=rec["status"])
            else:
                request.respond_with_json(body, status=rec["status"])


@pytest.fixture(params=VERSIONS)
def flink(request) -> Recorded:
    """Recorded responses, once per recorded Flink version."""
    return Recorded(request.param)


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
