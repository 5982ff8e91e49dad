"""`flinkctl checkpoints`: a job's checkpoint history, one checkpoint's details, the configuration."""

from typing import Annotated

import typer

from flinkctl.cli import watch
from flinkctl.cli.args import JobArgument, job_id
from flinkctl.cli.options import with_output
from flinkctl.cli.state import state
from flinkctl.errors import NotFoundError, UsageError
from flinkctl.flink import CheckpointStats, newest_checkpoint_id

app = typer.Typer(no_args_is_help=True)

LATEST = "latest"


def _checkpoint_format(value: str) -> str:
    if not (value.isdigit() or value.lower() == LATEST):
        raise typer.BadParameter(f"{value!r} is neither a checkpoint id nor {LATEST!r}")
    return value


def checkpoint_id(stats: CheckpointStats | None, value: str) -> int:
    """A checkpoint id from VALUE: a number, or `latest`, the newest checkpoint in STATS.

    STATS is the body of GET /jobs/:jobid/checkpoints, needed only for `latest` (which means
    the newest checkpoint of any status in the history, falling back to the latest
    completed one). A malformed VALUE is a UsageError; `latest` with no checkpoint NotFound.
    """
    if value.isdigit():
        return int(value)
    if value.lower() != LATEST:
        raise UsageError(f"checkpoint {value!r} is neither a checkpoint id nor {LATEST!r}")
    if stats is None:
        raise UsageError(f"checkpoint {LATEST!r} needs the job's checkpoint statistics")
    newest = newest_checkpoint_id(stats)
    if newest is None:
        raise NotFoundError("the job has no checkpoint yet")
    return newest


CheckpointArgument = Annotated[
    str,
    typer.Argument(
        help="Checkpoint id, or 'latest' (the newest in the history).",
        callback=_checkpoint_format,
        show_default=False,
    ),
]


@app.command("list", cls=watch.Command)
@with_output
def list_(job: JobArgument, interval: watch.WatchOption = None) -> None:
    """Show checkpoint counts, summary statistics and the history (GET /jobs/:jobid/checkpoints).

    The history keeps the newest web.checkpoints.history entries (10 by default).

    Example:

      flinkctl checkpoints list flinkctl-demo -o wide --watch 5
    """
    from flinkctl.output.checkpoints import CHECKPOINTS

    client = state.client()
    jid = job_id(job)
    watch.watch(interval, lambda: client.checkpoint_stats(jid), CHECKPOINTS)


@app.command()
@with_output
def show(
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
    from flinkctl.output import render
    from flinkctl.output.checkpoints import checkpoint_vertex_view, checkpoint_view

    client = state.client()
    jid = job_id(job)
    stats = client.checkpoint_stats(jid) if checkpoint.lower() == LATEST else None
    cid = checkpoint_id(stats, checkpoint)
    details = client.job(jid)
    names = {v["id"]: v.get("name") for v in details.get("vertices") or []}
    if vertex is None:
        render(client.checkpoint(jid, cid), checkpoint_view(names))
        return
    vid = resolve_vertex(details, vertex)
    render(client.checkpoint_vertex(jid, cid, vid), checkpoint_vertex_view(names[vid]))


@app.command()
@with_output
def config(job: JobArgument) -> None:
    """Show the job's checkpointing configuration (GET /jobs/:jobid/checkpoints/config).

    Example:

      flinkctl checkpoints config flinkctl-demo -o yaml
    """
    from flinkctl.output import render
    from flinkctl.output.checkpoints import CHECKPOINT_CONFIG

    render(state.client().checkpoint_config(job_id(job)), CHECKPOINT_CONFIG)


from flinkctl.cli import checkpoint_trigger  # noqa: E402,F401  registers trigger/trigger-status
