"""`flinkctl checkpoints trigger | trigger-status` (Flink 1.17+)."""

from enum import Enum
from typing import Annotated

import typer

from flinkctl.cli.common.arguments import JobArgument, job_id
from flinkctl.cli.common.operations import CHECKPOINT, status_command
from flinkctl.cli.common.options import with_output
from flinkctl.cli.common.waiting import Wait, with_wait
from flinkctl.cli.invocation import Invocation

app = typer.Typer()


class CheckpointType(str, Enum):
    """What the triggered checkpoint snapshots."""

    configured = "configured"
    full = "full"
    incremental = "incremental"


@app.command()
@with_output
@with_wait
def trigger(
    inv: Invocation,
    job: JobArgument,
    checkpoint_type: Annotated[
        CheckpointType,
        typer.Option("--type", help="Checkpoint type (incremental is refused by Flink 1.19+)."),
    ] = CheckpointType.configured,
    *,
    wait: Wait,
) -> None:
    """Trigger a checkpoint now (POST /jobs/:jobid/checkpoints, Flink 1.17+).

    Without --wait it prints the trigger id; with --wait the checkpoint id
    (-o json: job-id, trigger-id, status, checkpoint-id, duration-ms).

    Example:

      flinkctl checkpoints trigger flinkctl-demo --type full --wait
    """
    jid = job_id(inv, job)
    CHECKPOINT.trigger(
        inv,
        jid,
        lambda client, tid: client.trigger_checkpoint(jid, tid, checkpoint_type.value.upper()),
        wait,
    )


app.command(
    "trigger-status",
    help="""Show a triggered checkpoint's status (GET /jobs/:jobid/checkpoints/:triggerid).

    Example:

      flinkctl checkpoints trigger-status flinkctl-demo 2123456789abcdef0123456789abcdef --wait
    """,
)(status_command(CHECKPOINT))
