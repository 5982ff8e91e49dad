"""Run a standalone Flink cluster (one JobManager, one TaskManager) on this machine.

Each cluster has a directory `$FLINKCTL_LOCAL_HOME/<name>/` (default
`$XDG_STATE_HOME/flinkctl/local/<name>/`) with its own `conf/`, `log/`, `pid/`, `checkpoints/`,
`savepoints/` and `cluster.json` (version, FLINK_HOME, ports, -D options); the distribution
itself is shared from the cache (see distribution.py). Flink's own bin/start-cluster.sh starts
it, with FLINK_CONF_DIR, FLINK_LOG_DIR and FLINK_PID_DIR pointing into that directory; stopping
signals the pids recorded in pid/ and checks that they are gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flinkctl.errors import FlinkctlError, NotFoundError, UsageError
from flinkctl.local import DEFAULT_FLINK_VERSION, distribution, versions

DEFAULT_NAME = "local"
DEFAULT_PORT = 8081
DEFAULT_SLOTS = 2
DEFAULT_TIMEOUT = 90.0
STATE_FILE = "cluster.json"
LOG_TAIL = 15
# daemon name in Flink's pid/log file names -> our name for it
ROLES = {"standalonesession": "jobmanager", "taskexecutor": "taskmanager"}
# keys flinkctl itself needs to find and reach the cluster -> the `up` option that sets them
RESERVED_KEYS = {
    "rest.port": "--port",
    "rest.bind-port": "--port",
    "rest.address": None,
    "rest.bind-address": None,
    "taskmanager.numberOfTaskSlots": "--slots",
}

Say = Callable[[str], None]


@dataclass
class LocalCluster:
    """One local cluster as recorded in its `cluster.json`."""

    name: str
    dir: Path
    version: str
    flink_home: Path
    port: int
    rpc_port: int
    slots: int
    demo_job_id: str | None = None
    # extra Flink configuration (`up -D KEY=VALUE`), written last into the cluster's config
    flink_config: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def save(self) -> None:
        data = {
            "flink-version": self.version,
            "flink-home": str(self.flink_home),
            "port": self.port,
            "rpc-port": self.rpc_port,
            "slots": self.slots,
            "demo-job-id": self.demo_job_id,
            "flink-config": self.flink_config,
        }
        tmp = self.dir / f"{STATE_FILE}.tmp"
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        tmp.replace(self.dir / STATE_FILE)

    def env(self) -> dict[str, str]:
        """Environment for Flink's bin scripts."""
        return {
            **os.environ,
            "FLINK_HOME": str(self.flink_home),
            "FLINK_CONF_DIR": str(self.dir / "conf"),
            "FLINK_LOG_DIR": str(self.dir / "log"),
            "FLINK_PID_DIR": str(self.dir / "pid"),
        }


def local_root() -> Path:
    """`$FLINKCTL_LOCAL_HOME`, else `$XDG_STATE_HOME/flinkctl/local`."""
    if os.environ.get("FLINKCTL_LOCAL_HOME"):
        return Path(os.environ["FLINKCTL_LOCAL_HOME"]).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "flinkctl" / "local"


def cluster_dir(name: str) -> Path:
    """The state directory of the cluster NAME (validates the name)."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", name):
        raise UsageError(f"invalid cluster name {name!r} (letters, digits, '.', '_', '-')")
    return local_root() / name


def load(name: str) -> LocalCluster:
    """The cluster NAME, or NotFoundError."""
    cdir = cluster_dir(name)
    try:
        data = json.loads((cdir / STATE_FILE).read_text())
    except FileNotFoundError:
        raise NotFoundError(
            f"no local cluster named {name!r}", hint=f"start one: flinkctl local up --name {name}"
        ) from None
    return LocalCluster(
        name=name,
        dir=cdir,
        version=data["flink-version"],
        flink_home=Path(data["flink-home"]),
        port=data["port"],
        rpc_port=data["rpc-port"],
        slots=data["slots"],
        demo_job_id=data.get("demo-job-id"),
        flink_config=data.get("flink-config") or {},
    )


def parse_config(pairs: list[str]) -> dict[str, str]:
    """`KEY=VALUE` strings (the first `=` splits; a later KEY wins) as a dict, checked."""
    config: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key or any(c.isspace() for c in key):
            raise UsageError(
                f"-D {pair!r}: expected KEY=VALUE, e.g. -D jobmanager.scheduler=adaptive"
            )
        if "\n" in value or "\r" in value:
            raise UsageError(f"-D {key}: the value must be a single line")
        if key in RESERVED_KEYS:
            option = RESERVED_KEYS[key]
            raise UsageError(
                f"-D {key}: flinkctl sets this key itself"
                + (f"; use {option}" if option else ", so it can reach the cluster")
            )
        config[key] = value
    return config


def config_args(config: dict[str, str]) -> str:
    """CONFIG as the `-D KEY=VALUE` arguments that give it, quoted for a shell."""
    return " ".join(f"-D {shlex.quote(f'{k}={v}')}" for k, v in config.items())


def pids(cluster: LocalCluster) -> dict[str, list[int]]:
    """Live JobManager and TaskManager pids of CLUSTER, from its pid files."""
    found: dict[str, list[int]] = {role: [] for role in ROLES.values()}
    for pidfile in (cluster.dir / "pid").glob("*.pid"):
        role = next((r for d, r in ROLES.items() if d in pidfile.name), None)
        if role:
            found[role] += [int(p) for p in pidfile.read_text().split() if p.isdigit()]
    return {role: [p for p in ps if _is_ours(p, cluster)] for role, ps in found.items()}


def up(
    name: str = DEFAULT_NAME,
    *,
    version: str | None = None,
    port: int | None = None,
    slots: int | None = None,
    flink_home: Path | None = None,
    flink_config: dict[str, str] | None = None,
    demo: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    say: Say | None = None,
    progress: distribution.Progress | None = None,
) -> tuple[LocalCluster, bool]:
    """Start cluster NAME (provisioning Flink first if needed) and wait until it is ready.

    Unset arguments default to the cluster's previous run, else to DEFAULT_FLINK_VERSION, port
    8081, 2 slots and no FLINK_CONFIG (extra Flink options, from parse_config; given ones
    replace the previous ones as a whole). Returns the cluster and whether it was already
    running. On any failure (Ctrl-C, SIGTERM and SIGHUP included) whatever was started is
    stopped again.
    """
    say = say or (lambda _msg: None)
    cdir = cluster_dir(name)
    if slots is not None and slots < 1:
        raise UsageError(f"--slots must be at least 1, not {slots}")
    if (cdir / STATE_FILE).exists():
        existing = load(name)
        running = pids(existing)
        if all(running.values()) and _overview(existing.url):
            _check_same(existing, version, port, flink_home, flink_config)
            if demo:
                from flinkctl.local.demo import find

                existing.demo_job_id = find(existing.url) or _run_demo(existing, timeout, say)
                existing.save()
            return existing, True
        if any(running.values()):
            say(f"Cluster {name!r} is half up; stopping it first")
            _stop(existing, say)
        # a restart keeps what was not asked for differently
        if not (version or flink_home) and existing.flink_home.is_dir():
            flink_home = existing.flink_home
        port, slots = port or existing.port, slots or existing.slots
        flink_config = flink_config or existing.flink_config

    # cheap checks first, the download last
    home = distribution.check_flink_home(flink_home) if flink_home else None
    if home:
        version = distribution.home_version(home)
    else:
        version = distribution.check_version(version or DEFAULT_FLINK_VERSION)
    port, slots = port or DEFAULT_PORT, slots or DEFAULT_SLOTS
    _check_port_free(port)
    distribution.find_java(11 if _major(version) >= 2 else 8)
    if not home:
        if not distribution.cached_home(version):
            say(f"Downloading Flink {version} (once; cached in {distribution.cache_root()})")
        home = distribution.provision(version, progress)

    cluster = LocalCluster(
        name, cdir, version, home, port, free_port(), slots, flink_config=flink_config or {}
    )
    for sub in ("conf", "log", "pid", "checkpoints", "savepoints"):
        (cdir / sub).mkdir(parents=True, exist_ok=True)
    for stale in (cdir / "pid").glob("*.pid"):
        stale.unlink()
    _write_conf(cluster)
    cluster.save()

    say(f"Starting Flink {version} cluster {name!r} on {cluster.url}")
    try:
        with _signals_interrupt():
            _script(cluster, "start-cluster.sh")
            _wait_ready(cluster, timeout, say)
            if demo:
                cluster.demo_job_id = _run_demo(cluster, timeout, say)
                cluster.save()
    except BaseException:
        _stop(cluster, say)
        raise
    return cluster, False


def down(name: str = DEFAULT_NAME, *, purge: bool = False, say: Say | None = None) -> list[int]:
    """Stop cluster NAME and make sure no process of it is left; return the pids stopped.

    With PURGE, also delete its directory (config, logs, checkpoints, savepoints).
    """
    import shutil

    cluster = load(name)
    stopped = _stop(cluster, say or (lambda _msg: None))
    if purge:
        shutil.rmtree(cluster.dir)
    return stopped


def status(name: str = DEFAULT_NAME) -> dict:
    """A JSON-ready description of cluster NAME, with Flink's /overview when it answers."""
    cluster = load(name)
    running = pids(cluster)
    overview = _overview(cluster.url) if running["jobmanager"] else None
    return {
        "name": cluster.name,
        "running": bool(running["jobmanager"]),
        "url": cluster.url,
        "flink-version": cluster.version,
        "flink-home": str(cluster.flink_home),
        "dir": str(cluster.dir),
        "pids": running,
        "demo-job-id": cluster.demo_job_id,
        "flink-config": cluster.flink_config,
        "overview": overview,
    }


def log_files(name: str = DEFAULT_NAME) -> list[Path]:
    """All files in the cluster's log directory, oldest first."""
    return sorted((load(name).dir / "log").iterdir(), key=lambda p: p.stat().st_mtime)


def log_file(name: str = DEFAULT_NAME, *, taskmanager: bool = False) -> Path:
    """The current JobManager (or TaskManager) log file of cluster NAME."""
    cluster = load(name)
    daemon = "taskexecutor" if taskmanager else "standalonesession"
    found = _logs(cluster, daemon)
    if not found:
        role = "TaskManager" if taskmanager else "JobManager"
        raise NotFoundError(f"cluster {name!r} has no {role} log yet")
    return found[-1]


def tail(path: Path, n: int) -> list[str]:
    """The last N lines of PATH."""
    from collections import deque

    with path.open(errors="replace") as f:
        return list(deque(f, maxlen=n)) if n > 0 else []


def follow(path: Path, offset: int | None = None, interval: float = 0.5) -> Iterator[str]:
    """Lines appended to PATH after byte OFFSET (default: its end); endless."""
    with path.open(errors="replace") as f:
        f.seek(offset or 0, os.SEEK_SET if offset is not None else os.SEEK_END)
        while True:
            line = f.readline()
            if line:
                yield line
            else:
                time.sleep(interval)


# -- internals ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _signals_interrupt():
    """Turn SIGTERM and SIGHUP (a closed terminal) into KeyboardInterrupt, so `up` cleans up."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_demo(cluster: LocalCluster, timeout: float, say: Say) -> str:
    from flinkctl.local import demo

    say("Submitting the demo job")
    return demo.run(cluster.url, timeout=timeout)


def _major(version: str) -> int:
    return int(version.split(".")[0])


def _check_same(cluster: LocalCluster, version, port, flink_home, flink_config) -> None:
    """An `up` of a running cluster must not ask for something else."""
    home = flink_home and Path(flink_home).resolve()
    options = config_args(cluster.flink_config)
    asked = {  # what: (asked for, has, has as shown)
        "version": (version, cluster.version, cluster.version),
        "port": (port, cluster.port, cluster.port),
        "flink home": (home, cluster.flink_home, cluster.flink_home),
        "configuration": (flink_config, cluster.flink_config, options or "(no -D options)"),
    }
    for what, (want, have, shown) in asked.items():
        if want and want != have:
            raise UsageError(
                f"cluster {cluster.name!r} is already running with {what} {shown}",
                hint=f"stop it first: flinkctl local down --name {cluster.name}",
            )


def _check_port_free(port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise UsageError(
                f"port {port} is already in use", hint="choose another one with --port"
            ) from None


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_conf(cluster: LocalCluster) -> None:
    """Copy the shipped conf/ and write the cluster's settings into it, in the shipped format.

    Precedence: the shipped config < flinkctl's settings < the user's `-D` options.
    """
    import shutil

    shipped, conf = cluster.flink_home / "conf", cluster.dir / "conf"
    configs = ("config.yaml", "flink-conf.yaml")
    for f in shipped.iterdir():
        if f.is_file() and f.name not in (*configs, "masters", "workers"):
            shutil.copy2(f, conf / f.name)
    (conf / "masters").write_text(f"localhost:{cluster.port}\n")
    (conf / "workers").write_text("localhost\n")
    for name in configs:
        (conf / name).unlink(missing_ok=True)

    new_keys = _major(cluster.version) >= 2
    settings = {
        "rest.port": cluster.port,
        "rest.address": "127.0.0.1",
        "rest.bind-address": "127.0.0.1",
        "jobmanager.rpc.port": cluster.rpc_port,
        # 0: any free port, so several clusters run side by side
        "taskmanager.rpc.port": "0",
        "taskmanager.data.port": 0,
        "blob.server.port": "0",
        "metrics.internal.query-service.port": "0",
        "taskmanager.numberOfTaskSlots": cluster.slots,
        "jobmanager.memory.process.size": "1g",
        "taskmanager.memory.process.size": "1536m",
        "rest.flamegraph.enabled": True,
        ("execution.checkpointing.dir" if new_keys else "state.checkpoints.dir"): (
            (cluster.dir / "checkpoints").as_uri()
        ),
        ("execution.checkpointing.savepoint-dir" if new_keys else "state.savepoints.dir"): (
            (cluster.dir / "savepoints").as_uri()
        ),
        **versions.cluster_settings(cluster.version),  # e.g. 1.17's JVM flags for Java 17
        **cluster.flink_config,
    }
    header = (
        f"# Written by `flinkctl local up` for cluster {cluster.name!r}; rewritten on each up.\n"
    )
    if (shipped / "config.yaml").is_file():  # Flink 1.19+: standard YAML, nested or flat
        import yaml

        flat = _flatten(yaml.safe_load((shipped / "config.yaml").read_text()) or {})
        flat.update(settings)
        text = yaml.safe_dump(flat, sort_keys=False, default_flow_style=False, width=1 << 16)
        (conf / "config.yaml").write_text(header + text)
    else:  # flink-conf.yaml: one `key: value` per line
        flat = {}
        for line in (shipped / "flink-conf.yaml").read_text().splitlines():
            key, sep, value = line.partition(":")
            if sep and not line.lstrip().startswith("#"):
                flat[key.strip()] = value.strip()
        flat.update(settings)
        lines = [f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in flat.items()]
        (conf / "flink-conf.yaml").write_text(header + "\n".join(lines) + "\n")


def _flatten(tree: dict, prefix: str = "") -> dict:
    flat: dict = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _script(cluster: LocalCluster, script: str) -> None:
    """Run one of Flink's bin scripts; its output goes to log/flinkctl-scripts.out."""
    import subprocess

    with (cluster.dir / "log" / "flinkctl-scripts.out").open("ab") as out:
        proc = subprocess.Popen(
            [str(cluster.flink_home / "bin" / script)],
            env=cluster.env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C stops flinkctl, not the script half-way
        )
        try:
            proc.wait(timeout=120)
        except KeyboardInterrupt:  # let the script finish, so its pid files name all it started
            proc.wait(timeout=120)
            raise


def _overview(url: str) -> dict | None:
    """GET /overview, or None when the cluster does not answer."""
    import httpx

    try:
        resp = httpx.get(f"{url}/overview", timeout=2)
        return resp.json() if resp.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def _wait_ready(cluster: LocalCluster, timeout: float, say: Say) -> None:
    """Wait until a TaskManager with a free slot has registered."""
    say("Waiting for the JobManager and a TaskManager")
    deadline = time.monotonic() + timeout
    while True:
        overview = _overview(cluster.url)
        if overview and overview.get("taskmanagers", 0) >= 1 and overview.get("slots-available"):
            return
        running = pids(cluster)
        dead = [role for role, ps in running.items() if not ps]
        if dead:
            raise FlinkctlError(
                f"the {' and '.join(dead)} of cluster {cluster.name!r} exited during start-up\n"
                + _log_tails(cluster)
            )
        if time.monotonic() > deadline:
            raise FlinkctlError(
                f"cluster {cluster.name!r} was not ready within {timeout:.0f}s\n"
                + _log_tails(cluster),
                hint="a slow machine may need a longer --timeout",
            )
        time.sleep(0.5)


def _logs(cluster: LocalCluster, daemon: str, suffix: str = ".log") -> list[Path]:
    found = (cluster.dir / "log").glob(f"flink-*-{daemon}-*{suffix}")
    return sorted(found, key=lambda p: p.stat().st_mtime)


def _log_tails(cluster: LocalCluster) -> str:
    """The last lines of the JobManager's and TaskManager's logs (and .out, where JVMs crash)."""
    parts = []
    for daemon in ROLES:
        for suffix in (".log", ".out"):
            for path in _logs(cluster, daemon, suffix)[-1:]:
                lines = tail(path, LOG_TAIL)
                if lines:
                    parts.append(f"--- last lines of {path} ---\n" + "".join(lines).rstrip())
    return "\n".join(parts) or f"(no logs in {cluster.dir / 'log'})"


def _is_ours(pid: int, cluster: LocalCluster) -> bool:
    """Whether PID is a live process of CLUSTER (not a recycled pid of something else)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (macOS): trust the pid file
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False
    # Flink's daemons run with `--configDir <dir>/conf`; a zombie's cmdline is empty
    return b"\0" + str(cluster.dir / "conf").encode() + b"\0" in cmdline


def _stop(cluster: LocalCluster, say: Say, grace: float = 20.0) -> list[int]:
    """SIGTERM the cluster's processes, SIGKILL what is left after GRACE seconds.

    This is what bin/stop-cluster.sh does too (Flink shuts down cleanly on SIGTERM), but for
    both processes at once and without the script's three JVM start-ups: ~2 s instead of ~9 s.
    """
    targets = [p for ps in pids(cluster).values() for p in ps]
    if not targets:
        return []
    say(f"Stopping cluster {cluster.name!r} (pids {', '.join(map(str, targets))})")
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        left = [p for p in targets if _is_ours(p, cluster)]
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while left and time.monotonic() < deadline:
            time.sleep(0.2)
            left = [p for p in left if _is_ours(p, cluster)]
        if not left:
            break
    else:
        raise FlinkctlError(f"could not stop pids {left} of cluster {cluster.name!r}")
    for pidfile in (cluster.dir / "pid").glob("*.pid"):
        pidfile.unlink()
    return targets
