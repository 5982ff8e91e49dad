"""`flinkctl checkpoints trigger | trigger-status` (Flink 1.17+), on the checkpoints app."""

from enum import Enum
from typing import Annotated

import typer

from flinkctl.cli.args import JobArgument, job_id
from flinkctl.cli.checkpoints import app
from flinkctl.cli.operation import Operation, TriggerIdArgument
from flinkctl.cli.options import with_output
from flinkctl.cli.state import state
from flinkctl.cli.wait import DEFAULT_TIMEOUT, TimeoutOption, WaitOption


class CheckpointType(str, Enum):
    """What the triggered checkpoint snapshots."""

    configured = "configured"
    full = "full"
    incremental = "incremental"


def _checkpoint(jid: str) -> Operation:
    """A triggered checkpoint (reports at /jobs/:jobid/checkpoints/:triggerid)."""
    client = state.client()
    return Operation(
        f"checkpoint of job {jid}",
        {"job-id": jid},
        lambda tid: client.checkpoint_trigger_status(jid, tid),
        lambda tid: ("checkpoints", "trigger-status", jid, tid),
        result=lambda op: {"checkpoint-id": op.get("checkpointId")},
    )


@app.command()
@with_output
def trigger(
    job: JobArgument,
    checkpoint_type: Annotated[
        CheckpointType,
        typer.Option("--type", help="Checkpoint type (incremental is refused by Flink 1.19+)."),
    ] = CheckpointType.configured,
    wait: WaitOption = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
) -> None:
    """Trigger a checkpoint now (POST /jobs/:jobid/checkpoints, Flink 1.17+).

    Without --wait it prints the trigger id; with --wait the checkpoint id
    (-o json: job-id, trigger-id, status, checkpoint-id, duration-ms).

    Example:

      flinkctl checkpoints trigger flinkctl-demo --type full --wait
    """
    from flinkctl.client.poller import new_trigger_id

    jid = job_id(job)
    tid = new_trigger_id()
    operation = _checkpoint(jid)
    state.client().trigger_checkpoint(jid, tid, checkpoint_type.value.upper())
    operation.follow(tid, wait=wait, timeout=timeout)


@app.command("trigger-status")
@with_output
def trigger_status(
    job: JobArgument,
    trigger: TriggerIdArgument,
    wait: WaitOption = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
) -> None:
    """Show a triggered checkpoint's status (GET /jobs/:jobid/checkpoints/:triggerid).

    Example:

      flinkctl checkpoints trigger-status flinkctl-demo 2123456789abcdef0123456789abcdef --wait
    """
    _checkpoint(job_id(job)).show(trigger, wait=wait, timeout=timeout)
