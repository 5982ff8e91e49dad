"""`flinkctl subtasks`: one subtask of a vertex: its attempts, metrics and accumulators."""

from typing import Annotated

import typer

from flinkctl.cli.common import metrics as metrics_
from flinkctl.cli.common.arguments import IndexArgument, JobArgument, VertexArgument, job_and_vertex
from flinkctl.cli.common.options import options_from, with_output
from flinkctl.cli.invocation import Invocation
from flinkctl.flink import objects

app = typer.Typer(no_args_is_help=True)

AttemptOption = Annotated[
    int | None,
    typer.Option("--attempt", min=0, help="Execution attempt; the current one when omitted."),
]


def _subtask(
    inv: Invocation, job: JobArgument, vertex: VertexArgument, index: IndexArgument
) -> tuple[str, str, int]:
    """(job id, vertex id, INDEX), after checking INDEX is one of the vertex's subtasks."""
    from flinkctl.errors import NotFoundError
    from flinkctl.flink import JobVertex

    jid, vid, details = job_and_vertex(inv, job, vertex)
    vertices = objects(details.get("vertices"))
    found = next((v for v in vertices if v.get("id") == vid), JobVertex())
    parallelism = found.get("parallelism")
    if isinstance(parallelism, int) and index >= parallelism:
        raise NotFoundError(
            f"subtask {index} not found: vertex {found.get('name')!r} has {parallelism} "
            f"subtask{'s' if parallelism != 1 else ''} (0..{parallelism - 1})"
        )
    return jid, vid, index


# JOB VERTEX INDEX, resolved: a command's `subtask` parameter
with_subtask = options_from(_subtask, into="subtask")
Subtask = tuple[str, str, int]


@app.command()
@with_output
@with_subtask
def show(inv: Invocation, subtask: Subtask, attempt: AttemptOption = None) -> None:
    """Show a subtask's current (or given) execution attempt and the time spent in each state.

    Uses GET .../vertices/:vertexid/subtasks/:index, or .../subtasks/:index/attempts/:attempt.

    Example:

      flinkctl subtasks show flinkctl-demo b717 0 --attempt 0
    """
    from flinkctl.output.vertices import SUBTASK

    inv.emit(inv.client().subtask(*subtask, attempt), SUBTASK)


@app.command()
@with_output
@with_subtask
def metrics(inv: Invocation, subtask: Subtask, get: metrics_.GetOption = None) -> None:
    """List a subtask's metric ids, or show values with --get (GET .../subtasks/:index/metrics).

    Example:

      flinkctl subtasks metrics flinkctl-demo b717 0 --get 'numRecords*'
    """
    from functools import partial

    metrics_.show(inv, partial(inv.client().subtask_metrics, *subtask), get)


@app.command()
@with_output
@with_subtask
def accumulators(inv: Invocation, subtask: Subtask, attempt: AttemptOption = None) -> None:
    """Show the user accumulators of a subtask's attempt (GET .../attempts/:attempt/accumulators).

    Without --attempt, the current attempt (one GET .../subtasks/:index first).

    Example:

      flinkctl subtasks accumulators flinkctl-demo b717 0
    """
    from flinkctl.output.vertices import USER_ACCUMULATORS

    inv.emit(inv.client().subtask_accumulators(*subtask, attempt), USER_ACCUMULATORS)
