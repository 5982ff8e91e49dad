"""`flinkctl datasets`: cluster data sets (cached intermediate results of batch jobs)."""

from __future__ import annotations

import re
import time
from typing import Annotated

import typer

from flinkctl.cli.confirm import confirm
from flinkctl.cli.options import with_output
from flinkctl.cli.savepoint import TriggerIdArgument, follow, show_status
from flinkctl.cli.state import state
from flinkctl.cli.wait import DEFAULT_TIMEOUT, TimeoutOption, WaitOption, command

app = typer.Typer(help="Cluster data sets: list, delete.", no_args_is_help=True)

DATASET_ID = re.compile(r"[0-9a-f]{32}")


def _dataset_id(value: str) -> str:
    if not DATASET_ID.fullmatch(value):
        raise typer.BadParameter(f"{value!r} is not a data set id (32 hex characters)")
    return value


def _follow(dataset: str | None, tid: str, *, wait: bool, timeout: float, started: float) -> None:
    client = state.client()
    follow(
        "data set deletion",
        {"dataset-id": dataset},
        tid,
        lambda: client.dataset_delete_status(tid),
        wait=wait,
        timeout=timeout,
        resume=command("datasets", "delete-status", tid, "--wait"),
        started=started,
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
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a cluster data set (DELETE /datasets/:datasetid).

    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl datasets delete 4f1e2d3c4b5a69788796a5b4c3d2e1f0 --wait --yes
    """
    confirm(f"Delete data set {dataset}?", yes)
    started = time.monotonic()
    tid = state.client().delete_dataset(dataset)["request-id"]
    _follow(dataset, tid, wait=wait, timeout=timeout, started=started)


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
    if wait:
        _follow(None, trigger, wait=True, timeout=timeout, started=time.monotonic())
    else:
        show_status(state.client().dataset_delete_status(trigger))
