"""`flinkctl applications`: Flink 2.3+ applications (a main() and the jobs it submits)."""

import typer

from flinkctl.cli.common.arguments import ApplicationArgument, application_id
from flinkctl.cli.common.confirm import YesOption, confirm
from flinkctl.cli.common.options import with_output
from flinkctl.cli.invocation import Invocation, emit, note

app = typer.Typer(no_args_is_help=True)


@app.command("list")
@with_output
def list_() -> None:
    """List applications with status, start time, duration and jobs (GET /applications/overview).

    Example:

      flinkctl applications list -o name
    """
    from flinkctl.output.lifecycle import APPLICATIONS

    emit(Invocation.current().client().applications(), APPLICATIONS)


@app.command()
@with_output
def show(application: ApplicationArgument) -> None:
    """Show an application and its jobs (GET /applications/:applicationid).

    Example:

      flinkctl applications show 'SingleJobApplication(flinkctl-demo)'
    """
    from flinkctl.output.lifecycle import APPLICATION

    emit(Invocation.current().client().application(application_id(application)), APPLICATION)


@app.command()
@with_output
def cancel(
    application: ApplicationArgument,
    yes: YesOption = False,
) -> None:
    """Cancel an application and its jobs (POST /applications/:applicationid/cancel).

    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl applications cancel 1f2e3d4c --yes
    """
    app_id = application_id(application)
    confirm(f"Cancel application {app_id} and its jobs?", yes)
    Invocation.current().client().cancel_application(app_id)
    note(f"application {app_id} is being cancelled")


@app.command()
@with_output
def exceptions(application: ApplicationArgument) -> None:
    """Show an application's exception history (GET /applications/:applicationid/exceptions).

    Example:

      flinkctl applications exceptions 1f2e3d4c -o wide
    """
    from flinkctl.output.jobs import EXCEPTIONS

    emit(
        Invocation.current().client().application_exceptions(application_id(application)),
        EXCEPTIONS,
    )


@app.command()
@with_output
def config(application: ApplicationArgument) -> None:
    """Show the JobManager configuration an application runs with (GET .../jobmanager/config).

    Uses GET /applications/:applicationid/jobmanager/config.

    Example:

      flinkctl applications config 1f2e3d4c -o json
    """
    from flinkctl.output.cluster import CONFIG_ENTRIES

    emit(
        Invocation.current().client().application_config(application_id(application)),
        CONFIG_ENTRIES,
    )
