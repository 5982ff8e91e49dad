"""`flinkctl vertices`: a job's vertices, their subtasks, backpressure, metrics and profiles."""

from typing import Annotated

import typer

from flinkctl.cli.common import metrics as metrics_
from flinkctl.cli.common import watching
from flinkctl.cli.common.arguments import JobArgument, VertexArgument, job_and_vertex, job_id
from flinkctl.cli.common.options import duration_option, with_output
from flinkctl.cli.common.reading import read_command
from flinkctl.cli.invocation import Invocation
from flinkctl.flink import objects

app = typer.Typer(no_args_is_help=True)

SamplingTimeout = Annotated[
    float,
    duration_option(
        "--timeout",
        help="How long to wait for the JobManager's sampling (seconds, or 45s, 2m).",
    ),
]


app.command(
    "list",
    help="""List a job's vertices with status, parallelism and records/bytes in and out
    (GET /jobs/:jobid).

    Example:

      flinkctl vertices list flinkctl-demo -o wide
    """,
)(read_command(lambda c, jid: c.job(jid), "vertices.VERTICES", of="job"))


@app.command()
@with_output
def show(inv: Invocation, job: JobArgument, vertex: VertexArgument) -> None:
    """Show a vertex and one row per subtask (GET /jobs/:jobid/vertices/:vertexid).

    Example:

      flinkctl vertices show flinkctl-demo 'Count -> Drop -> Sink: Print'
    """
    from flinkctl.output.vertices import VERTEX

    jid, vid, _ = job_and_vertex(inv, job, vertex)
    inv.emit(inv.client().vertex(jid, vid), VERTEX)


@app.command(cls=watching.Command)
@with_output
def backpressure(
    inv: Invocation,
    job: JobArgument,
    vertex: Annotated[
        str | None,
        typer.Argument(help="Vertex id, unique id prefix or name; all vertices when omitted."),
    ] = None,
    timeout: SamplingTimeout = 30.0,
    interval: watching.WatchOption = None,
) -> None:
    """Show backpressure levels per subtask (GET .../vertices/:vertexid/backpressure).

    Flink samples on the first request; this waits up to --timeout for the result
    (rows still sampling then say so). Without VERTEX every vertex is sampled
    concurrently and -o json prints {"jid", "vertices": [{"id", "name",
    "backpressure": <REST body>}]}; with VERTEX it prints the REST body.

    Example:

      flinkctl vertices backpressure flinkctl-demo --watch
    """
    from flinkctl.output.vertices import BACKPRESSURE, JOB_BACKPRESSURE

    client = inv.client()
    if vertex is not None:
        jid, vid, _ = job_and_vertex(inv, job, vertex)
        watching.watch(inv, interval, lambda: client.backpressure(jid, vid, timeout), BACKPRESSURE)
        return
    jid = job_id(inv, job)
    vertices = [v for v in objects(client.job(jid).get("vertices")) if isinstance(v.get("id"), str)]

    def every_vertex() -> dict:
        bodies = client.fan_out(lambda v: client.backpressure(jid, v["id"], timeout), vertices)
        return {
            "jid": jid,
            "vertices": [
                {"id": v["id"], "name": v.get("name"), "backpressure": b}
                for v, b in zip(vertices, bodies, strict=True)
            ],
        }

    watching.watch(inv, interval, every_vertex, JOB_BACKPRESSURE)


@app.command()
@with_output
def metrics(
    inv: Invocation,
    job: JobArgument,
    vertex: VertexArgument,
    get: metrics_.GetOption = None,
    agg: metrics_.AggOption = None,
    subtasks: Annotated[
        str | None,
        typer.Option("--subtasks", help="Aggregate over these subtasks only, e.g. '0,2' or '0-3'."),
    ] = None,
) -> None:
    """List or show a vertex's metrics, per subtask or aggregated over subtasks.

    Without --agg/--subtasks: GET .../vertices/:vertexid/metrics (ids are prefixed with the
    subtask index, e.g. 0.numRecordsIn). With them: GET .../subtasks/metrics.

    Example:

      flinkctl vertices metrics flinkctl-demo b717 --get 'numRecords*' --agg min,max,sum
    """
    from functools import partial

    jid, vid, _ = job_and_vertex(inv, job, vertex)
    client = inv.client()
    if agg is None and subtasks is None:
        metrics_.show(inv, partial(client.vertex_metrics, jid, vid), get)
    else:
        fetch = partial(client.subtasks_metrics, jid, vid, subtasks=subtasks)
        metrics_.show(inv, fetch, get, agg, aggregated=True)


@app.command("jm-operator-metrics")
@with_output
def jm_operator_metrics(
    inv: Invocation, job: JobArgument, vertex: VertexArgument, get: metrics_.GetOption = None
) -> None:
    """List or show metrics of the vertex's operator coordinators on the JobManager (Flink 1.20+).

    Uses GET .../vertices/:vertexid/jm-operator-metrics.

    Example:

      flinkctl vertices jm-operator-metrics flinkctl-demo 8e43 --get '*unassignedSplits'
    """
    from functools import partial

    jid, vid, _ = job_and_vertex(inv, job, vertex)
    metrics_.show(inv, partial(inv.client().jm_operator_metrics, jid, vid), get)


@app.command()
@with_output
def accumulators(
    inv: Invocation,
    job: JobArgument,
    vertex: VertexArgument,
    per_subtask: Annotated[
        bool, typer.Option("--subtasks", help="One row per subtask instead of aggregated values.")
    ] = False,
) -> None:
    """Show a vertex's user accumulators (GET .../accumulators, or .../subtasks/accumulators).

    Example:

      flinkctl vertices accumulators flinkctl-demo b717 --subtasks
    """
    from flinkctl.output.vertices import SUBTASKS_ACCUMULATORS, USER_ACCUMULATORS

    jid, vid, _ = job_and_vertex(inv, job, vertex)
    client = inv.client()
    if per_subtask:
        inv.emit(client.subtasks_accumulators(jid, vid), SUBTASKS_ACCUMULATORS)
    else:
        inv.emit(client.vertex_accumulators(jid, vid), USER_ACCUMULATORS)


@app.command("subtask-times")
@with_output
def subtask_times(inv: Invocation, job: JobArgument, vertex: VertexArgument) -> None:
    """Show when each subtask reached each state, relative to CREATED (GET .../subtasktimes).

    Example:

      flinkctl vertices subtask-times flinkctl-demo b717 -o wide
    """
    from flinkctl.output.vertices import SUBTASK_TIMES

    inv.emit(inv.client().subtask_times(*job_and_vertex(inv, job, vertex)[:2]), SUBTASK_TIMES)


@app.command()
@with_output
def taskmanagers(inv: Invocation, job: JobArgument, vertex: VertexArgument) -> None:
    """Show a vertex's subtasks aggregated per task manager (GET .../taskmanagers).

    Example:

      flinkctl vertices taskmanagers flinkctl-demo b717
    """
    from flinkctl.output.vertices import VERTEX_TASKMANAGERS

    inv.emit(
        inv.client().vertex_taskmanagers(*job_and_vertex(inv, job, vertex)[:2]),
        VERTEX_TASKMANAGERS,
    )


@app.command()
@with_output
def watermarks(inv: Invocation, job: JobArgument, vertex: VertexArgument) -> None:
    """Show each subtask's input watermark and its lag behind now (GET .../watermarks).

    Sources have no input watermark, so they list nothing. The lag uses this machine's clock.

    Example:

      flinkctl vertices watermarks flinkctl-demo 'Count -> Drop -> Sink: Print'
    """
    from flinkctl.output.vertices import WATERMARKS

    inv.emit(inv.client().watermarks(*job_and_vertex(inv, job, vertex)[:2]), WATERMARKS)


@app.command()
@with_output
def flamegraph(
    inv: Invocation,
    job: JobArgument,
    vertex: VertexArgument,
    kind: Annotated[
        str,
        typer.Option("--type", "-t", help="Thread states to sample: on_cpu, off_cpu or full."),
    ] = "on_cpu",
    subtask: Annotated[
        int | None, typer.Option("--subtask", min=0, help="Sample this subtask only.")
    ] = None,
    min_percent: Annotated[
        float,
        typer.Option(
            "--min-percent", min=0, max=100, help="Hide frames with fewer samples than this."
        ),
    ] = 1.0,
    timeout: SamplingTimeout = 30.0,
) -> None:
    """Print a vertex's flame graph as a call tree of its hottest frames (GET .../flamegraph).

    Needs rest.flamegraph.enabled on the cluster. Flink samples on the first request;
    this waits up to --timeout. -o json prints the REST body (the full tree).

    Example:

      flinkctl vertices flamegraph flinkctl-demo 8e43 --type off_cpu --min-percent 5
    """
    from flinkctl.client.vertices import FLAMEGRAPH_TYPES
    from flinkctl.errors import UsageError
    from flinkctl.output.vertices import flamegraph_view

    if kind.lower() not in FLAMEGRAPH_TYPES:
        raise UsageError(f"unknown --type {kind!r} (choose from {', '.join(FLAMEGRAPH_TYPES)})")
    jid, vid, _ = job_and_vertex(inv, job, vertex)
    body = inv.client().flamegraph(jid, vid, kind, subtask, timeout)
    inv.emit(body, flamegraph_view(min_percent / 100))
