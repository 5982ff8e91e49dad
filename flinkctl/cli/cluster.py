"""`flinkctl cluster`: overview, dashboard configuration, shutdown."""

import typer

from flinkctl.cli.confirm import YesOption, confirm
from flinkctl.cli.options import with_output
from flinkctl.cli.state import state

app = typer.Typer(no_args_is_help=True)


@app.command()
@with_output
def overview() -> None:
    """Show task managers, slots and job counts (GET /overview).

    Example:

      flinkctl cluster overview -o json
    """
    from flinkctl.output import render
    from flinkctl.output.cluster import OVERVIEW

    render(state.client().overview(), OVERVIEW)


@app.command()
@with_output
def config() -> None:
    """Show the Flink version, revision, timezone and web features (GET /config).

    Example:

      flinkctl cluster config -o yaml
    """
    from flinkctl.output import render
    from flinkctl.output.cluster import DASHBOARD_CONFIG

    render(state.client().dashboard_config(), DASHBOARD_CONFIG)


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
    client = state.client()
    confirm(f"Shut down the Flink cluster at {client.ctx.url}?", yes)
    client.shutdown_cluster()
    typer.echo(f"cluster at {client.ctx.url} is shutting down", err=True)
