"""`flinkctl taskmanagers` (alias `tm`): list, show, metrics, logs, thread dump."""

from functools import partial
from typing import Annotated

import typer

from flinkctl.cli.common import logs as logs_
from flinkctl.cli.common import metrics as metrics_
from flinkctl.cli.common import watching
from flinkctl.cli.common.arguments import TaskManagerArgument, taskmanager_id
from flinkctl.cli.common.options import with_output
from flinkctl.cli.invocation import Invocation

app = typer.Typer(no_args_is_help=True)


@app.command("list", cls=watching.Command)
@with_output
def list_(inv: Invocation, interval: watching.WatchOption = None) -> None:
    """List task managers with slots, CPU, memory and last heartbeat (GET /taskmanagers).

    Example:

      flinkctl tm list -o wide --watch
    """
    from flinkctl.output.cluster import TASKMANAGERS

    watching.watch(inv, interval, inv.client().taskmanagers, TASKMANAGERS)


@app.command()
@with_output
def show(inv: Invocation, tm: TaskManagerArgument) -> None:
    """Show one task manager with its memory and resource breakdown (GET /taskmanagers/:id).

    Example:

      flinkctl taskmanagers show 127.0.0.1:3
    """
    from flinkctl.output.cluster import TASKMANAGER

    inv.emit(inv.client().taskmanager(taskmanager_id(inv, tm)), TASKMANAGER)


@app.command()
@with_output
def metrics(
    inv: Invocation,
    tm: Annotated[
        str | None, typer.Argument(help="Task manager id or prefix; all when omitted.")
    ] = None,
    get: metrics_.GetOption = None,
    agg: metrics_.AggOption = None,
) -> None:
    """List or show task manager metrics, per task manager or aggregated over all of them.

    Uses GET /taskmanagers/:id/metrics, or GET /taskmanagers/metrics without TM.

    Example:

      flinkctl tm metrics --get Status.JVM.CPU.Load --agg min,max,avg
    """
    client = inv.client()
    if tm is None:
        metrics_.show(inv, client.taskmanagers_metrics, get, agg, aggregated=True)
    else:
        metrics_.show(inv, partial(client.taskmanager_metrics, taskmanager_id(inv, tm)), get)


@app.command()
@with_output
def logs(
    inv: Invocation,
    tm: TaskManagerArgument,
    name: logs_.FileArgument = None,
    list_: logs_.ListOption = False,
    tail: logs_.TailOption = None,
    follow: logs_.FollowOption = False,
) -> None:
    """Print a task manager's log, as kubectl logs does (GET /taskmanagers/:id/log).

    Without NAME the main log; NAME prints another file (GET /taskmanagers/:id/logs/NAME,
    e.g. the .out file); --list lists the files (GET /taskmanagers/:id/logs). A file the task
    manager cannot send (Flink's "Failed to transfer file") exits 3.

    Example:

      flinkctl tm logs localhost:43071 --tail 100 -f
    """
    client = inv.client()
    tm_id = taskmanager_id(inv, tm)
    hint = f"list its log files: flinkctl taskmanagers logs {tm_id} --list"
    files, read = partial(client.taskmanager_logs, tm_id), partial(client.taskmanager_log, tm_id)
    logs_.show(inv, files, read, name, list_=list_, tail=tail, follow=follow, hint=hint)


@app.command("thread-dump")
@with_output
def thread_dump(inv: Invocation, tm: TaskManagerArgument) -> None:
    """Print a task manager's thread dump as stack traces (GET /taskmanagers/:id/thread-dump).

    Example:

      flinkctl tm thread-dump 127.0.0.1 | grep -A5 'Source'
    """
    from flinkctl.output.cluster import THREAD_DUMP

    inv.emit(inv.client().taskmanager_thread_dump(taskmanager_id(inv, tm)), THREAD_DUMP)
