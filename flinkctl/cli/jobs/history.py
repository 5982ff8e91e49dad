"""`flinkctl jobs history`: the deploy revisions of a job name."""

from typing import Annotated

import typer

from flinkctl.cli.common.options import CatalogOption, catalog_at, with_output
from flinkctl.cli.invocation import Invocation

app = typer.Typer(no_args_is_help=True)


@app.command()
@with_output
def history(
    inv: Invocation,
    name: Annotated[str, typer.Argument(help="The job's name.", show_default=False)],
    catalog: CatalogOption = None,
) -> None:
    """Show the deploy revisions of the job named NAME, oldest first.

    The jobs of that name the cluster still knows (running, finished, cancelled, failed), each
    with the revision record it carries, merged with this machine's catalog (which also knows
    jobs the cluster has forgotten): revision, job id, state, jar, arguments, parallelism,
    restored from, start time and the health gate's outcome. -o json prints one object per job.

    Example:

      flinkctl jobs history orders-etl -o wide
    """
    from flinkctl.output.deploy import HISTORY
    from flinkctl.workflows.revisions import history as revisions

    with catalog_at(inv, catalog) as local:
        found = revisions(inv.client(), local, name)
    inv.emit(found.rows(), HISTORY)
