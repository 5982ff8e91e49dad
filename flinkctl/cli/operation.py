"""Asynchronous operations (savepoint, stop-with-savepoint, disposal, checkpoint, data set
deletion): one home for what a trigger prints, `--wait`, and the `*-status` commands."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

import typer

from flinkctl.cli.wait import command, note, since, waiting
from flinkctl.flink import OperationStatus, is_hex_id


def trigger_id(value: str) -> str:
    """Check a trigger id (32 lowercase hex) before any request."""
    if not is_hex_id(value):
        raise typer.BadParameter(f"{value!r} is not a trigger id (32 hex characters)")
    return value


TriggerIdArgument = Annotated[
    str,
    typer.Argument(
        help="Trigger id printed by the trigger command.", callback=trigger_id, show_default=False
    ),
]


def show_status(body: OperationStatus) -> None:
    """Render one status body of an asynchronous operation; exit 1 if it failed."""
    from flinkctl.flink import failure_trace
    from flinkctl.output import render
    from flinkctl.output.lifecycle import OPERATION_STATUS

    render(body, OPERATION_STATUS)
    if failure_trace(body.get("operation")):
        raise typer.Exit(1)


@dataclass
class Operation:
    """One kind of asynchronous operation on one subject.

    WHAT names it in messages ("savepoint of job 1f2e..."); IDS identify the subject in the
    output (job, savepoint path, data set); STATUS(trigger id) fetches its status body;
    RESUME(trigger id) is the words of the status command that resumes a wait; RESULT(the
    completed operation) adds fields to the outcome. STARTED (monotonic) is when the object
    is made: make it just before the trigger request.
    """

    what: str
    ids: dict
    status: Callable[[str], OperationStatus]
    resume: Callable[[str], tuple[str, ...]]
    result: Callable[[dict], dict] = lambda operation: {}
    started: float = field(default_factory=time.monotonic)

    def follow(self, tid: str, *, wait: bool, timeout: float) -> None:
        """After a trigger: print the trigger id, or wait and print the outcome."""
        from flinkctl.output import render
        from flinkctl.output.lifecycle import COMPLETED, TRIGGERED

        resume = command(*self.resume(tid), "--wait")
        if not wait:
            render({**self.ids, "trigger-id": tid}, TRIGGERED)
            note(f"{self.what} triggered; follow it with: {resume}")
            return
        operation = waiting(
            self.what,
            lambda p: p.operation(lambda: self.status(tid), what=self.what),
            timeout=timeout,
            resume=resume,
        )
        outcome = {**self.ids, "trigger-id": tid, "status": "COMPLETED", **self.result(operation)}
        outcome["duration-ms"] = since(self.started)
        render(outcome, COMPLETED)
        note(f"{self.what} completed in {outcome['duration-ms'] / 1000:.1f}s")

    def ending_job(self, jid: str, timeout: float) -> "Operation":
        """The same operation, whose wait also lasts until job JID has ended (stop, --cancel);
        the outcome then has "job-state"."""
        from flinkctl.cli.wait import until_job_ended

        result = self.result
        self.result = lambda op: {**result(op), "job-state": until_job_ended(jid, "end", timeout)}
        return self

    def show(self, tid: str, *, wait: bool, timeout: float) -> None:
        """A status command: the status once (exit 1 if it failed), or with WAIT as `follow`."""
        if wait:
            self.follow(tid, wait=True, timeout=timeout)
        else:
            show_status(self.status(tid))
