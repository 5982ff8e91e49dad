"""Column specs and renderers for jobs: list, details, config, exceptions, results, accumulators.

A job's plan is in plan.py, its rescales in rescale.py."""

from __future__ import annotations

from typing import Any

from flinkctl.flink import (
    JobExceptions,
    array,
    dotted_keys,
    failures,
    last_failure,
    number,
    obj,
    objects,
    trace_summary,
)
from flinkctl.output.columns import ACCUMULATOR_COLUMNS, DURATION, END, run_columns, wide
from flinkctl.output.humanize import duration, text, timestamp
from flinkctl.output.render import (
    FREE,
    ID,
    KEEP,
    Column,
    Page,
    View,
    fields,
)
from flinkctl.output.vertices import IO_COLUMNS, running_tasks, state_counts

JOBS = View(
    rows=lambda d: objects(d.get("jobs")),
    columns=[
        *run_columns("jid", "state"),
        Column("TASKS", running_tasks),
        Column("TASK STATES", state_counts("tasks"), wide=True),
        Column("TYPE", "jobType", wide=True),
        Column("SCHEDULER", "schedulerType", wide=True),
        END,
        Column("RESTARTS", "restarts", wide=True),  # added by `jobs list -o wide`
    ],
    name="jid",
    empty="no jobs",
)


def restarts(exceptions: JobExceptions | None) -> str | None:
    """A job's failures (one per restart) in its exception history: "3", "16+" when the
    history was cut short; None when unknown."""
    if exceptions is None:
        return None
    truncated = obj(exceptions.get("exceptionHistory")).get("truncated")
    return f"{len(failures(exceptions))}{'+' if truncated else ''}"


# -- jobs show -------------------------------------------------------------------------------


def _parallelism(job: dict) -> Any:
    found = (number(v.get("parallelism")) for v in objects(job.get("vertices")))
    return max((p for p in found if p is not None), default=None)


def _max_parallelism(job: dict) -> Any:
    value = job.get("maxParallelism")
    return value if isinstance(value, int) and value > 0 else None


JOB_HEADER = [
    Column("ID", "jid"),
    Column("Name", "name"),
    Column("State", "state"),
    Column("Type", "job-type"),
    Column("Scheduler", "schedulerType", wide=True),
    Column("Start", "start-time", "time"),
    Column("End", "end-time", "time"),
    Column("Duration", "duration", "duration"),
    Column("Parallelism", _parallelism),
    Column("Max parallelism", _max_parallelism, wide=True),
    Column("Tasks", state_counts("status-counts")),
    Column("Application", "application-id", wide=True),
]


def _load(key: str):
    return lambda row: obj(row.get("load")).get(key)


LOAD_COLUMNS = [
    Column("BUSY MAX", _load("busy"), "ratio"),
    Column("BACKPRESSURED MAX", _load("backpressured"), "ratio"),
]


def job_view(loads: dict[str, dict] | None = None, exceptions: JobExceptions | None = None) -> View:
    """`jobs show`: the job header (with restarts and the last exception from EXCEPTIONS,
    GET /jobs/:jobid/exceptions), then one row per vertex with I/O and the busy and
    backpressured ratios in LOADS (vertex id -> {"busy", "backpressured"}, from
    FlinkClient.vertex_loads; omitted when None)."""
    columns = [
        Column("VERTEX", "name", fit=FREE),
        Column("PARALLELISM", "parallelism"),
        Column("STATUS", "status"),
        *[c for c in IO_COLUMNS if not c.wide],
        *(LOAD_COLUMNS if loads is not None else []),
        Column("ID", "id", wide=True, fit=ID),
        wide(DURATION),
    ]

    def render_job(job: dict, page: Page) -> None:
        health = [
            ("Restarts", text(restarts(exceptions))),
            ("Last exception", text(last_failure(exceptions) if exceptions else None)),
        ]
        page.details(fields(job, JOB_HEADER, page.wide) + health)
        loaded = loads or {}
        vertices = [
            {**v, "load": loaded.get(str(v.get("id")))} for v in objects(job.get("vertices"))
        ]
        if vertices:
            page.out()
            page.rows_table(columns, vertices)

    return View(table=render_job, rows=lambda d: [d], name="jid")


STATUS = View(table=lambda data, page: page.out(text(data.get("status"))), name="status")

LOG_URL = View(table=lambda data, page: page.out(text(data.get("url"))), name="url")


# -- config ----------------------------------------------------------------------------------


def _execution_config(data: dict) -> list[dict]:
    config = dotted_keys(obj(data.get("execution-config")))
    return [{"key": k, "value": v} for k, v in config.items()]


def _job_config(data: dict, page: Page) -> None:
    page.details([("Job ID", text(data.get("jid"))), ("Name", text(data.get("name")))])
    page.out()
    rows = [[r["key"], text(r["value"])] for r in _execution_config(data)]
    page.table(["KEY", "VALUE"], rows, [KEEP, FREE])


JOB_CONFIG = View(table=_job_config, rows=_execution_config, name="key")


# -- exceptions ------------------------------------------------------------------------------


def _entries(data: dict) -> list[dict]:
    return objects(obj(data.get("exceptionHistory")).get("entries"))


def _when(entry: dict) -> int | None:
    stamp = str(entry.get("timestamp", ""))
    return int(stamp) if stamp.isdigit() else None


EXCEPTION_COLUMNS = [
    Column("TIME", _when, "time"),
    Column("TASK", "taskName", fit=FREE),
    Column("LOCATION", lambda e: e.get("endpoint") or e.get("location"), fit=FREE),
    Column(
        "EXCEPTION",
        lambda e: trace_summary(e.get("stacktrace") or e.get("exceptionName")),
        fit=FREE,
    ),
    Column("CONCURRENT", lambda e: len(array(e.get("concurrentExceptions"))), "count"),
]


def _exceptions(data: dict, page: Page) -> None:
    entries = _entries(data)
    if not page.wide:
        page.rows_table(EXCEPTION_COLUMNS, entries, "no exceptions")
    for i, entry in enumerate(entries if page.wide else []):
        if i:
            page.out()
        labels = entry.get("failureLabels") or None
        page.details(
            fields(entry, EXCEPTION_COLUMNS[:3], labels=True)
            + [("Task manager", text(entry.get("taskManagerId"))), ("Labels", text(labels))]
        )
        page.out(str(entry.get("stacktrace") or entry.get("exceptionName") or "").rstrip())
        for concurrent in objects(entry.get("concurrentExceptions")):
            page.out(f"concurrent, in {text(concurrent.get('taskName'))}:")
            page.out(str(concurrent.get("stacktrace") or "").rstrip())
    if obj(data.get("exceptionHistory")).get("truncated"):
        page.io.say("note: older exceptions were left out (raise --max)")


EXCEPTIONS = View(table=_exceptions, rows=_entries, name="exceptionName")


# -- execution result ------------------------------------------------------------------------


RESULT_FIELDS = (
    ("Job ID", "id", text),
    ("Name", "name", text),
    ("Status", "application-status", text),
    ("Start", "start-time", timestamp),
    ("End", "end-time", timestamp),
    ("Net runtime", "net-runtime", duration),
)


def _execution_result(data: dict, page: Page) -> None:
    status = obj(data.get("status")).get("id")
    result = data.get("job-execution-result")
    if not result:
        page.details([("Status", text(status))])
        return
    pairs = [
        (label, fmt(result[key]))
        for label, key, fmt in RESULT_FIELDS
        if key in result  # name, start and end are missing on older versions
    ]
    cause = result.get("failure-cause")
    if cause:
        pairs.append(
            ("Failure", text(trace_summary(cause.get("stack-trace") or cause.get("class"))))
        )
    page.details(pairs)
    accumulators = obj(result.get("accumulator-results"))
    if accumulators:
        page.out()
        rows = [[k, text(v)] for k, v in accumulators.items()]
        page.table(["ACCUMULATOR", "SERIALIZED VALUE"], rows, [KEEP, FREE])
    if cause and page.wide:
        page.out()
        page.out(str(cause.get("stack-trace") or "").rstrip())


EXECUTION_RESULT = View(
    table=_execution_result,
    rows=lambda d: [obj(d.get("job-execution-result"))],
    name="id",
)


# -- accumulators ----------------------------------------------------------------------------


def _accumulators(data: dict) -> list[dict]:
    serialized = obj(data.get("serialized-user-task-accumulators"))
    rows = [{**acc, "scope": "job"} for acc in objects(data.get("job-accumulators"))]
    rows += [
        {**acc, "scope": "task", "serialized": serialized.get(acc.get("name"))}
        for acc in objects(data.get("user-task-accumulators"))
    ]
    return rows


JOB_ACCUMULATORS = View(
    rows=_accumulators,
    columns=[
        *ACCUMULATOR_COLUMNS,
        Column("SCOPE", "scope", wide=True),
        Column("SERIALIZED", "serialized", wide=True),
    ],
    name="name",
    empty="no accumulators",
)
