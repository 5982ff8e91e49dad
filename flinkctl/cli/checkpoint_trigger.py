"""`flinkctl checkpoints trigger | trigger-status` (Flink 1.17+), on the checkpoints app."""

from __future__ import annotations

import time
from enum import Enum
from typing import Annotated

import typer

from flinkctl.cli.args import JobArgument, job_id
from flinkctl.cli.checkpoints import app
from flinkctl.cli.options import with_output
from flinkctl.cli.savepoint import TriggerIdArgument, follow, show_status
from flinkctl.cli.state import state
from flinkctl.cli.wait import DEFAULT_TIMEOUT, TimeoutOption, WaitOption, command


class CheckpointType(str, Enum):
    """What the triggered checkpoint snapshots."""

    configured = "configured"
    full = "full"
    incremental = "incremental"


def _follow(jid: str, tid: str, *, wait: bool, timeout: float, started: float) -> None:
    client = state.client()
    follow(
        f"checkpoint of job {jid}",
        {"job-id": jid},
        tid,
        lambda: client.checkpoint_trigger_status(jid, tid),
        wait=wait,
        timeout=timeout,
        resume=command("checkpoints", "trigger-status", jid, tid, "--wait"),
        started=started,
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
    started = time.monotonic()
    state.client().trigger_checkpoint(jid, tid, checkpoint_type.value.upper())
    _follow(jid, tid, wait=wait, timeout=timeout, started=started)


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
    jid = job_id(job)
    if wait:
        _follow(jid, trigger, wait=True, timeout=timeout, started=time.monotonic())
    else:
        show_status(state.client().checkpoint_trigger_status(jid, trigger))
