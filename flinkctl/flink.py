"""Flink's own vocabulary: job states, ids, Java trace summaries, REST conventions and bodies.

Below both client/ and output/ (each uses it, neither imports the other); no typer, rich or
httpx here.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypedDict

# -- job states (Flink's JobStatus) ----------------------------------------------------------

JOB_STATES = (
    "INITIALIZING", "CREATED", "RUNNING", "FAILING", "FAILED", "CANCELLING", "CANCELED",
    "FINISHED", "RESTARTING", "SUSPENDED", "RECONCILING",
)  # fmt: skip
STARTING_STATES = frozenset({"INITIALIZING", "CREATED"})
RECOVERING_STATES = frozenset({"RESTARTING", "RECONCILING"})
# running, or on the way to running
ACTIVE_STATES = STARTING_STATES | RECOVERING_STATES | {"RUNNING"}
FAILURE_STATES = frozenset({"FAILING", "FAILED"})
# globally terminal: the job never runs again (JobStatus.isGloballyTerminalState)
TERMINAL_STATES = frozenset({"FINISHED", "CANCELED", "FAILED"})
# ended on this JobManager: terminal, or SUSPENDED (JobStatus.isTerminalState)
ENDED_STATES = TERMINAL_STATES | {"SUSPENDED"}
# failing, failed, cancelling, cancelled or suspended: a job in one will not finish on its own
UNSUCCESSFUL_STATES = FAILURE_STATES | {"CANCELLING", "CANCELED", "SUSPENDED"}
# the vertex states of a job that takes part in checkpoints and savepoints (a task that finished,
# e.g. a bounded source, still does since Flink 1.15)
CHECKPOINTING_VERTEX_STATES = frozenset({"RUNNING", "FINISHED"})


def all_running(job: Mapping[str, Any], *, finished_ok: bool = False) -> bool:
    """Whether a GET /jobs/:jobid body shows the job RUNNING and every vertex RUNNING (with
    FINISHED_OK, or FINISHED): a job that checkpoints, where one with a restarting or still
    deploying task does not."""
    wanted = CHECKPOINTING_VERTEX_STATES if finished_ok else {"RUNNING"}
    vertices = job.get("vertices") or []
    return job.get("state") == "RUNNING" and all(v.get("status") in wanted for v in vertices)


# -- ids -------------------------------------------------------------------------------------

HEX_ID = r"[0-9a-f]{32}"


def is_hex_id(value: str) -> bool:
    """Whether VALUE is a full Flink id (job, trigger, data set): 32 lowercase hex characters."""
    return re.fullmatch(HEX_ID, value) is not None


def jar_id(upload: Mapping[str, object]) -> str:
    """The jar id (the stored file's name) from a POST /jars/upload answer."""
    return Path(str(upload.get("filename", ""))).name


# -- Java stack traces -----------------------------------------------------------------------

JAVA_CLASS = r"(?:[\w$]+\.)+([\w$]*(?:Exception|Error|Throwable)[\w$]*): "
CAUSED_BY = "Caused by: "
# lines Flink's REST handlers put before the real message of an error
REST_ERROR_NOISE = ("Internal server error.", "<Exception on server side:")


def _lines(text: object) -> list[str]:
    return [ln.strip() for ln in str(text or "").splitlines() if ln.strip()]


def first_line(trace: object) -> str:
    """'org.x.FooException: msg\\n\\tat ...' -> 'FooException: msg' ('' for no trace)."""
    line = next(iter(_lines(trace)), "")
    cls, sep, msg = line.partition(": ")
    if " " not in cls and "." in cls:
        cls = cls.rsplit(".", 1)[-1]
    return f"{cls}{sep}{msg}"


def error_summary(message: str, *, deepest: bool = True) -> str:
    """A Flink REST error message on one line: its first meaningful line without its Java
    class, and (with DEEPEST) its deepest "Caused by" when that says something else.

    'Could not execute application.; caused by: NumberFormatException: For input string: "x"'
    """
    lines = [ln for ln in _lines(message) if ln not in REST_ERROR_NOISE]
    line = lines[0] if lines else ""
    match = re.match(JAVA_CLASS, line)
    first = line[match.end() :] if match else line
    causes = [ln[len(CAUSED_BY) :].strip() for ln in lines if ln.startswith(CAUSED_BY)]
    cause = _innermost(causes[-1]) if causes and deepest else ""
    if not cause or first in (cause, cause.partition(": ")[2]):
        return first
    return f"{first}; caused by: {cause}"


def _innermost(line: str) -> str:
    """'x.A: y.B: msg' -> 'B: msg': the line without its wrapper exceptions."""
    match = re.match(JAVA_CLASS, line)
    while match and re.match(JAVA_CLASS, line[match.end() :]):
        line = line[match.end() :]
        match = re.match(JAVA_CLASS, line)
    return f"{match.group(1)}: {line[match.end() :]}" if match else line


def trace_summary(trace: str) -> str:
    """One line for a Java trace: its first line and, if different, its deepest "Caused by".

    The lines Flink's REST handlers wrap a server-side trace in are skipped.
    """
    lines = [ln for ln in _lines(trace) if ln not in REST_ERROR_NOISE]
    causes = [ln[len(CAUSED_BY) :].strip() for ln in lines if ln.startswith(CAUSED_BY)]
    parts = [_innermost(line) for line in [*lines[:1], *causes[-1:]]]
    return "; caused by: ".join(dict.fromkeys(p for p in parts if p))


def failures(exceptions: JobExceptions) -> list[Json]:
    """The failures in GET /jobs/:jobid/exceptions' history, newest first: one per restart (or
    the final failure), kept even when the job recovered between two polls."""
    return objects(obj(exceptions.get("exceptionHistory")).get("entries"))


def last_failure(exceptions: JobExceptions) -> str | None:
    """The newest failure of a job on one line (first line and deepest cause), if any."""
    entries = failures(exceptions)
    trace = entries[0].get("stacktrace") if entries else exceptions.get("root-exception")
    return trace_summary(str(trace)) if trace else None


def failure_trace(operation: Json | None) -> str | None:
    """The Java trace of a failed asynchronous operation; None if it did not fail.

    Savepoints, disposal and data sets call the cause `failure-cause`, checkpoints `failureCause`.
    """
    operation = obj(operation)
    cause = operation.get("failure-cause") or operation.get("failureCause")
    if not cause:
        return None
    cause = obj(cause)
    return str(cause.get("stack-trace") or cause.get("class") or "unknown cause").rstrip()


def newest_checkpoint_id(stats: CheckpointStats) -> int | None:
    """The newest checkpoint of any status in the statistics' history, else the latest
    completed one; None when the job has none."""
    ids = [c["id"] for c in objects(stats.get("history")) if isinstance(c.get("id"), int)]
    completed = obj(obj(stats.get("latest")).get("completed")).get("id")
    if isinstance(completed, int):
        ids.append(completed)
    return max(ids, default=None)


# -- reading bodies --------------------------------------------------------------------------
# Flink's answers change between versions and pass through gateways: a field may be missing,
# null or of another type. Readers take what they can through these and show the rest as '-'.


def number(value: object) -> int | float | None:
    """VALUE if it is a finite JSON number (not a boolean), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if isinstance(value, int) or math.isfinite(value) else None


def obj(value: object) -> dict[Any, Any]:
    """VALUE if it is a JSON object, else {} (missing, null or another type)."""
    return value if isinstance(value, dict) else {}


def array(value: object) -> list[Any]:
    """VALUE if it is a JSON array, else [] (missing, null or another type)."""
    return value if isinstance(value, list) else []


def objects(value: object) -> list[dict[str, Any]]:
    """The JSON objects in VALUE if it is an array, else [] (other entries are left out)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


# -- configuration ---------------------------------------------------------------------------


def dotted_keys(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested configuration maps as Flink's dotted keys: {"a": {"b": 1}} -> {"a.b": 1} (as in
    config.yaml and a job's execution config); an empty map stays a value."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping) and value:
            flat.update(dotted_keys(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


# -- REST conventions ------------------------------------------------------------------------

# answers of a JobManager restarting or behind a busy proxy: worth asking again
TRANSIENT_STATUSES = frozenset({502, 503, 504})
# Flink's 404 for a path it has no handler for: from the web UI's file server ("Unable to load
# requested file /x.", and its 400 "POST request not allowed" for other methods), or from the
# router without the web UI ("Not found: /x", "Not found.")
UNKNOWN_PATH = (
    r"(?s)Unable to load requested file /.*|Not found(?:\.|: /.*)|[A-Z]+ request not allowed"
)


def is_unknown_path(messages: list[str]) -> bool:
    """Whether Flink's error MESSAGES say the requested path has no handler (not that an
    object is missing: that is a NotFoundException naming it)."""
    return bool(messages) and all(re.fullmatch(UNKNOWN_PATH, m.strip()) for m in messages)


# the `agg` values of the aggregated metrics endpoints, and those asked for by default
METRIC_AGGREGATIONS = ("min", "max", "avg", "sum", "skew")
DEFAULT_AGGREGATIONS = ("min", "max", "avg", "sum")


MAX_EPOCH_MS = 253402300799999  # 9999-12-31: later ones are no time a clock can show


def local_time(epoch_ms: object) -> str:
    """One of Flink's epoch-millisecond timestamps as local 'YYYY-MM-DD HH:MM:SS'; unset
    (Flink sends 0 or -1) -> '-'."""
    value = number(epoch_ms)
    if value is None or not 0 < value < MAX_EPOCH_MS:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value / 1000))


# -- REST bodies -----------------------------------------------------------------------------
# The shapes flinkctl reads (total=False: fields come and go between Flink versions). Keys
# with a hyphen need the functional syntax. A body flinkctl passes through unread is `Json`.

Json = dict[str, Any]  # a JSON object read by key; its values are whatever Flink sends

DashboardConfig = TypedDict(
    "DashboardConfig",
    {"refresh-interval": int, "timezone-name": str, "flink-version": str, "flink-revision": str},
    total=False,
)
ClusterOverview = TypedDict(
    "ClusterOverview",
    {
        "taskmanagers": int,
        "slots-total": int,
        "slots-available": int,
        "jobs-running": int,
        "jobs-finished": int,
        "jobs-cancelled": int,
        "jobs-failed": int,
        "flink-version": str,
        "flink-commit": str,
    },
    total=False,
)
JobOverview = TypedDict(
    "JobOverview",
    {
        "jid": str,
        "name": str,
        "state": str,
        "start-time": int,
        "end-time": int,
        "duration": int,
        "last-modification": int,
        "tasks": dict[str, int],
    },
    total=False,
)


class JobsOverview(TypedDict, total=False):
    """GET /jobs/overview."""

    jobs: list[JobOverview]


JobVertex = TypedDict(
    "JobVertex",
    {
        "id": str,
        "name": str,
        "parallelism": int,
        "maxParallelism": int,
        "status": str,
        "start-time": int,
        "end-time": int,
        "duration": int,
        "tasks": dict[str, int],
        "metrics": dict[str, int | bool],  # I/O counters, and whether each is complete
    },
    total=False,
)
JobDetails = TypedDict(
    "JobDetails",
    {
        "jid": str,
        "name": str,
        "state": str,
        "isStoppable": bool,
        "start-time": int,
        "end-time": int,
        "duration": int,
        "maxParallelism": int,
        "now": int,
        "timestamps": dict[str, int],
        "vertices": list[JobVertex],
        "status-counts": dict[str, int],
        "plan": Json,
    },
    total=False,
)


class JobStatus(TypedDict, total=False):
    """GET /jobs/:jobid/status."""

    status: str


Subtask = TypedDict(
    "Subtask",
    {
        "subtask": int,
        "status": str,
        "attempt": int,
        "endpoint": str,
        "start-time": int,
        "end-time": int,
        "duration": int,
        "metrics": dict[str, int | bool],  # I/O counters, and whether each is complete
        "taskmanager-id": str,
        "status-duration": dict[str, int],
    },
    total=False,
)


class VertexDetails(TypedDict, total=False):
    """GET /jobs/:jobid/vertices/:vertexid."""

    id: str
    name: str
    parallelism: int
    maxParallelism: int
    now: int
    subtasks: list[Subtask]


class ExceptionHistory(TypedDict, total=False):
    """The `exceptionHistory` of GET /jobs/:jobid/exceptions."""

    entries: list[Json]
    truncated: bool


JobExceptions = TypedDict(
    "JobExceptions",
    {"root-exception": str, "timestamp": int, "exceptionHistory": ExceptionHistory},
    total=False,
)


class CheckpointRef(TypedDict, total=False):
    """One checkpoint in the statistics' `latest` or `history` (the fields flinkctl reads)."""

    id: int
    status: str
    is_savepoint: bool
    trigger_timestamp: int
    latest_ack_timestamp: int
    external_path: str


class LatestCheckpoints(TypedDict, total=False):
    """`latest` of GET /jobs/:jobid/checkpoints: the newest of each kind."""

    completed: CheckpointRef | None
    savepoint: CheckpointRef | None
    failed: CheckpointRef | None
    restored: CheckpointRef | None


class CheckpointStats(TypedDict, total=False):
    """GET /jobs/:jobid/checkpoints."""

    counts: dict[str, int]
    summary: Json
    latest: LatestCheckpoints
    history: list[CheckpointRef]


class OperationState(TypedDict, total=False):
    """`status` of an asynchronous operation: IN_PROGRESS or COMPLETED."""

    id: str


class OperationStatus(TypedDict, total=False):
    """GET .../:triggerid of an asynchronous operation (savepoint, stop, disposal, ...)."""

    status: OperationState
    operation: Json  # location / checkpointId, or failure-cause / failureCause


Triggered = TypedDict("Triggered", {"request-id": str}, total=False)


class JarFile(TypedDict, total=False):
    """One uploaded jar in GET /jars."""

    id: str
    name: str
    uploaded: int
    entry: list[Json]


class JarList(TypedDict, total=False):
    """GET /jars."""

    address: str
    files: list[JarFile]


class JarUpload(TypedDict, total=False):
    """POST /jars/upload."""

    filename: str
    status: str


class JarRun(TypedDict, total=False):
    """POST /jars/:jarid/run."""

    jobid: str


class TaskManager(TypedDict, total=False):
    """One task manager in GET /taskmanagers (GET /taskmanagers/:id adds more)."""

    id: str
    path: str
    dataPort: int
    slotsNumber: int
    freeSlots: int
    timeSinceLastHeartbeat: int
    hardware: Json
    memoryConfiguration: Json


class TaskManagers(TypedDict, total=False):
    """GET /taskmanagers."""

    taskmanagers: list[TaskManager]


class Metric(TypedDict, total=False):
    """One entry of a metrics endpoint: the id, and a value or the asked-for aggregates."""

    id: str
    value: str
    min: float
    max: float
    avg: float
    sum: float
    skew: float


class ConfigEntry(TypedDict, total=False):
    """One `{"key", "value"}` of GET /jobmanager/config and the like."""

    key: str
    value: str


class LogFile(TypedDict, total=False):
    """One file of GET /jobmanager/logs or /taskmanagers/:id/logs."""

    name: str
    size: int
    mtime: int


class LogList(TypedDict, total=False):
    """GET /jobmanager/logs, GET /taskmanagers/:id/logs."""

    logs: list[LogFile]


class ParallelismBounds(TypedDict, total=False):
    """A vertex's resource requirement: its parallelism's lower and upper bound."""

    lowerBound: int
    upperBound: int


class VertexRequirements(TypedDict):
    """One vertex of GET/PUT /jobs/:jobid/resource-requirements."""

    parallelism: ParallelismBounds


# vertex id -> requirements
ResourceRequirements = dict[str, VertexRequirements]
