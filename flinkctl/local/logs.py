"""A local cluster's log files: the list, the current JobManager or TaskManager log, the last
lines of each (for start-up failures), and following one as it grows."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

from flinkctl.errors import NotFoundError
from flinkctl.local.processes import ROLES, SCRIPT_MARK, script_output
from flinkctl.local.state import DEFAULT_NAME, LocalCluster, load

LOG_TAIL = 15  # lines of each log shown when a cluster fails to start


def log_files(name: str = DEFAULT_NAME) -> list[Path]:
    """All files in the log directory of cluster NAME, oldest first."""
    return sorted((load(name).dir / "log").iterdir(), key=lambda p: p.stat().st_mtime)


def log_file(name: str = DEFAULT_NAME, *, taskmanager: bool = False) -> Path:
    """The current JobManager (or TaskManager) log file of cluster NAME."""
    cluster = load(name)
    daemon = "taskexecutor" if taskmanager else "standalonesession"
    found = daemon_logs(cluster, daemon)
    if not found:
        role = "TaskManager" if taskmanager else "JobManager"
        raise NotFoundError(f"cluster {name!r} has no {role} log yet")
    return found[-1]


def daemon_logs(cluster: LocalCluster, daemon: str, suffix: str = ".log") -> list[Path]:
    """The SUFFIX files of one of Flink's DAEMONs (see processes.ROLES), oldest first."""
    found = (cluster.dir / "log").glob(f"flink-*-{daemon}-*{suffix}")
    return sorted(found, key=lambda p: p.stat().st_mtime)


def log_tails(cluster: LocalCluster, since: float) -> str:
    """The last lines of the JobManager's and TaskManager's logs (and .out, where JVMs crash)
    written since SINCE (epoch seconds, to the second): a daemon that failed before it logged
    has only an earlier run's. Then those of the last script's output (a bad setting that a
    daemon's start script refused, before any JVM, is named there)."""

    def written(path: Path) -> bool:
        return path.exists() and path.stat().st_mtime >= int(since)

    parts = []
    for daemon in ROLES:
        for suffix in (".log", ".out"):
            for path in daemon_logs(cluster, daemon, suffix)[-1:]:
                lines = tail(path, LOG_TAIL) if written(path) else []
                if lines:
                    parts.append(f"--- last lines of {path} ---\n" + "".join(lines).rstrip())
    scripts = script_output(cluster)
    if written(scripts):
        lines = tail(scripts, LOG_TAIL * 4)
        marks = [i for i, line in enumerate(lines) if line.startswith(SCRIPT_MARK)]
        last_run = lines[marks[-1] + 1 :] if marks else lines
        if last_run:
            parts.append(f"--- {scripts} ---\n" + "".join(last_run[-LOG_TAIL:]).rstrip())
    return "\n".join(parts) or f"(no log written since the start in {cluster.dir / 'log'})"


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
