"""`flinkctl cluster`: overview, dashboard configuration, shutdown."""

import typer

from flinkctl.cli.common.confirm import YesOption, confirm
from flinkctl.cli.common.options import with_output
from flinkctl.cli.invocation import Invocation, emit

app = typer.Typer(no_args_is_help=True)


@app.command()
@with_output
def overview() -> None:
    """Show task managers, slots and job counts (GET /overview).

    Example:

      flinkctl cluster overview -o json
    """
    from flinkctl.output.cluster import OVERVIEW

    emit(Invocation.current().client().overview(), OVERVIEW)


@app.command()
@with_output
def config() -> None:
    """Show the Flink version, revision, timezone and web features (GET /config).

    Example:

      flinkctl cluster config -o yaml
    """
    from flinkctl.output.cluster import DASHBOARD_CONFIG

    emit(Invocation.current().client().dashboard_config(), DASHBOARD_CONFIG)


@app.command()
@with_output
def shutdown(
    yes: YesOption = False,
) -> None:
    """Shut down the whole cluster (DELETE /cluster): every job stops.

    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl --context staging cluster shutdown --yes
    """
    client = Invocation.current().client()
    confirm(f"Shut down the Flink cluster at {client.ctx.url}?", yes)
    client.shutdown_cluster()
    typer.echo(f"cluster at {client.ctx.url} is shutting down", err=True)
