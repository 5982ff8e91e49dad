"""A local cluster's directory and its `cluster.json` (version, FLINK_HOME, ports, -D options).

Each cluster has a directory `$FLINKCTL_LOCAL_HOME/<name>/` (default
`$XDG_STATE_HOME/flinkctl/local/<name>/`) with its own `conf/`, `log/`, `pid/`, `checkpoints/`,
`savepoints/` and `cluster.json`; the distribution itself is shared from the cache (see
distribution.py).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flinkctl.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    from flinkctl.client import FlinkClient
    from flinkctl.config import TLS

DEFAULT_NAME = "local"
STATE_FILE = "cluster.json"


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
    taskmanagers: int = 1
    demo_job_id: str | None = None
    # extra Flink configuration (`up -D KEY=VALUE`), written last into the cluster's config
    flink_config: dict[str, str] = field(default_factory=dict)
    tls: bool = False  # REST over TLS with a self-signed certificate in tls_dir (`up --tls`)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def tls_dir(self) -> Path:
        return self.dir / "tls"

    def tls_settings(self) -> TLS:
        """The TLS settings of a context for this cluster (none without TLS)."""
        from flinkctl.config import TLS
        from flinkctl.local import tls

        if not self.tls:
            return TLS()
        return tls.client_settings(self.tls_dir, tls.is_mutual(self.flink_config))

    def save(self) -> None:
        data = {
            "flink-version": self.version,
            "flink-home": str(self.flink_home),
            "port": self.port,
            "rpc-port": self.rpc_port,
            "slots": self.slots,
            "taskmanagers": self.taskmanagers,
            "demo-job-id": self.demo_job_id,
            "flink-config": self.flink_config,
            "tls": self.tls,
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

    def client(
        self, timeout: float | None = None, retry_budget: float | None = None
    ) -> FlinkClient:
        """A FlinkClient for this cluster's REST API; TIMEOUT: seconds per request (connecting
        included), RETRY_BUDGET: seconds to retry, instead of the usual ones."""
        from flinkctl.client import FlinkClient
        from flinkctl.config import Context

        ctx = Context(name=self.name, url=self.url, tls=self.tls_settings())
        if timeout is not None:
            ctx.timeout = ctx.connect_timeout = timeout
        if retry_budget is not None:
            ctx.retry_budget = retry_budget
        return FlinkClient(ctx)


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
        taskmanagers=data.get("taskmanagers", 1),
        demo_job_id=data.get("demo-job-id"),
        flink_config=data.get("flink-config") or {},
        tls=bool(data.get("tls")),
    )
