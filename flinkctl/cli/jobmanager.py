"""`flinkctl jobmanager`: configuration, metrics, logs, thread dump, environment."""

import typer

from flinkctl.cli.common import logs as logs_
from flinkctl.cli.common import metrics as metrics_
from flinkctl.cli.common.options import with_output
from flinkctl.cli.common.reading import read_command
from flinkctl.cli.invocation import Invocation

app = typer.Typer(no_args_is_help=True)


app.command(
    "config",
    help="""Show the cluster configuration (GET /jobmanager/config).

    Example:

      flinkctl jobmanager config -o name | grep checkpoint
    """,
)(read_command(lambda c: c.jobmanager_config(), "cluster.CONFIG_ENTRIES"))


@app.command()
@with_output
def metrics(inv: Invocation, get: metrics_.GetOption = None) -> None:
    """List JobManager metric ids, or show values with --get (GET /jobmanager/metrics).

    Example:

      flinkctl jobmanager metrics --get 'Status.JVM.Memory.Heap.*'
    """
    metrics_.show(inv, inv.client().jobmanager_metrics, get)


@app.command()
@with_output
def logs(
    inv: Invocation,
    name: logs_.FileArgument = None,
    list_: logs_.ListOption = False,
    tail: logs_.TailOption = None,
    follow: logs_.FollowOption = False,
) -> None:
    """Print the JobManager's log, as kubectl logs does (GET /jobmanager/log).

    Without NAME the main log; NAME prints another file (GET /jobmanager/logs/NAME, e.g. the
    .out file); --list lists the files (GET /jobmanager/logs).

    Example:

      flinkctl jobmanager logs --tail 50 --follow
    """
    client = inv.client()
    hint = "list its log files: flinkctl jobmanager logs --list"
    read = client.jobmanager_log
    logs_.show(
        inv, client.jobmanager_logs, read, name, list_=list_, tail=tail, follow=follow, hint=hint
    )


app.command(
    "thread-dump",
    help="""Print the JobManager's thread dump as stack traces (GET /jobmanager/thread-dump).

    Example:

      flinkctl jobmanager thread-dump | less
    """,
)(read_command(lambda c: c.jobmanager_thread_dump(), "cluster.THREAD_DUMP"))


app.command(
    "environment",
    help="""Show the JobManager's JVM and classpath (GET /jobmanager/environment, Flink 1.16+).

    Example:

      flinkctl jobmanager environment -o wide
    """,
)(read_command(lambda c: c.jobmanager_environment(), "cluster.ENVIRONMENT"))
