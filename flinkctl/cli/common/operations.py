"""Asynchronous operations: a savepoint (also of a stop), a savepoint disposal, a checkpoint and
a data set deletion. One home for each kind's status request and status command, what a trigger
prints, `--wait`, and the `*-status` commands themselves (`status_command`)."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

from flinkctl.cli.common.arguments import JobArgument, TriggerIdArgument, job_id
from flinkctl.cli.common.options import options_from, with_output
from flinkctl.cli.common.waiting import Wait, since, until_job_ended, waiting, with_wait
from flinkctl.cli.invocation import Invocation

if TYPE_CHECKING:
    from flinkctl.flink import OperationStatus
    from flinkctl.workflows.savepoints import Recording


@dataclass(frozen=True)
class Kind:
    """A kind of asynchronous operation.

    NAME names it in messages; SUBJECT is the outcome's key for what it acts on. An operation on
    a job ("job-id") is named "NAME of job JID", and its status request and status command take
    the job id. STATUS_METHOD names the FlinkClient method that fetches a status body (job id
    and trigger id, or the trigger id alone); STATUS_COMMAND is the status command's words
    after `flinkctl`; RESULT(the completed operation) adds fields to the outcome.
    """

    name: str
    subject: str
    status_method: str
    status_command: tuple[str, ...]
    result: Callable[[dict], dict] = lambda operation: {}

    @property
    def on_job(self) -> bool:
        return self.subject == "job-id"

    def of(
        self, inv: Invocation, subject: str | None, name: str = "", *, ends_job: bool = False
    ) -> "Operation":
        """The operation on SUBJECT (None when a status command knows only the trigger id), for
        the command INV runs.

        NAME replaces the kind's name in messages (a stop's savepoint: "stop-with-savepoint");
        with ENDS_JOB its wait also lasts until the job has ended, and the outcome has
        "job-state". Its duration starts now.
        """
        name = name or self.name
        what = f"{name} of job {subject}" if self.on_job else name
        return Operation(inv, self, subject, what, ends_job)

    def trigger(
        self,
        inv: Invocation,
        subject: str,
        send: Callable[[Any, str], dict],
        wait: Wait,
        *,
        name: str = "",
        ends_job: bool = False,
        recording: "Recording | None" = None,
        annotate: Callable[[dict], dict] | None = None,
    ) -> None:
        """Start an operation on SUBJECT: SEND(client, a new trigger id) sends the trigger
        request; then print the trigger id Flink answers with (the one sent, where the endpoint
        takes one), or the outcome with --wait (`Operation.follow`). NAME and ENDS_JOB: see `of`.
        RECORDING records a savepoint in the catalog and picks its trigger id (that of one in
        progress, which this run then joins). ANNOTATE(object) is what is printed instead.
        """
        from flinkctl.client.poller import new_trigger_id
        from flinkctl.errors import FlinkctlError

        operation = self.of(inv, subject, name, ends_job=ends_job)
        tid = recording.start() if recording else new_trigger_id()
        if recording and recording.joined:
            inv.note(recording.joined_note())
        try:
            answer = send(inv.client(), tid)
            operation.follow(answer["request-id"], wait, recording, annotate)
        except FlinkctlError as exc:
            if recording:
                recording.failed(exc)
            raise


def _savepoint_result(operation: dict) -> dict:
    return {"location": operation.get("location")}


def _checkpoint_result(operation: dict) -> dict:
    return {"checkpoint-id": operation.get("checkpointId")}


SAVEPOINT = Kind(
    "savepoint", "job-id", "savepoint_status", ("savepoint", "status"), _savepoint_result
)
DISPOSAL = Kind(
    "savepoint disposal", "savepoint-path", "disposal_status", ("savepoint", "dispose-status")
)
CHECKPOINT = Kind(
    "checkpoint",
    "job-id",
    "checkpoint_trigger_status",
    ("checkpoints", "trigger-status"),
    _checkpoint_result,
)
DATASET_DELETION = Kind(
    "data set deletion", "dataset-id", "dataset_delete_status", ("datasets", "delete-status")
)


@dataclass
class Operation:
    """One operation of KIND on SUBJECT, named WHAT in messages (see `Kind.of`), for the
    command INV runs."""

    inv: Invocation
    kind: Kind
    subject: str | None
    what: str
    ends_job: bool = False
    started: float = field(default_factory=time.monotonic)

    def status(self, tid: str) -> "OperationStatus":
        """The status body of trigger TID."""
        fetch: Callable[..., OperationStatus] = getattr(self.inv.client(), self.kind.status_method)
        return fetch(self.subject, tid) if self.kind.on_job else fetch(tid)

    def follow(
        self,
        tid: str,
        wait: Wait,
        recording: "Recording | None" = None,
        annotate: Callable[[dict], dict] | None = None,
    ) -> None:
        """After the trigger request: print the trigger id, or wait and print the outcome
        (recorded by RECORDING, where given; ANNOTATE(object) printed instead, where given)."""
        annotated = annotate or (lambda item: item)
        from flinkctl.output.lifecycle import COMPLETED, TRIGGERED

        job = (self.subject,) if self.kind.on_job else ()
        inv = self.inv
        resume = inv.command_line(*self.kind.status_command, *job, tid, "--wait")
        ids = {self.kind.subject: self.subject, "trigger-id": tid}
        if not wait.wanted:
            inv.emit(annotated(ids), TRIGGERED)
            inv.note(f"{self.what} triggered; follow it with: {resume}")
            return
        operation = waiting(
            inv,
            self.what,
            lambda p: p.operation(lambda: self.status(tid), what=self.what),
            timeout=wait.timeout,
            resume=resume,
        )
        if recording:
            recording.completed(operation.get("location"))
        outcome = {**ids, "status": "COMPLETED", **self.kind.result(operation)}
        if self.ends_job:
            outcome["job-state"] = until_job_ended(inv, str(self.subject), "end", wait.timeout)
        outcome["duration-ms"] = since(self.started)
        inv.emit(annotated(outcome), COMPLETED)
        inv.note(f"{self.what} completed in {outcome['duration-ms'] / 1000:.1f}s")

    def show(self, tid: str, wait: Wait) -> None:
        """A status command: the status once (exit 1 if it failed), or with --wait as `follow`."""
        if wait.wanted:
            self.follow(tid, wait)
            return
        from flinkctl.flink import failure_trace
        from flinkctl.output.lifecycle import OPERATION_STATUS

        body = self.status(tid)
        self.inv.emit(body, OPERATION_STATUS)
        if failure_trace(body.get("operation")):
            raise typer.Exit(1)


def _job(inv: Invocation, job: JobArgument) -> str:
    return job_id(inv, job)


def _no_job() -> None:
    return None


def status_command(kind: Kind) -> Callable[..., None]:
    """The `*-status` command of KIND: JOB (for an operation on a job), TRIGGER, --wait and
    --timeout. Register it with its help: `app.command("status", help=...)(status_command(K))`."""

    def status(
        inv: Invocation, subject: str | None, trigger: TriggerIdArgument, wait: Wait
    ) -> None:
        kind.of(inv, subject).show(trigger, wait)

    subject = options_from(_job if kind.on_job else _no_job, into="subject")
    return with_output(subject(with_wait(status)))
