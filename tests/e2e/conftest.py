"""End-to-end fixtures: a real Flink cluster per session and version, started by `flinkctl`.

Versions: `--flink-version` or `$FLINKCTL_E2E_FLINK_VERSION`, each a comma-separated list such
as "1.20.5,2.3.0"; default E2E_VERSIONS (the newest 2.x and 1.20). Every test using `local_flink` runs once per version, one
cluster at a time; a module fixture that starts a cluster of its own (`local_cluster`) takes
`flink_version` to run once per version too. The Flink download is cached as usual
(`$FLINKCTL_FLINK_CACHE`); config and cluster state are isolated in a temporary directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import pytest

from flinkctl.client.poller import Poller
from flinkctl.local import DEFAULT_FLINK_VERSION
from flinkctl.local.ports import free_port

HERE = Path(__file__).parent
NAME = "e2e"
E2E_VERSIONS = f"{DEFAULT_FLINK_VERSION},1.20.5"  # the newest 2.x and the 1.x LTS line
T = TypeVar("T")


def pytest_generate_tests(metafunc):
    versions = (
        metafunc.config.getoption("--flink-version", default=None)
        or os.environ.get("FLINKCTL_E2E_FLINK_VERSION")
        or E2E_VERSIONS
    )
    params = [v.strip() for v in versions.split(",") if v.strip()]
    if "local_flink" in metafunc.fixturenames:
        metafunc.parametrize("local_flink", params, indirect=True, scope="session")
    if "flink_version" in metafunc.fixturenames:
        metafunc.parametrize("flink_version", params, scope="module")


def pytest_collection_modifyitems(items):
    """Every test under tests/e2e is an e2e test."""
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


def flinkctl_executable() -> str:
    """The installed `flinkctl` script (next to this Python, else on PATH)."""
    beside = Path(sys.executable).with_name("flinkctl")
    found = str(beside) if beside.is_file() else shutil.which("flinkctl")
    if not found:
        pytest.fail("no `flinkctl` executable: pip install -e . first")
    return found


@dataclass
class LocalFlink:
    """The session's cluster: where it is, and a way to run the real CLI against it."""

    name: str
    url: str
    port: int
    version: str
    dir: Path
    demo_job_id: str
    env: dict[str, str]
    exe: str

    def run(
        self, *args: str, timeout: float = 60, env: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        """Run `flinkctl ARGS` in a subprocess (with ENV instead of the cluster's own)."""
        return run_cli(self.exe, args, env or self.env, timeout)


def run_cli(
    exe: str, args: tuple[str, ...], env: dict[str, str], timeout: float
) -> tuple[int, str, str]:
    """`EXE ARGS` in a subprocess with ENV and no stdin; (returncode, stdout, stderr)."""
    proc = subprocess.run(
        [exe, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="session")
def local_flink(request, tmp_path_factory) -> LocalFlink:
    """`flinkctl local up --demo` once per version; `flinkctl local down` afterwards, always."""
    version = request.param
    with local_cluster(tmp_path_factory.mktemp(f"e2e-{version}"), NAME, version) as flink:
        yield flink


@contextlib.contextmanager
def local_cluster(
    tmp: Path, name: str, version: str, *options: str, purge: bool = False
) -> Iterator[LocalFlink]:
    """`flinkctl local up --demo ... OPTIONS`, config and state in TMP; then `local down`, always."""
    unwanted = ("FLINKCTL_CONTEXT", "FLINKCTL_URL", "FLINKCTL_OUTPUT")
    env = {k: v for k, v in os.environ.items() if k not in unwanted}
    env.update(
        FLINKCTL_CONFIG=str(tmp / "config.yaml"),
        FLINKCTL_LOCAL_HOME=str(tmp / "local"),
        XDG_CONFIG_HOME=str(tmp / "xdg"),
        NO_COLOR="1",
    )
    port = free_port()
    exe = flinkctl_executable()
    up = [exe, "local", "up", "--demo", "--name", name, "--port", str(port)]
    up += ["--flink-version", version, "--timeout", "180", "-o", "json", *options]
    try:
        # generous: a cold cache downloads ~300 MB first
        proc = subprocess.run(
            up, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900
        )
        if proc.returncode != 0:
            pytest.fail(
                f"flinkctl local up failed ({proc.returncode}):\n{proc.stderr}", pytrace=False
            )
        info = json.loads(proc.stdout)
        yield LocalFlink(
            name=name,
            url=info["url"],
            port=port,
            version=version,
            dir=Path(info["dir"]),
            demo_job_id=info["demo-job-id"],
            env=env,
            exe=exe,
        )
    finally:
        down = subprocess.run(
            [exe, "local", "down", "--name", name, *(["--purge"] if purge else [])],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        cluster_dir = str(tmp / "local" / name).encode()
        leftovers = [p.name for p in Path("/proc").glob("[0-9]*") if _cmdline_has(p, cluster_dir)]
        assert down.returncode in (0, 3), down.stderr  # 3: up never got as far as a cluster
        assert not leftovers, f"Flink processes left behind: {leftovers}"


@contextlib.contextmanager
def module_cluster(
    tmp_path_factory: pytest.TempPathFactory, name: str, version: str, *options: str
) -> Iterator[LocalFlink]:
    """A module's cluster of its own: `local_cluster` in a new temporary directory, purged
    afterwards; its runs keep their catalog (`catalog_rows`) and state there too."""
    tmp = tmp_path_factory.mktemp(f"{name}-{version}")
    with local_cluster(tmp, name, version, *options, purge=True) as cluster:
        cluster.env["FLINKCTL_CATALOG"] = str(tmp / "catalog.db")
        cluster.env["XDG_STATE_HOME"] = str(tmp / "state")
        yield cluster


def _cmdline_has(proc: Path, needle: bytes) -> bool:
    try:
        return needle in (proc / "cmdline").read_bytes()
    except OSError:
        return False


def eventually(
    fetch: Callable[[], T],
    done: Callable[[T], bool] = bool,
    *,
    timeout: float = 60.0,
    what: str = "an answer",
) -> T:
    """FETCH() until DONE(answer) (default: until it is truthy), polled by flinkctl's Poller;
    the answer. Metrics, checkpoints and rescales reach the REST API seconds late: the test
    fails with the last answer only after TIMEOUT seconds."""
    answer = Poller.within(timeout).last(fetch, done)
    assert done(answer), f"{what} not within {timeout:.0f} s: {answer!r}"
    return answer


# -- helpers of the modules that drive savepoints and deploys through the CLI ------------------


def flinkctl(flink: LocalFlink, *args: str, env: dict | None = None) -> tuple[int, str, str]:
    return flink.run("--url", flink.url, *args, env=env, timeout=300)


def run(flink: LocalFlink, *args: str, env: dict | None = None):
    """`flinkctl ARGS -o json`, asserted to exit 0; its output."""
    code, out, err = flinkctl(flink, *args, "-o", "json", env=env)
    assert code == 0, f"flinkctl {' '.join(args)} -> {code}\n{err}"
    return json.loads(out) if out.strip() else None


def cli(flink: LocalFlink, *args: str, url: str | None = None, timeout: float = 120):
    """`flinkctl --url URL ARGS` (the cluster's URL by default), echoed with what it printed
    (pytest shows it for a failed test); (code, out, err)."""
    code, out, err = flink.run("--url", url or flink.url, *args, timeout=timeout)
    print(f"$ flinkctl {' '.join(args)}\n  exit {code}\n  out: {out[-800:]}\n  err: {err[-800:]}")
    return code, out, err


ACTIVE = ("INITIALIZING", "CREATED", "RUNNING", "RESTARTING", "FAILING", "CANCELLING")


def jobs_named(flink: LocalFlink, name: str) -> list[dict]:
    """The jobs named NAME that the cluster lists, ended or not."""
    code, out, err = cli(flink, "jobs", "list", "--name", name, "-o", "json")
    assert code in (0, 3), err
    return json.loads(out)["jobs"] if out.strip() else []


def active(flink: LocalFlink, name: str) -> list[str]:
    """The ids of the jobs named NAME that have not ended."""
    return [j["jid"] for j in jobs_named(flink, name) if j["state"] in ACTIVE]


def cancel_all(flink: LocalFlink, name: str) -> None:
    """Cancel every job named NAME that has not ended, and wait for it."""
    for jid in active(flink, name):
        cli(flink, "jobs", "cancel", jid, "--yes", "--wait")


def on_disk(location: str) -> Path:
    """A file: savepoint location as a local path."""
    return Path(urlsplit(location).path)


def catalog_rows(flink: LocalFlink) -> list[dict]:
    db = sqlite3.connect(flink.env["FLINKCTL_CATALOG"])
    db.row_factory = sqlite3.Row
    return [dict(r) for r in db.execute("SELECT * FROM savepoints ORDER BY id")]


def savepoint_dirs(flink: LocalFlink) -> set[str]:
    return {p.name for p in (flink.dir / "savepoints").glob("savepoint-*")}
