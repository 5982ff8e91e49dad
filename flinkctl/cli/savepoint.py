"""`flinkctl savepoint`: trigger (optionally waiting), follow and dispose savepoints."""

from typing import Annotated

import typer

from flinkctl.cli.common.arguments import (
    JobArgument,
    SavepointPathArgument,
    job_id,
    savepoint_path,
)
from flinkctl.cli.common.confirm import YesOption, confirm
from flinkctl.cli.common.operations import DISPOSAL, SAVEPOINT, status_command
from flinkctl.cli.common.options import (
    DirAliasOption,
    SavepointDirOption,
    SavepointFormatOption,
    savepoint_target,
    with_output,
)
from flinkctl.cli.common.waiting import Wait, with_wait

app = typer.Typer(no_args_is_help=True)


@app.command()
@with_output
@with_wait
def trigger(
    job: JobArgument,
    savepoint_dir: SavepointDirOption = None,
    cancel: Annotated[
        bool, typer.Option("--cancel", help="Cancel the job after the savepoint.")
    ] = False,
    fmt: SavepointFormatOption = None,
    directory: DirAliasOption = None,
    *,
    wait: Wait,
) -> None:
    """Trigger a savepoint (POST /jobs/:jobid/savepoints) and optionally wait for it.

    The request carries a client-generated triggerId, so a retried request never takes a
    second savepoint. Without --wait it prints the trigger id; with --wait the savepoint's
    location (-o json: job-id, trigger-id, status, location, duration-ms).

    Example:

      flinkctl -c prod savepoint trigger my-job --wait -o json
    """
    jid = job_id(job)
    target = savepoint_target(savepoint_dir or directory, fmt)
    SAVEPOINT.trigger(
        jid,
        lambda client, tid: client.trigger_savepoint(jid, tid, cancel_job=cancel, **target),
        wait,
        ends_job=cancel,
    )


app.command(
    "status",
    help="""Show a savepoint's or stop's status (GET /jobs/:jobid/savepoints/:triggerid).

    Without --wait: the status once (exit 1 if it failed). With --wait: as `trigger --wait`.

    Example:

      flinkctl savepoint status my-job 5e8c0bd2e4b54a2f8d6c1f3a9b7e0d41 --wait
    """,
)(status_command(SAVEPOINT))


@app.command()
@with_output
@with_wait
def dispose(path: SavepointPathArgument, wait: Wait, yes: YesOption = False) -> None:
    """Delete a savepoint's data and metadata (POST /savepoint-disposal).

    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl savepoint dispose file:///savepoints/savepoint-1f2e3d-0a1b2c3d4e5f --wait --yes
    """
    savepoint_path(path)
    confirm(f"Dispose savepoint {path}? Its files are deleted.", yes)
    DISPOSAL.trigger(path, lambda client, _: client.dispose_savepoint(path), wait)


app.command(
    "dispose-status",
    help="""Show a savepoint disposal's status (GET /savepoint-disposal/:triggerid).

    Example:

      flinkctl savepoint dispose-status 5e8c0bd2e4b54a2f8d6c1f3a9b7e0d41 --wait
    """,
)(status_command(DISPOSAL))
