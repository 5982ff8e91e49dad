"""`flinkctl savepoint`: trigger (optionally waiting), follow and dispose savepoints."""

import re
from enum import Enum
from typing import Annotated, Any

import typer

from flinkctl.cli.args import JobArgument, job_id
from flinkctl.cli.confirm import YesOption, confirm
from flinkctl.cli.operation import Operation, TriggerIdArgument
from flinkctl.cli.options import with_output
from flinkctl.cli.state import state
from flinkctl.cli.wait import DEFAULT_TIMEOUT, TimeoutOption, WaitOption

app = typer.Typer(no_args_is_help=True)

URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:(//[^/\x00-\x20]+(/[^\x00-\x1f]*)?|(//)?/[^/\x00-\x1f][^\x00-\x1f]*)"
)
ABSOLUTE = re.compile(r"/[^/\x00-\x1f][^\x00-\x1f]*")


class SavepointFormat(str, Enum):
    """Savepoint format: `canonical` (portable across state backends) or `native` (faster)."""

    native = "native"
    canonical = "canonical"


FormatOption = Annotated[
    SavepointFormat | None,
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


def _directory(value: str | None) -> str | None:
    return None if value is None else savepoint_path(value, "savepoint directory")


def directory_option(*names: str) -> Any:
    """The option naming a savepoint's target directory (checked before any request)."""
    return Annotated[
        str | None,
        typer.Option(
            *names,
            help="Target directory (default: the cluster's savepoint dir).",
            callback=_directory,
        ),
    ]


def savepoint_operation(what: str, jid: str) -> Operation:
    """A savepoint or stop-with-savepoint (both report at /jobs/:jobid/savepoints/:triggerid)."""
    client = state.client()
    return Operation(
        f"{what} of job {jid}",
        {"job-id": jid},
        lambda tid: client.savepoint_status(jid, tid),
        lambda tid: ("savepoint", "status", jid, tid),
        result=lambda op: {"location": op.get("location")},
    )


def _disposal(path: str | None) -> Operation:
    """A savepoint disposal (reports at /savepoint-disposal/:triggerid)."""
    return Operation(
        "savepoint disposal",
        {"savepoint-path": path},
        state.client().disposal_status,
        lambda tid: ("savepoint", "dispose-status", tid),
    )


@app.command()
@with_output
def trigger(
    job: JobArgument,
    # an Annotated type built at run time: Typer reads it, mypy cannot
    directory: directory_option("--dir", "-d") = None,  # type: ignore[valid-type]
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

    jid = job_id(job)
    tid = new_trigger_id()
    operation = savepoint_operation("savepoint", jid)
    if cancel:
        operation = operation.ending_job(jid, timeout)
    state.client().trigger_savepoint(
        jid,
        tid,
        target_directory=directory,
        cancel_job=cancel,
        format_type=fmt and fmt.value.upper(),
    )
    operation.follow(tid, wait=wait, timeout=timeout)


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
    savepoint_operation("savepoint", job_id(job)).show(trigger, wait=wait, timeout=timeout)


@app.command()
@with_output
def dispose(
    path: Annotated[
        str,
        typer.Argument(help="Savepoint path or URI, as printed by trigger.", show_default=False),
    ],
    wait: WaitOption = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    yes: YesOption = False,
) -> None:
    """Delete a savepoint's data and metadata (POST /savepoint-disposal).

    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl savepoint dispose file:///savepoints/savepoint-1f2e3d-0a1b2c3d4e5f --wait --yes
    """
    savepoint_path(path)
    confirm(f"Dispose savepoint {path}? Its files are deleted.", yes)
    operation = _disposal(path)
    tid = state.client().dispose_savepoint(path)["request-id"]
    operation.follow(tid, wait=wait, timeout=timeout)


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
    _disposal(None).show(trigger, wait=wait, timeout=timeout)
