"""`flinkctl savepoint`: trigger (optionally waiting), follow and dispose savepoints."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Optional

import typer

from flinkctl.cli.args import JobArgument, job_id
from flinkctl.cli.confirm import confirm
from flinkctl.cli.options import with_output
from flinkctl.cli.state import state
from flinkctl.cli.wait import (
    DEFAULT_TIMEOUT,
    TimeoutOption,
    WaitOption,
    command,
    note,
    since,
    waiting,
)

app = typer.Typer(help="Savepoints: trigger, status, dispose.", no_args_is_help=True)

TRIGGER_ID = re.compile(r"[0-9a-f]{32}")
URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:(//[^/\x00-\x20]+(/[^\x00-\x1f]*)?|(//)?/[^/\x00-\x1f][^\x00-\x1f]*)"
)
ABSOLUTE = re.compile(r"/[^/\x00-\x1f][^\x00-\x1f]*")


class SavepointFormat(str, Enum):
    """Savepoint format: `canonical` (portable across state backends) or `native` (faster)."""

    native = "native"
    canonical = "canonical"


FormatOption = Annotated[
    Optional[SavepointFormat],
    typer.Option("--format", help="Savepoint format (default: the cluster's, canonical)."),
]


def savepoint_path(value: str, what: str = "savepoint path") -> str:
    """Check a savepoint path before any request: an absolute path or a URI (exit 2 otherwise)."""
    from flinkctl.errors import UsageError

    if not (ABSOLUTE.fullmatch(value) or URI.fullmatch(value)):
        raise UsageError(
            f"malformed {what} {value!r}: use an absolute path or a URI "
            "(file:///..., s3://bucket/..., hdfs://...)"
        )
    return value


def trigger_id(value: str) -> str:
    """Check a trigger id (32 lowercase hex) before any request."""
    if not TRIGGER_ID.fullmatch(value):
        raise typer.BadParameter(f"{value!r} is not a trigger id (32 hex characters)")
    return value


TriggerIdArgument = Annotated[
    str,
    typer.Argument(
        help="Trigger id printed by the trigger command.", callback=trigger_id, show_default=False
    ),
]


def follow(
    what: str,
    ids: dict,
    tid: str,
    status: Callable[[], dict],
    *,
    wait: bool,
    timeout: float,
    resume: str,
    started: float,
    result: Callable[[dict], dict] = lambda op: {},
) -> None:
    """After a trigger: print the trigger id, or wait via STATUS and print the outcome.

    The one home for every asynchronous operation's output: IDS identify the subject
    (job, savepoint path, dataset), RESULT adds fields from the completed operation.
    """
    from flinkctl.output import render
    from flinkctl.output.lifecycle import COMPLETED, TRIGGERED

    if not wait:
        render({**ids, "trigger-id": tid}, TRIGGERED)
        note(f"{what} triggered; follow it with: {resume}")
        return
    operation = waiting(
        what, lambda p: p.operation(status, what=what), timeout=timeout, resume=resume
    )
    outcome = {**ids, "trigger-id": tid, "status": "COMPLETED", **result(operation)}
    outcome["duration-ms"] = since(started)
    render(outcome, COMPLETED)
    note(f"{what} completed in {outcome['duration-ms'] / 1000:.1f}s")


def follow_savepoint(
    what: str, jid: str, tid: str, *, wait: bool, timeout: float, started: float
) -> None:
    """Follow a savepoint or stop-with-savepoint (both report at /jobs/:jobid/savepoints/:id)."""
    client = state.client()
    follow(
        f"{what} of job {jid}",
        {"job-id": jid},
        tid,
        lambda: client.savepoint_status(jid, tid),
        wait=wait,
        timeout=timeout,
        resume=command("savepoint", "status", jid, tid, "--wait"),
        started=started,
        result=lambda op: {"location": op.get("location")},
    )


def show_status(body: dict) -> None:
    """Render one status body of an asynchronous operation; exit 1 if it failed."""
    from flinkctl.client.poller import failure_cause
    from flinkctl.output import render
    from flinkctl.output.lifecycle import OPERATION_STATUS

    render(body, OPERATION_STATUS)
    if failure_cause(body.get("operation")):
        raise typer.Exit(1)


@app.command()
@with_output
def trigger(
    job: JobArgument,
    directory: Annotated[
        Optional[str],
        typer.Option(
            "--dir", "-d", help="Target directory (default: the cluster's savepoint dir)."
        ),
    ] = None,
    cancel: Annotated[
        bool, typer.Option("--cancel", help="Cancel the job after the savepoint.")
    ] = False,
    fmt: FormatOption = None,
    wait: WaitOption = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
) -> None:
    """Trigger a savepoint (POST /jobs/:jobid/savepoints) and optionally wait for it.

    The request carries a client-generated triggerId, so a retried request never takes a
    second savepoint. Without --wait it prints the trigger id; with --wait the savepoint's
    location (-o json: job-id, trigger-id, status, location, duration-ms).

    Example:

      flinkctl -c prod savepoint trigger my-job --wait -o json
    """
    from flinkctl.client.poller import new_trigger_id

    if directory:
        savepoint_path(directory, "savepoint directory")
    jid = job_id(job)
    tid = new_trigger_id()
    started = time.monotonic()
    state.client().trigger_savepoint(
        jid,
        tid,
        target_directory=directory,
        cancel_job=cancel,
        format_type=fmt and fmt.value.upper(),
    )
    follow_savepoint("savepoint", jid, tid, wait=wait, timeout=timeout, started=started)


@app.command()
@with_output
def status(
    job: JobArgument,
    trigger: TriggerIdArgument,
    wait: WaitOption = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
) -> None:
    """Show a savepoint's or stop's status (GET /jobs/:jobid/savepoints/:triggerid).

    Without --wait: the status once (exit 1 if it failed). With --wait: as `trigger --wait`.

    Example:

      flinkctl savepoint status my-job 5e8c0bd2e4b54a2f8d6c1f3a9b7e0d41 --wait
    """
    jid = job_id(job)
    if wait:
        follow_savepoint(
            "savepoint", jid, trigger, wait=True, timeout=timeout, started=time.monotonic()
        )
    else:
        show_status(state.client().savepoint_status(jid, trigger))


def follow_disposal(path: str, tid: str, *, wait: bool, timeout: float, started: float) -> None:
    """Follow a savepoint disposal at /savepoint-disposal/:triggerid."""
    client = state.client()
    follow(
        "savepoint disposal",
        {"savepoint-path": path},
        tid,
        lambda: client.disposal_status(tid),
        wait=wait,
        timeout=timeout,
        resume=command("savepoint", "dispose-status", tid, "--wait"),
        started=started,
    )


@app.command()
@with_output
def dispose(
    path: Annotated[
        str,
        typer.Argument(help="Savepoint path or URI, as printed by trigger.", show_default=False),
    ],
    wait: WaitOption = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a savepoint's data and metadata (POST /savepoint-disposal).

    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl savepoint dispose file:///savepoints/savepoint-1f2e3d-0a1b2c3d4e5f --wait --yes
    """
    savepoint_path(path)
    confirm(f"Dispose savepoint {path}? Its files are deleted.", yes)
    started = time.monotonic()
    tid = state.client().dispose_savepoint(path)["request-id"]
    follow_disposal(path, tid, wait=wait, timeout=timeout, started=started)


@app.command("dispose-status")
@with_output
def dispose_status(
    trigger: TriggerIdArgument,
    wait: WaitOption = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
) -> None:
    """Show a savepoint disposal's status (GET /savepoint-disposal/:triggerid).

    Example:

      flinkctl savepoint dispose-status 5e8c0bd2e4b54a2f8d6c1f3a9b7e0d41 --wait
    """
    if wait:
        follow_disposal(None, trigger, wait=True, timeout=timeout, started=time.monotonic())
    else:
        show_status(state.client().disposal_status(trigger))
