"""`flinkctl cluster`: overview, dashboard configuration, shutdown."""

import typer

from flinkctl.cli.common.confirm import YesOption, confirm
from flinkctl.cli.common.options import with_output
from flinkctl.cli.common.reading import read_command
from flinkctl.cli.invocation import Invocation

app = typer.Typer(no_args_is_help=True)


app.command(
    "overview",
    help="""Show task managers, slots and job counts (GET /overview).

    Example:

      flinkctl cluster overview -o json
    """,
)(read_command(lambda c: c.overview(), "cluster.OVERVIEW"))


app.command(
    "config",
    help="""Show the Flink version, revision, timezone and web features (GET /config).

    Example:

      flinkctl cluster config -o yaml
    """,
)(read_command(lambda c: c.dashboard_config(), "cluster.DASHBOARD_CONFIG"))


@app.command()
@with_output
def shutdown(
    inv: Invocation,
    yes: YesOption = False,
) -> None:
    """Shut down the whole cluster (DELETE /cluster): every job stops.

    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl --context staging cluster shutdown --yes
    """
    client = inv.client()
    confirm(inv, f"Shut down the Flink cluster at {client.ctx.url}?", yes)
    client.shutdown_cluster()
    inv.io.say(f"cluster at {client.ctx.url} is shutting down")
