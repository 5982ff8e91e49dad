"""`flinkctl applications`: Flink 2.3+ applications (a main() and the jobs it submits)."""

import typer

from flinkctl.cli.common.arguments import ApplicationArgument, application_id
from flinkctl.cli.common.confirm import YesOption, confirm
from flinkctl.cli.common.options import with_output
from flinkctl.cli.common.reading import read_command
from flinkctl.cli.invocation import Invocation

app = typer.Typer(no_args_is_help=True)


app.command(
    "list",
    help="""List applications with status, start time, duration and jobs
    (GET /applications/overview).

    Example:

      flinkctl applications list -o name
    """,
)(read_command(lambda c: c.applications(), "lifecycle.APPLICATIONS"))


app.command(
    "show",
    help="""Show an application and its jobs (GET /applications/:applicationid).

    Example:

      flinkctl applications show 'SingleJobApplication(flinkctl-demo)'
    """,
)(read_command(lambda c, aid: c.application(aid), "lifecycle.APPLICATION", of="application"))


@app.command()
@with_output
def cancel(
    inv: Invocation,
    application: ApplicationArgument,
    yes: YesOption = False,
) -> None:
    """Cancel an application and its jobs (POST /applications/:applicationid/cancel).

    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl applications cancel 1f2e3d4c --yes
    """
    app_id = application_id(inv, application)
    confirm(inv, f"Cancel application {app_id} and its jobs?", yes)
    inv.client().cancel_application(app_id)
    inv.note(f"application {app_id} is being cancelled")


app.command(
    "exceptions",
    help="""Show an application's exception history (GET /applications/:applicationid/exceptions).

    Example:

      flinkctl applications exceptions 1f2e3d4c -o wide
    """,
)(read_command(lambda c, aid: c.application_exceptions(aid), "jobs.EXCEPTIONS", of="application"))


app.command(
    "config",
    help="""Show the JobManager configuration an application runs with (GET .../jobmanager/config).

    Uses GET /applications/:applicationid/jobmanager/config.

    Example:

      flinkctl applications config 1f2e3d4c -o json
    """,
)(
    read_command(
        lambda c, aid: c.application_config(aid), "cluster.CONFIG_ENTRIES", of="application"
    )
)
