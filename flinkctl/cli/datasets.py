"""`flinkctl datasets`: cluster data sets (cached intermediate results of batch jobs)."""

from typing import Annotated

import typer

from flinkctl.cli.confirm import YesOption, confirm
from flinkctl.cli.operation import Operation, TriggerIdArgument
from flinkctl.cli.options import with_output
from flinkctl.cli.state import state
from flinkctl.cli.wait import DEFAULT_TIMEOUT, TimeoutOption, WaitOption
from flinkctl.flink import is_hex_id

app = typer.Typer(no_args_is_help=True)


def _dataset_id(value: str) -> str:
    if not is_hex_id(value):
        raise typer.BadParameter(f"{value!r} is not a data set id (32 hex characters)")
    return value


def _deletion(dataset: str | None) -> Operation:
    """A data set deletion (reports at /datasets/delete/:triggerid)."""
    return Operation(
        "data set deletion",
        {"dataset-id": dataset},
        state.client().dataset_delete_status,
        lambda tid: ("datasets", "delete-status", tid),
    )


@app.command("list")
@with_output
def list_() -> None:
    """List cluster data sets and whether each is complete (GET /datasets).

    Example:

      flinkctl datasets list -o json
    """
    from flinkctl.output import render
    from flinkctl.output.lifecycle import DATASETS

    render(state.client().datasets(), DATASETS)


@app.command()
@with_output
def delete(
    dataset: Annotated[
        str,
        typer.Argument(
            help="Data set id (32 hex characters).", callback=_dataset_id, show_default=False
        ),
    ],
    wait: WaitOption = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    yes: YesOption = False,
) -> None:
    """Delete a cluster data set (DELETE /datasets/:datasetid).

    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl datasets delete 4f1e2d3c4b5a69788796a5b4c3d2e1f0 --wait --yes
    """
    confirm(f"Delete data set {dataset}?", yes)
    operation = _deletion(dataset)
    tid = state.client().delete_dataset(dataset)["request-id"]
    operation.follow(tid, wait=wait, timeout=timeout)


@app.command("delete-status")
@with_output
def delete_status(
    trigger: TriggerIdArgument,
    wait: WaitOption = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
) -> None:
    """Show a data set deletion's status (GET /datasets/delete/:triggerid).

    Example:

      flinkctl datasets delete-status 2dc932c3ebed9aa14856cfc66f0244fd --wait
    """
    _deletion(None).show(trigger, wait=wait, timeout=timeout)
