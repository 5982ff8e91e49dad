"""Every argument type the commands share, and the resolution of each to an id on the cluster:
JOB, VERTEX, TM, JAR, APPLICATION, CONTEXT, CHECKPOINT, trigger, data set and savepoint path."""

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flinkctl.cli.common import completers
from flinkctl.cli.invocation import Invocation
from flinkctl.errors import NotFoundError, UsageError
from flinkctl.flink import is_hex_id

if TYPE_CHECKING:
    from flinkctl.flink import CheckpointStats, JarFile, JobDetails

LATEST = "latest"  # the CHECKPOINT argument's name for the newest checkpoint
URI = (
    r"[A-Za-z][A-Za-z0-9+.-]*:(//[^/\x00-\x20]+(/[^\x00-\x1f]*)?|(//)?/[^/\x00-\x1f][^\x00-\x1f]*)"
)
ABSOLUTE = r"/[^/\x00-\x1f][^\x00-\x1f]*"


def _hex_id(what: str) -> Callable[[str], str]:
    """A callback checking a 32-hex id before any request (exit 2 otherwise)."""

    def check(value: str) -> str:
        if not is_hex_id(value):
            raise typer.BadParameter(f"{value!r} is not a {what} (32 hex characters)")
        return value

    return check


def _checkpoint(value: str) -> str:
    if not (value.isdigit() or value.lower() == LATEST):
        raise typer.BadParameter(f"{value!r} is neither a checkpoint id nor {LATEST!r}")
    return value


def savepoint_path(value: str, what: str = "savepoint path") -> str:
    """Check a savepoint path before any request: an absolute path or a URI (exit 2 otherwise)."""
    if not (re.fullmatch(ABSOLUTE, value) or re.fullmatch(URI, value)):
        raise UsageError(
            f"malformed {what} {value!r}: use an absolute path or a URI "
            "(file:///..., s3://bucket/..., hdfs://...)"
        )
    return value


def _given(value: Any) -> Any:
    """Refuse an empty or blank argument before any request (exit 2): no id or name is one."""
    for each in value if isinstance(value, list) else [value]:
        if each is not None and not each.strip():
            raise typer.BadParameter("must not be empty")
    return value


def _info(help: str, **settings: Any) -> Any:
    """The typer.Argument with HELP and Typer's SETTINGS (metavar, callback, completion); its
    callback refuses an empty value unless SETTINGS name another."""
    settings.setdefault("callback", _given)
    return typer.Argument(help=help, show_default=False, **settings)


def _argument(help: str, **settings: Any) -> Any:
    """A required string argument with HELP and Typer's SETTINGS."""
    return Annotated[str, _info(help, **settings)]


_JOB = "Job id, unique id prefix (4+ chars) or exact job name."
JobArgument = _argument(_JOB, metavar="JOB", autocompletion=completers.jobs)
JobOptionalArgument = Annotated[  # JOB, or --all instead
    str | None, _info(_JOB, metavar="JOB", autocompletion=completers.jobs)
]
JobsArgument = Annotated[
    list[str] | None,
    _info(
        "Jobs: ids, unique id prefixes (4+ chars) or exact job names.",
        metavar="JOB...",
        autocompletion=completers.jobs,
    ),
]
JobNameArgument = Annotated[
    str | None,
    _info(
        "A job name (savepoints are kept per name, across job ids).",
        metavar="JOB_NAME",
        autocompletion=completers.jobs,
    ),
]
VertexArgument = _argument(
    "Vertex id, unique id prefix or exact vertex name.",
    metavar="VERTEX",
    autocompletion=completers.vertices,
)
IndexArgument = Annotated[int, typer.Argument(min=0, help="Subtask index (0 .. parallelism-1).")]
TaskManagerArgument = _argument(
    "Task manager id or a unique prefix of it.",
    metavar="TM",
    autocompletion=completers.taskmanagers,
)
JarArgument = _argument("Jar id, unique id prefix, or the uploaded file's name.")
JarOrFileArgument = _argument(
    "A local jar file (uploaded first), or a jar id, id prefix or uploaded file name."
)
ApplicationArgument = _argument("Application id, unique id prefix (4+ chars) or exact name.")
ContextArgument = _argument("Context name.", autocompletion=completers.contexts)
CheckpointArgument = _argument(
    "Checkpoint id, or 'latest' (the newest in the history).", callback=_checkpoint
)
TriggerIdArgument = _argument(
    "Trigger id printed by the trigger command.", callback=_hex_id("trigger id")
)
DatasetArgument = _argument("Data set id (32 hex characters).", callback=_hex_id("data set id"))
SavepointPathArgument = _argument("Savepoint path or URI, as printed by trigger.")


def job_id(inv: Invocation, value: str) -> str:
    """Resolve a JOB argument (on INV's cluster) to a job id (one GET /jobs/overview unless it is a full id)."""
    from flinkctl.client.resolve import job

    return job(inv.client(), value)


def job_and_vertex(
    inv: Invocation, job_value: str, vertex_value: str
) -> tuple[str, str, "JobDetails"]:
    """Resolve JOB and VERTEX; returns (job id, vertex id, the job's details)."""
    from flinkctl.client.resolve import vertex

    jid = job_id(inv, job_value)
    details = inv.client().job(jid)
    return jid, vertex(details, vertex_value), details


def taskmanager_id(inv: Invocation, value: str) -> str:
    """Resolve a TM argument: a task manager id or a unique prefix of it."""
    from flinkctl.client.resolve import taskmanager

    return taskmanager(inv.client(), value)


def jar_id(inv: Invocation, value: str, *, newest: bool = False) -> str:
    """Resolve a JAR argument: an id, a unique prefix or an uploaded file name (with NEWEST, the
    newest upload of a name several share, said on stderr)."""
    from flinkctl.client.resolve import jar

    return jar(inv.client(), value, newest=newest, chose=_chose_newest)["id"]


def _chose_newest(found: "JarFile", uploads: "list[JarFile]") -> None:
    """Say on stderr (whatever the output format) which of several uploads a name picked."""
    import warnings

    from flinkctl.errors import FlinkctlWarning
    from flinkctl.output.humanize import timestamp

    warnings.warn(
        f"{len(uploads)} uploads of {found.get('name')}: using the newest, {found.get('id')} "
        f"(uploaded {timestamp(found.get('uploaded'))})",
        FlinkctlWarning,
        stacklevel=1,
    )


def application_id(inv: Invocation, value: str) -> str:
    """Resolve an APPLICATION argument (see flinkctl.client.resolve.application)."""
    from flinkctl.client.resolve import application

    return application(inv.client(), value)


def checkpoint_id(stats: "CheckpointStats | None", value: str) -> int:
    """A checkpoint id from a CHECKPOINT argument: a number, or `latest`, the newest checkpoint
    in STATS.

    STATS is the body of GET /jobs/:jobid/checkpoints, needed only for `latest` (which means
    the newest checkpoint of any status in the history, falling back to the latest
    completed one). A malformed VALUE is a UsageError; `latest` with no checkpoint NotFound.
    """
    from flinkctl.flink import newest_checkpoint_id

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
