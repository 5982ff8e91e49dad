"""`flinkctl subtasks`: one subtask of a vertex: its attempts, metrics and accumulators."""

from typing import Annotated

import typer

from flinkctl.cli.common import metrics as metrics_
from flinkctl.cli.common.arguments import IndexArgument, JobArgument, VertexArgument, job_and_vertex
from flinkctl.cli.common.options import with_output
from flinkctl.cli.invocation import Invocation
from flinkctl.flink import objects

app = typer.Typer(no_args_is_help=True)

AttemptOption = Annotated[
    int | None,
    typer.Option("--attempt", min=0, help="Execution attempt; the current one when omitted."),
]


def _resolve(inv: Invocation, job: str, vertex: str, index: int) -> tuple[str, str]:
    """Job and vertex ids, after checking INDEX is one of the vertex's subtasks."""
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
    return jid, vid


@app.command()
@with_output
def show(
    inv: Invocation,
    job: JobArgument,
    vertex: VertexArgument,
    index: IndexArgument,
    attempt: AttemptOption = None,
) -> None:
    """Show a subtask's current (or given) execution attempt and the time spent in each state.

    Uses GET .../vertices/:vertexid/subtasks/:index, or .../subtasks/:index/attempts/:attempt.

    Example:

      flinkctl subtasks show flinkctl-demo b717 0 --attempt 0
    """
    from flinkctl.output.vertices import SUBTASK

    inv.emit(
        inv.client().subtask(*_resolve(inv, job, vertex, index), index, attempt),
        SUBTASK,
    )


@app.command()
@with_output
def metrics(
    inv: Invocation,
    job: JobArgument,
    vertex: VertexArgument,
    index: IndexArgument,
    get: metrics_.GetOption = None,
) -> None:
    """List a subtask's metric ids, or show values with --get (GET .../subtasks/:index/metrics).

    Example:

      flinkctl subtasks metrics flinkctl-demo b717 0 --get 'numRecords*'
    """
    from functools import partial

    client = inv.client()
    metrics_.show(
        inv, partial(client.subtask_metrics, *_resolve(inv, job, vertex, index), index), get
    )


@app.command()
@with_output
def accumulators(
    inv: Invocation,
    job: JobArgument,
    vertex: VertexArgument,
    index: IndexArgument,
    attempt: AttemptOption = None,
) -> None:
    """Show the user accumulators of a subtask's attempt (GET .../attempts/:attempt/accumulators).

    Without --attempt, the current attempt (one GET .../subtasks/:index first).

    Example:

      flinkctl subtasks accumulators flinkctl-demo b717 0
    """
    from flinkctl.output.vertices import USER_ACCUMULATORS

    client = inv.client()
    jid, vid = _resolve(inv, job, vertex, index)
    inv.emit(client.subtask_accumulators(jid, vid, index, attempt), USER_ACCUMULATORS)
