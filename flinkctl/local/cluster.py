"""Bring a standalone Flink cluster (one JobManager, one or more TaskManagers) up on this machine, down
again, and describe it: the orchestration over state, flinkconf, processes, logs and ports."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flinkctl.client.base import parse_version
from flinkctl.client.poller import Poller
from flinkctl.errors import FlinkctlError, UsageError
from flinkctl.flink import ClusterOverview
from flinkctl.local import DEFAULT_FLINK_VERSION, READY_TIMEOUT, distribution, processes
from flinkctl.local.flinkconf import config_args, write_conf
from flinkctl.local.logs import log_tails
from flinkctl.local.ports import check_port_free, free_port
from flinkctl.local.processes import Say
from flinkctl.local.state import DEFAULT_NAME, STATE_FILE, LocalCluster, cluster_dir, load
from flinkctl.signals import held_back, signals_interrupt

DEFAULT_PORT = 8081
DEFAULT_SLOTS = 2
DEFAULT_TASKMANAGERS = 1
MAX_TASKMANAGERS = 100  # each a JVM on this machine
JAVA_INT_MAX = 2**31 - 1


@dataclass(frozen=True)
class Settings:
    """What `up` asks a cluster to run with; None is "as its previous run, else the default":
    DEFAULT_FLINK_VERSION, port 8081, 2 slots, one TaskManager, no extra Flink options, no TLS.

    FLINK_CONFIG (flinkconf.parse_config) replaces the previous run's options as a whole; TLS
    is a self-signed certificate for the REST API (see local/tls.py).
    """

    version: str | None = None
    flink_home: Path | None = None
    port: int | None = None
    slots: int | None = None
    taskmanagers: int | None = None
    flink_config: dict[str, str] | None = None
    tls: bool | None = None

    def __post_init__(self) -> None:
        if self.version is not None:
            distribution.check_version(self.version)
        for option, value, most in (
            ("--port", self.port, 65535),
            ("--slots", self.slots, JAVA_INT_MAX),  # Flink reads it as an int
            ("--taskmanagers", self.taskmanagers, MAX_TASKMANAGERS),
        ):
            if value is not None and not 1 <= value <= most:
                raise UsageError(f"{option} must be from 1 to {most}, not {value}")

    def after(self, previous: LocalCluster, home_kept: bool) -> Settings:
        """These settings for a restart of PREVIOUS: what they do not ask for stays as it was
        (its distribution when HOME_KEPT, that is still there, else its version)."""
        home, version = self.flink_home, self.version
        if not (version or home):
            if home_kept:
                home = previous.flink_home
            else:
                version = previous.version
        return Settings(
            version,
            home,
            self.port or previous.port,
            self.slots or previous.slots,
            self.taskmanagers or previous.taskmanagers,
            self.flink_config or previous.flink_config,
            previous.tls if self.tls is None else self.tls,
        )

    def check_same(self, cluster: LocalCluster) -> None:
        """Refuse to ask a running CLUSTER for something else than it runs with."""
        home = self.flink_home and self.flink_home.resolve()
        options = config_args(cluster.flink_config)
        asked = {  # what: (asked for, has, has as shown)
            "version": (self.version, cluster.version, cluster.version),
            "port": (self.port, cluster.port, cluster.port),
            "slots per TaskManager": (self.slots, cluster.slots, cluster.slots),
            "TaskManager count": (self.taskmanagers, cluster.taskmanagers, cluster.taskmanagers),
            "flink home": (home, cluster.flink_home, cluster.flink_home),
            "configuration": (
                self.flink_config,
                cluster.flink_config,
                options or "(no -D options)",
            ),
            "TLS": (self.tls, cluster.tls, "on" if cluster.tls else "off"),
        }
        for what, (want, have, shown) in asked.items():
            if want not in (None, {}) and want != have:
                raise UsageError(
                    f"cluster {cluster.name!r} is already running with {what} {shown}",
                    hint=f"stop it first: flinkctl local down --name {cluster.name}",
                )


def up(
    name: str = DEFAULT_NAME,
    settings: Settings = Settings(),
    *,
    demo: bool = False,
    timeout: float = READY_TIMEOUT,
    say: Say | None = None,
    progress: distribution.Progress | None = None,
) -> tuple[LocalCluster, bool]:
    """Start cluster NAME with SETTINGS (provisioning Flink first if needed) and wait until it
    is ready; with DEMO, run the demo job too.

    Returns the cluster and whether it was already running (then SETTINGS must be what it runs
    with). On any failure (Ctrl-C, SIGTERM and SIGHUP included) whatever was started is stopped
    again, and a stopped cluster's recorded settings stay as they were.
    """
    say = say or (lambda _msg: None)
    cdir = cluster_dir(name)
    previous = None  # the state of a stopped cluster, put back if this start fails
    if (cdir / STATE_FILE).exists():
        existing = load(name)
        running = processes.pids(existing)
        if all(running.values()) and _overview(existing):
            settings.check_same(existing)
            if demo:
                from flinkctl.local import demo as demo_job

                with existing.client() as client:
                    found = demo_job.find(client)
                existing.demo_job_id = found or _run_demo(existing, timeout, say)
                existing.save()
            return existing, True
        if any(running.values()):
            say(f"Cluster {name!r} is half up; stopping it first")
            processes.stop(existing, say)
        settings = settings.after(existing, existing.flink_home.is_dir())
        previous = existing

    # cheap checks first, the download last
    home = distribution.check_flink_home(settings.flink_home) if settings.flink_home else None
    if home:
        version = distribution.home_version(home)
    else:
        version = distribution.check_version(settings.version or DEFAULT_FLINK_VERSION)
    port = settings.port or DEFAULT_PORT
    check_port_free(port)
    distribution.find_java(11 if parse_version(version) >= (2,) else 8)
    if not home:
        if not distribution.cached_home(version):
            say(f"Downloading Flink {version} (once; cached in {distribution.cache_root()})")
        home = distribution.provision(version, progress)

    cluster = LocalCluster(
        name,
        cdir,
        version,
        home,
        port,
        free_port(),
        settings.slots or DEFAULT_SLOTS,
        taskmanagers=settings.taskmanagers or DEFAULT_TASKMANAGERS,
        flink_config=settings.flink_config or {},
        tls=bool(settings.tls),
    )
    for sub in ("conf", "log", "pid", "checkpoints", "savepoints"):
        (cdir / sub).mkdir(parents=True, exist_ok=True)
    for stale in (cdir / "pid").glob("*.pid"):
        stale.unlink()
    if cluster.tls:
        from flinkctl.local import tls as local_tls

        local_tls.ensure(cluster.tls_dir, local_tls.is_mutual(cluster.flink_config))
    write_conf(cluster)
    cluster.save()

    say(f"Starting Flink {version} cluster {name!r} on {cluster.url}")
    try:
        with signals_interrupt():
            started = time.time()
            processes.run_script(cluster, "start-cluster.sh")
            _wait_ready(cluster, timeout, say, started)
            if demo:
                cluster.demo_job_id = _run_demo(cluster, timeout, say)
                cluster.save()
    except BaseException:
        with held_back():  # a second signal must not cut the cleanup short
            processes.stop(cluster, say)
            if previous is not None:  # a plain `up` starts it as it ran before
                previous.save()
        raise
    return cluster, False


def down(name: str = DEFAULT_NAME, *, purge: bool = False, say: Say | None = None) -> list[int]:
    """Stop cluster NAME and make sure no process of it is left; return the pids stopped.

    With PURGE, also delete its directory (config, logs, checkpoints, savepoints).
    """
    import shutil

    cluster = load(name)
    stopped = processes.stop(cluster, say or (lambda _msg: None))
    if purge:
        shutil.rmtree(cluster.dir)
    return stopped


def status(name: str = DEFAULT_NAME) -> dict[str, Any]:
    """A JSON-ready description of cluster NAME, with Flink's /overview when it answers."""
    cluster = load(name)
    running = processes.pids(cluster)
    overview = _overview(cluster) if running["jobmanager"] else None
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
        "tls": cluster.tls_settings().to_dict() or None,
        "overview": overview,
    }


# -- internals ---------------------------------------------------------------------------------


def _run_demo(cluster: LocalCluster, timeout: float, say: Say) -> str:
    from flinkctl.local import demo

    say("Submitting the demo job")
    with cluster.client() as client:
        return demo.run(client, timeout=timeout)


def _overview(cluster: LocalCluster) -> ClusterOverview | None:
    """Flink's /overview of CLUSTER, or None when it does not answer (within 2 s, no retries)."""
    try:
        with cluster.client(timeout=2, retry_budget=0) as client:
            return client.overview()
    except FlinkctlError:
        return None


def _wait_ready(cluster: LocalCluster, timeout: float, say: Say, started: float) -> None:
    """Wait until every TaskManager has registered and a slot is free; a failure shows the logs
    written since STARTED (epoch seconds)."""
    wanted = cluster.taskmanagers
    say(
        f"Waiting for the JobManager and {'a TaskManager' if wanted == 1 else f'{wanted} TaskManagers'}"
    )
    for _ in Poller.within(timeout).rounds():
        overview = _overview(cluster)
        if (
            overview
            and overview.get("taskmanagers", 0) >= wanted
            and overview.get("slots-available")
        ):
            return
        dead = [role for role, ps in processes.pids(cluster).items() if not ps]
        if dead:
            raise FlinkctlError(
                f"the {' and '.join(dead)} of cluster {cluster.name!r} exited during start-up\n"
                + log_tails(cluster, started)
            )
    raise FlinkctlError(
        f"cluster {cluster.name!r} was not ready within {timeout:.0f}s\n"
        + log_tails(cluster, started),
        hint="a slow machine may need a longer --timeout",
    )
