"""`flinkctl datasets`: cluster data sets (cached intermediate results of batch jobs)."""

import typer

from flinkctl.cli.common.arguments import DatasetArgument
from flinkctl.cli.common.confirm import YesOption, confirm
from flinkctl.cli.common.operations import DATASET_DELETION, status_command
from flinkctl.cli.common.options import with_output
from flinkctl.cli.common.reading import read_command
from flinkctl.cli.common.waiting import Wait, with_wait
from flinkctl.cli.invocation import Invocation

app = typer.Typer(no_args_is_help=True)


app.command(
    "list",
    help="""List cluster data sets and whether each is complete (GET /datasets).

    Example:

      flinkctl datasets list -o json
    """,
)(read_command(lambda c: c.datasets(), "lifecycle.DATASETS"))


@app.command()
@with_output
@with_wait
def delete(inv: Invocation, dataset: DatasetArgument, wait: Wait, yes: YesOption = False) -> None:
    """Delete a cluster data set (DELETE /datasets/:datasetid).

    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl datasets delete 4f1e2d3c4b5a69788796a5b4c3d2e1f0 --wait --yes
    """
    confirm(inv, f"Delete data set {dataset}?", yes)
    DATASET_DELETION.trigger(inv, dataset, lambda client, _: client.delete_dataset(dataset), wait)


app.command(
    "delete-status",
    help="""Show a data set deletion's status (GET /datasets/delete/:triggerid).

    Example:

      flinkctl datasets delete-status 2dc932c3ebed9aa14856cfc66f0244fd --wait
    """,
)(status_command(DATASET_DELETION))
