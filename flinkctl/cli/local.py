"""`flinkctl local`: provision and run a real standalone Flink cluster on this machine."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flinkctl.cli.common.logs import FollowOption, ListOption, TailOption, last
from flinkctl.cli.common.options import duration_option, options_from, with_output
from flinkctl.cli.invocation import Invocation
from flinkctl.local import DEFAULT_FLINK_VERSION, READY_TIMEOUT
from flinkctl.local.demo import Scenario

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from flinkctl.config import TLS
    from flinkctl.local.cluster import Settings
    from flinkctl.output.streams import IO

app = typer.Typer(no_args_is_help=True)

NameOption = Annotated[str, typer.Option("--name", help="Local cluster name.")]


def _say(inv: Invocation, message: str) -> None:
    inv.io.say(message)


def _view():
    """FIELD/VALUE view of a local cluster (the dict of flinkctl.local.cluster.status)."""
    from flinkctl.local.flinkconf import config_args
    from flinkctl.output import Column, View

    return View(
        detail=True,
        name="name",
        columns=[
            Column("Name", "name"),
            Column("State", lambda d: "RUNNING" if d["running"] else "STOPPED"),
            Column("URL", "url"),
            Column("Flink version", "flink-version"),
            Column("JobManager pid", "pids.jobmanager"),
            Column("TaskManager pid", "pids.taskmanager"),
            Column("Slots available", "overview.slots-available", "count"),
            Column("Jobs running", "overview.jobs-running", "count"),
            Column("Demo job", "demo-job-id"),
            Column("Flink config", lambda d: config_args(d["flink-config"])),
            Column("TLS CA file", "tls.ca-file"),
            Column("Flink home", "flink-home", wide=True),
            Column("Directory", "dir", wide=True),
        ],
    )


class _DownloadBars:
    """Rich download bars on stderr, drawn while the next status message has not come."""

    def __init__(self, io: "IO") -> None:
        self.io = io
        self.bar: Progress | None = None
        self.tasks: dict[str, TaskID] = {}

    def update(self, filename: str, done: int, total: int) -> None:
        if self.bar is None:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TransferSpeedColumn,
            )

            columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
            stderr = self.io.console(stderr=True)
            self.bar = Progress(*columns, TransferSpeedColumn(), console=stderr)
            self.bar.start()
        if filename not in self.tasks:
            self.tasks[filename] = self.bar.add_task(filename.split("-")[0], total=total or None)
        self.bar.update(self.tasks[filename], completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _save_context(inv: Invocation, name: str, url: str, tls: "TLS") -> None:
    """Point context NAME at URL with TLS settings TLS (the cluster's certificate, or none); make
    it current only when there is no current context."""
    from flinkctl import config

    with config.editing(inv.config, create=True) as cfg:
        if name in cfg.contexts:
            cfg.contexts[name].url = url
            cfg.contexts[name].tls = tls
        else:
            cfg.contexts[name] = config.Context(name=name, url=url, tls=tls)
        if not cfg.current_context:
            cfg.current_context = name
            note = "now the current context"
        elif cfg.current_context == name:
            note = "the current context"
        else:
            note = f"current context stays {cfg.current_context!r}; use --context {name}"
    _say(inv, f"Context {name!r} -> {url} ({note})")


def _settings(
    flink_version: Annotated[
        str | None,
        typer.Option(
            "--flink-version", help="Flink version to run.", show_default=DEFAULT_FLINK_VERSION
        ),
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", "-p", help="REST/Web UI port.", show_default="8081")
    ] = None,
    slots: Annotated[
        int | None,
        typer.Option("--slots", help="Task slots of each TaskManager.", show_default="2"),
    ] = None,
    taskmanagers: Annotated[
        int | None,
        typer.Option(
            "--taskmanagers", help="How many TaskManagers to start (at most 100).", show_default="1"
        ),
    ] = None,
    flink_home: Annotated[
        Path | None,
        typer.Option(
            "--flink-home", help="Use this Flink distribution instead of downloading one."
        ),
    ] = None,
    config: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            "-D",
            metavar="KEY=VALUE",
            help="A Flink option, e.g. -D jobmanager.scheduler=adaptive (repeatable).",
        ),
    ] = None,
    tls: Annotated[
        bool | None,
        typer.Option(
            "--tls/--no-tls",
            help="Serve the REST API over HTTPS with a self-signed certificate.",
            show_default="off",
        ),
    ] = None,
) -> "Settings":
    from flinkctl.local.cluster import Settings
    from flinkctl.local.flinkconf import parse_config

    flink_config = parse_config(config) if config else None
    return Settings(flink_version, flink_home, port, slots, taskmanagers, flink_config, tls)


@app.command()
@with_output
@options_from(_settings, into="settings")
def up(
    inv: Invocation,
    name: NameOption = "local",
    *,
    settings: "Settings",
    demo: Annotated[
        bool, typer.Option("--demo", help="Also run the bundled endless, checkpointed demo job.")
    ] = False,
    timeout: Annotated[
        float,
        duration_option(
            "--timeout",
            help="How long to wait for the cluster (and demo job): seconds, or 45s, 5m.",
        ),
    ] = READY_TIMEOUT,
) -> None:
    """Start a standalone Flink cluster here (a JobManager, --taskmanagers TaskManagers), wait for it.

    Flink is downloaded once from PyPI, checksum-verified, into ~/.cache/flinkctl/flink.
    Needs Java 11 or newer (17 recommended) on PATH or in JAVA_HOME.
    Config, logs, checkpoints and savepoints go to ~/.local/state/flinkctl/local/NAME.
    Creates or updates the context NAME; makes it current if there is no current context.
    -D KEY=VALUE sets any Flink option, over flinkctl's defaults (not the REST port or slots).
    Prints the cluster as `flinkctl local status` does.
    A stopped cluster restarts with its previous version, port, slots, TaskManagers and -D
    options.
    Options given again replace those (any -D replaces all previous -D options).
    On a cluster that already runs, it does nothing.
    --tls makes a certificate for 127.0.0.1 (keytool; kept in the cluster's tls/ directory)
    and gives the context its CA file; with -D security.ssl.rest.authentication-enabled=true
    Flink also asks for a client certificate (mutual TLS), which the context gets too (openssl).

    Example:

      flinkctl local up --demo -D jobmanager.scheduler=adaptive --slots 4

      flinkctl local up --tls -D security.ssl.rest.authentication-enabled=true
    """
    from flinkctl.local import cluster

    bars = _DownloadBars(inv.io)

    def say(message: str) -> None:
        bars.close()
        _say(inv, message)

    try:
        local, already = cluster.up(
            name,
            settings,
            demo=demo,
            timeout=timeout,
            say=say,
            progress=bars.update if inv.io.err_is_terminal else None,
        )
    finally:
        bars.close()
    _say(inv, f"Cluster {name!r} {'is already running' if already else 'is up'} at {local.url}")
    _save_context(inv, name, local.url, local.tls_settings())
    inv.emit(cluster.status(name), _view())


def _forget_context(inv: Invocation, name: str, url: str) -> None:
    """Delete context NAME if it points at URL, a purged cluster's (unset, if it was current),
    as `kind delete cluster` deletes its kubeconfig context."""
    from flinkctl import config
    from flinkctl.errors import FlinkctlError

    try:
        context = config.load(inv.config, create=True).contexts.get(name)
        if context is None or context.url != url:
            return
        with config.editing(inv.config) as cfg:
            del cfg.contexts[name]
            if cfg.current_context == name:
                cfg.current_context = None
    except FlinkctlError as exc:  # the cluster is gone all the same
        _say(inv, f"warning: context {name!r} kept: {exc.message}")
        return
    _say(inv, f"Context {name!r} deleted")


@app.command()
@with_output
def demo(
    inv: Invocation,
    scenario: Annotated[
        Scenario,
        typer.Argument(help="The healthy job, or one with a known problem for `flinkctl doctor`."),
    ] = Scenario.healthy,
    job_name: Annotated[
        str | None,
        typer.Option("--job-name", help="Name the job.", show_default="flinkctl-demo[-SCENARIO]"),
    ] = None,
    timeout: Annotated[
        float,
        duration_option(
            "--timeout",
            help="How long to wait until its tasks run; then the job is cancelled (exit 1).",
        ),
    ] = 60.0,
) -> None:
    """Run the bundled demo job, healthy or with a known problem, and wait until its tasks run.

    Runs on the current context's cluster (or --context/--url), any Flink from 1.17 on:
    backpressure (a slow vertex, 'Slow', holds up a fast source), skew (every record to one
    key: one subtask of 'Hot key' busy), checkpoints (a snapshot that outlasts the
    checkpoint timeout: every checkpoint expires), restarts (fails every 5 s: a crash loop),
    watermarks (one source split with frozen event time: one subtask of 'Event time' holds
    its watermark back). Each is named for the rule of `flinkctl doctor` that finds it;
    doctor judges rates once a job has run for a minute. skew takes 3 task slots,
    watermarks 2, the others 1. Prints the job's id, as `jars run` does (-o json: job-id,
    name, scenario).
    Refused while a job of its name runs (exit 2: `flinkctl doctor NAME` stays unambiguous;
    of two runs racing on one name, the later cancels its job), or when the cluster can never
    give its slots (exit 1). Its upload of the jar is deleted once Flink has the job. A job
    whose tasks do not all run within --timeout, or whose wait Ctrl-C or SIGTERM stops
    (exit 130, 143), is cancelled.

    Example:

      flinkctl local up --slots 10 && flinkctl local demo skew

      sleep 90 && flinkctl doctor flinkctl-demo-skew
    """
    from flinkctl.local import demo as demo_job
    from flinkctl.output.lifecycle import STARTED

    job_id = demo_job.run(
        inv.client(),
        scenario=scenario,
        name=job_name,
        timeout=timeout,
        say=inv.io.say,
        command_line=inv.command_line,
    )
    name = job_name or scenario.job_name
    inv.emit({"job-id": job_id, "name": name, "scenario": scenario.value}, STARTED)
    inv.note(f"Diagnose it once it has run for a minute: {inv.command_line('doctor', name)}")


@app.command()
@with_output
def status(inv: Invocation, name: NameOption = "local") -> None:
    """Show whether a local cluster runs, its version, URL, pids and Flink's /overview.

    Example:

      flinkctl local status -o json
    """
    from flinkctl.local import cluster

    inv.emit(cluster.status(name), _view())


@app.command()
@with_output
def down(
    inv: Invocation,
    name: NameOption = "local",
    purge: Annotated[
        bool,
        typer.Option("--purge", help="Also delete its directory: logs, checkpoints, savepoints."),
    ] = False,
) -> None:
    """Stop a local cluster; no Flink process of it is left behind.

    --purge also deletes the context `local up` made for it, unless it points elsewhere now.

    Example:

      flinkctl local down --name local --purge
    """
    from flinkctl.local import cluster
    from flinkctl.local.state import load

    url = load(name).url if purge else None
    stopped = cluster.down(name, purge=purge, say=lambda message: _say(inv, message))
    _say(
        inv,
        f"Cluster {name!r} {'stopped' if stopped else 'was not running'}"
        + (", purged" if purge else ""),
    )
    if url is not None:
        _forget_context(inv, name, url)


@app.command()
@with_output
def logs(
    inv: Invocation,
    file: Annotated[
        str | None, typer.Argument(help="A file from --list (default: the JobManager log).")
    ] = None,
    name: NameOption = "local",
    taskmanager: Annotated[
        bool, typer.Option("--taskmanager", "--tm", help="The TaskManager's log.")
    ] = False,
    list_: ListOption = False,
    tail: TailOption = None,
    follow: FollowOption = False,
) -> None:
    """Print a local cluster's JobManager log (or TaskManager log, or any file of its log dir).

    Example:

      flinkctl local logs --taskmanager --tail 50 --follow
    """
    from flinkctl.errors import NotFoundError
    from flinkctl.local import logs as local_logs
    from flinkctl.local.state import load
    from flinkctl.output import View
    from flinkctl.output.cluster import LOG_FILES

    if list_:
        files = [
            {"name": p.name, "size": p.stat().st_size, "mtime": int(p.stat().st_mtime * 1000)}
            for p in local_logs.log_files(name)
        ]
        inv.emit(files, View(columns=LOG_FILES.columns, name="name"))
        return
    if file:
        path = load(name).dir / "log" / Path(file).name
        if not path.is_file():
            raise NotFoundError(f"no log file {file!r} in cluster {name!r}", hint="see --list")
    else:
        path = local_logs.log_file(name, taskmanager=taskmanager)
    data = path.read_bytes()
    lines = data.decode(errors="replace").splitlines(keepends=True)
    inv.io.write("".join(last(lines, tail)))
    inv.io.out.flush()
    if follow:
        for line in local_logs.follow(path, len(data)):
            inv.io.write(line)
            inv.io.out.flush()
