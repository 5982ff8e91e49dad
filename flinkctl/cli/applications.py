"""`flinkctl applications`: Flink 2.3+ applications (a main() and the jobs it submits)."""

import typer

from flinkctl.cli.common.arguments import ApplicationArgument, application_id
from flinkctl.cli.common.confirm import YesOption, confirm
from flinkctl.cli.common.options import with_output
from flinkctl.cli.invocation import Invocation

app = typer.Typer(no_args_is_help=True)


@app.command("list")
@with_output
def list_(inv: Invocation) -> None:
    """List applications with status, start time, duration and jobs (GET /applications/overview).

    Example:

      flinkctl applications list -o name
    """
    from flinkctl.output.lifecycle import APPLICATIONS

    inv.emit(inv.client().applications(), APPLICATIONS)


@app.command()
@with_output
def show(inv: Invocation, application: ApplicationArgument) -> None:
    """Show an application and its jobs (GET /applications/:applicationid).

    Example:

      flinkctl applications show 'SingleJobApplication(flinkctl-demo)'
    """
    from flinkctl.output.lifecycle import APPLICATION

    inv.emit(inv.client().application(application_id(inv, application)), APPLICATION)


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


@app.command()
@with_output
def exceptions(inv: Invocation, application: ApplicationArgument) -> None:
    """Show an application's exception history (GET /applications/:applicationid/exceptions).

    Example:

      flinkctl applications exceptions 1f2e3d4c -o wide
    """
    from flinkctl.output.jobs import EXCEPTIONS

    inv.emit(
        inv.client().application_exceptions(application_id(inv, application)),
        EXCEPTIONS,
    )


@app.command()
@with_output
def config(inv: Invocation, application: ApplicationArgument) -> None:
    """Show the JobManager configuration an application runs with (GET .../jobmanager/config).

    Uses GET /applications/:applicationid/jobmanager/config.

    Example:

      flinkctl applications config 1f2e3d4c -o json
    """
    from flinkctl.output.cluster import CONFIG_ENTRIES

    inv.emit(
        inv.client().application_config(application_id(inv, application)),
        CONFIG_ENTRIES,
    )
