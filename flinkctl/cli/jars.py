"""`flinkctl jars`: list, upload, delete, plan and run uploaded jars."""

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flinkctl.cli.common.arguments import JarArgument, JarOrFileArgument, jar_id, savepoint_path
from flinkctl.cli.common.confirm import YesOption, confirm
from flinkctl.cli.common.options import (
    AllowNonRestoredOption,
    FromSavepointOption,
    options_from,
    with_output,
)
from flinkctl.cli.common.reading import read_command
from flinkctl.cli.common.waiting import WAIT_TIMEOUT, TimeoutOption, waiting
from flinkctl.cli.invocation import Invocation
from flinkctl.errors import OperationFailed, UnreachableError, UsageError
from flinkctl.flink import UNSUCCESSFUL_STATES, JarUpload, all_running, is_hex_id, obj, objects
from flinkctl.output.formats import OutputFormat

if TYPE_CHECKING:  # flinkctl.client loads when a command runs, not when one completes
    from flinkctl.client.requests import Program, Restore

app = typer.Typer(no_args_is_help=True)

PROGRESS_MIN_BYTES = 4 << 20  # a progress bar only for uploads that take a moment


class ClaimMode(str, Enum):
    """How a job restored from a savepoint owns its files: --claim-mode's choices, sent as
    flinkctl.client.requests.ClaimMode (Flink's spelling) of the same name."""

    claim = "claim"
    no_claim = "no-claim"
    legacy = "legacy"


ClassOption = Annotated[
    str | None, typer.Option("--class", "-c", help="Entry class (default: the jar's manifest).")
]
ArgOption = Annotated[
    list[str] | None,
    typer.Option("--arg", "-a", help="One program argument (repeatable, kept verbatim)."),
]
ParallelismOption = Annotated[
    int | None,
    typer.Option("--parallelism", "-p", min=1, help="Default parallelism of the job."),
]
ClaimModeOption = Annotated[
    ClaimMode | None,
    typer.Option("--claim-mode", help="Ownership of the restored snapshot's files."),
]
JobIdOption = Annotated[
    str | None, typer.Option("--job-id", help="Job id to use (32 hex characters).")
]
ConfOption = Annotated[
    list[str] | None,
    typer.Option("-D", help="key=value job configuration (repeatable; Flink 1.17+)."),
]


def local_jar(value: str) -> Path | None:
    """VALUE as a local jar file, None if it names a jar on the cluster; bad files exit 2."""
    path = Path(value).expanduser()
    if not path.exists():
        if "/" in value or value.startswith("~"):
            raise UsageError(f"jar file {value!r} does not exist")
        return None
    if not path.is_file():
        raise UsageError(f"{value!r} is not a file")
    with path.open("rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise UsageError(f"{value!r} is not a jar (no zip header)")
    return path


def configuration(pairs: list[str]) -> dict[str, str]:
    """-D key=value options as a mapping (exit 2 for one without `=` or a key)."""
    conf = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"-D {pair!r}: expected key=value")
        conf[key.strip()] = value
    return conf


def _program(
    entry_class: ClassOption = None,
    arg: ArgOption = None,
    parallelism: ParallelismOption = None,
    conf: ConfOption = None,
) -> "Program":
    """What `plan`, `run` and `run-application` run: the arguments one --arg each."""
    from flinkctl.client.requests import Program

    configured = configuration(conf) if conf else {}
    return Program(entry_class, tuple(arg or ()), parallelism, configured)


def _restore(
    from_savepoint: FromSavepointOption = None,
    allow_non_restored_state: AllowNonRestoredOption = False,
    claim_mode: ClaimModeOption = None,
    job_id: JobIdOption = None,
) -> "Restore":
    """What `run` and `run-application` start from (a savepoint, its claim mode, whether
    state no operator takes is dropped) and as which job id."""
    from flinkctl.client.requests import ClaimMode as Claim
    from flinkctl.client.requests import Restore

    if job_id is not None and not is_hex_id(job_id):
        raise UsageError(f"--job-id {job_id!r} is not a job id (32 hex characters)")
    return Restore(
        path=savepoint_path(from_savepoint) if from_savepoint else None,
        claim_mode=Claim[claim_mode.name.upper()] if claim_mode else None,
        allow_non_restored=allow_non_restored_state,
        job_id=job_id,
    )


with_program = options_from(_program, into="program")
with_restore = options_from(_restore, into="restore")


def upload(inv: Invocation, path: Path) -> JarUpload:
    """Upload PATH (with a progress bar on a terminal for large files); the REST answer. When
    interrupted, it says that Flink may keep the upload."""
    try:
        return _upload(inv, path)
    except KeyboardInterrupt:
        inv.io.say(
            f"Interrupted while uploading {path.name}: Flink may keep it "
            f"(see {inv.command_line('jars', 'list')})"
        )
        raise


def _upload(inv: Invocation, path: Path) -> JarUpload:
    client = inv.client()
    size = path.stat().st_size
    if size < PROGRESS_MIN_BYTES or not inv.io.err_is_terminal:
        return client.upload_jar(path)
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    columns = ("{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn())
    progress = inv.io.console(stderr=True)
    with Progress(*columns, console=progress, transient=True) as bar:
        task = bar.add_task(f"uploading {path.name}", total=size)
        return client.upload_jar(path, lambda sent, total: bar.update(task, completed=sent))


def jar_for_run(inv: Invocation, value: str) -> tuple[str, bool]:
    """The jar id for a JAR_OR_FILE argument, uploading a local file first; and whether it did."""
    from flinkctl.flink import jar_id as uploaded_jar_id

    path = local_jar(value)
    if path is None:
        return jar_id(inv, value, newest=True), False
    return uploaded_jar_id(upload(inv, path)), True


app.command(
    "list",
    help="""List uploaded jars: id, name, upload time, entry classes (GET /jars).

    Example:

      flinkctl jars list -o name
    """,
)(read_command(lambda c: c.jars(), "lifecycle.JARS"))


@app.command("upload")
@with_output
def upload_(
    inv: Invocation,
    file: Annotated[str, typer.Argument(help="Local jar file.", show_default=False)],
) -> None:
    """Upload a jar (POST /jars/upload); prints the jar id.

    Example:

      flinkctl jars upload target/my-job.jar
    """
    from flinkctl.output.lifecycle import JAR_UPLOADED

    path = local_jar(file)
    if path is None:
        raise UsageError(f"jar file {file!r} does not exist")
    inv.emit(upload(inv, path), JAR_UPLOADED)


@app.command()
@with_output
def delete(
    inv: Invocation,
    jar: JarArgument,
    all_: Annotated[
        bool, typer.Option("--all", help="Delete every upload of the file name JAR.")
    ] = False,
    yes: YesOption = False,
) -> None:
    """Delete an uploaded jar (DELETE /jars/:jarid), or with --all every upload of a name.

    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl jars delete my-job.jar --all --yes
    """
    from flinkctl.client.resolve import jars_named

    client = inv.client()
    if all_:
        ids = [str(f["id"]) for f in jars_named(client, jar)]
    else:
        try:
            ids = [jar_id(inv, jar)]
        except UsageError as exc:  # a name several uploads share
            exc.hint = exc.hint or f"delete them all: flinkctl jars delete {jar} --all"
            raise
    confirm(
        inv,
        f"Delete jar {ids[0]}?" if len(ids) == 1 else f"Delete {len(ids)} jars named {jar}?",
        yes,
    )
    for jid in ids:
        client.delete_jar(jid)
        inv.note(f"jar {jid} deleted")


@app.command()
@with_output(extra=(OutputFormat.DOT,))
@with_program
def plan(inv: Invocation, jar: JarArgument, program: "Program") -> None:
    """Show the dataflow plan a jar would run, without running it (POST /jars/:jarid/plan).

    -o dot prints a Graphviz digraph of the plan.

    Example:

      flinkctl jars plan flinkctl-demo.jar --arg 100 -p 2 -o dot | dot -Tpng > plan.png
    """
    from flinkctl.output.plan import render_plan

    jid = jar_id(inv, jar, newest=True)
    render_plan(inv.client().plan_jar(jid, program), inv.output, inv.io)


@app.command()
@with_output
@with_restore
@with_program
def run(
    inv: Invocation,
    jar: JarOrFileArgument,
    program: "Program",
    restore: "Restore",
    wait_running: Annotated[
        bool,
        typer.Option(
            "--wait-running", help="Wait until every task is RUNNING (exit 1 if the job fails)."
        ),
    ] = False,
    timeout: TimeoutOption = WAIT_TIMEOUT,
    keep_jar: Annotated[
        bool, typer.Option("--keep-jar", help="Keep the upload of a local FILE on the cluster.")
    ] = False,
) -> None:
    """Run a jar as a job (POST /jars/:jarid/run), uploading a local file first.

    A local file's upload is deleted again once Flink has the job (Flink keeps its own copy in
    its blob store), unless --keep-jar. A name several uploads share runs the newest.
    Prints the job id (-o json: job-id, jar-id, jar-deleted, state). Program arguments go as
    programArgsList, one --arg each, never split on spaces.

    Example:

      flinkctl jars run target/my-job.jar --arg s3://in/ -s s3://bucket/sp-1 -n
    """
    from flinkctl.output.lifecycle import STARTED

    on_cluster, uploaded = jar_for_run(inv, jar)
    delete = uploaded and not keep_jar
    kept = f"; the upload stays: {inv.command_line('jars', 'delete', on_cluster)}" if delete else ""
    may_run = f"its job may run: see {inv.command_line('jobs', 'list')} before running it again"
    try:
        with inv.client().deleting(on_cluster, delete):
            jid = inv.client().run_jar(on_cluster, program, restore)["jobid"]
    except KeyboardInterrupt:
        inv.io.say(f"Interrupted while Flink ran the jar: {may_run}{kept}")
        raise
    except UnreachableError as exc:  # the upload reached Flink, and the run may have
        exc.after_contact(f"{may_run}{kept}")
        raise
    job_state = _wait_running(inv, jid, timeout)["state"] if wait_running else None
    inv.emit(
        {"job-id": jid, "jar-id": on_cluster, "jar-deleted": delete, "state": job_state}, STARTED
    )


def _wait_running(inv: Invocation, jid: str, timeout: float) -> dict:
    """Until every task of the job runs; a failed job raises with its root exception."""
    client = inv.client()

    def done(job: dict) -> bool:
        if job.get("state") in UNSUCCESSFUL_STATES:
            raise OperationFailed(f"job {jid} is {job.get('state')}: {root_cause(inv, jid)}")
        if job.get("state") == "FINISHED":
            return True
        return all_running(job)

    return waiting(
        inv,
        f"start of job {jid}",
        lambda p: p.until(lambda: client.job(jid), done, what="start"),
        timeout=timeout,
        resume=None,
    )


def root_cause(inv: Invocation, jid: str) -> str:
    """The job's root exception: its first line and, if different, its deepest cause."""
    from flinkctl.flink import trace_summary

    body = inv.client().job_exceptions(jid)
    entries = objects(obj(body.get("exceptionHistory")).get("entries"))
    trace = str(
        (entries[0].get("stacktrace") if entries else None) or body.get("root-exception") or ""
    )
    return trace_summary(trace) if trace else "no exception recorded"


@app.command("run-application")
@with_output
@with_restore
@with_program
def run_application(
    inv: Invocation, jar: JarOrFileArgument, program: "Program", restore: "Restore"
) -> None:
    """Run a jar as an application (POST /jars/:jarid/run-application, Flink 2.3+).

    Prints the application id; follow it with `flinkctl applications show`.

    Example:

      flinkctl jars run-application target/my-app.jar --class com.example.App
    """
    from flinkctl.output.lifecycle import APPLICATION_STARTED

    client = inv.client()
    client.require("2.3", "running a jar as an application")
    body = client.run_application(jar_for_run(inv, jar)[0], program, restore)
    inv.emit(body, APPLICATION_STARTED)
