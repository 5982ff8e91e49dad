"""`flinkctl checkpoints list | show | config`: a job's checkpoint history, one checkpoint's
details, the configuration."""

from typing import Annotated

import typer

from flinkctl.cli.common import watching
from flinkctl.cli.common.arguments import (
    LATEST,
    CheckpointArgument,
    JobArgument,
    checkpoint_id,
    job_id,
)
from flinkctl.cli.common.options import with_output
from flinkctl.cli.common.reading import read_command
from flinkctl.cli.invocation import Invocation
from flinkctl.flink import objects

app = typer.Typer()


@app.command("list", cls=watching.Command)
@with_output
def list_(inv: Invocation, job: JobArgument, interval: watching.WatchOption = None) -> None:
    """Show checkpoint counts, summary statistics and the history (GET /jobs/:jobid/checkpoints).

    The history keeps the newest web.checkpoints.history entries (10 by default).

    Example:

      flinkctl checkpoints list flinkctl-demo -o wide --watch 5
    """
    from flinkctl.output.checkpoints import CHECKPOINTS

    client = inv.client()
    jid = job_id(inv, job)
    watching.watch(inv, interval, lambda: client.checkpoint_stats(jid), CHECKPOINTS)


@app.command()
@with_output
def show(
    inv: Invocation,
    job: JobArgument,
    checkpoint: CheckpointArgument,
    vertex: Annotated[
        str | None,
        typer.Option("--vertex", help="Vertex id, unique id prefix or name: show its subtasks."),
    ] = None,
) -> None:
    """Show one checkpoint per vertex, or one vertex's subtasks with --vertex.

    Uses GET /jobs/:jobid/checkpoints/details/:id, or .../details/:id/subtasks/:vertexid.

    Example:

      flinkctl checkpoints show flinkctl-demo latest --vertex b717
    """
    from flinkctl.client.resolve import vertex as resolve_vertex
    from flinkctl.output.checkpoints import checkpoint_vertex_view, checkpoint_view

    client = inv.client()
    jid = job_id(inv, job)
    stats = client.checkpoint_stats(jid) if checkpoint.lower() == LATEST else None
    cid = checkpoint_id(stats, checkpoint)
    details = client.job(jid)
    vertices = objects(details.get("vertices"))
    names = {v["id"]: v.get("name") for v in vertices if isinstance(v.get("id"), str)}
    if vertex is None:
        inv.emit(client.checkpoint(jid, cid), checkpoint_view(names))
        return
    vid = resolve_vertex(details, vertex)
    inv.emit(client.checkpoint_vertex(jid, cid, vid), checkpoint_vertex_view(names[vid]))


app.command(
    "config",
    help="""Show the job's checkpointing configuration (GET /jobs/:jobid/checkpoints/config).

    Example:

      flinkctl checkpoints config flinkctl-demo -o yaml
    """,
)(read_command(lambda c, jid: c.checkpoint_config(jid), "checkpoints.CHECKPOINT_CONFIG", of="job"))
