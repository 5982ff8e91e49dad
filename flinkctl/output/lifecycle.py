"""Views for jars, asynchronous operations, datasets and applications.

Commands that trigger or wait print a documented flinkctl object (see the README):
- triggered, not waited: {"job-id" | "savepoint-path" | "dataset-id", "trigger-id"}
- completed: the same plus "status", "duration-ms" and "location" (savepoint, stop)
  or "checkpoint-id" (checkpoint)
- jars run: {"job-id", "jar-id", "state"}
"""

from __future__ import annotations

from typing import Any

from flinkctl.flink import array, failure_trace, jar_id, objects, trace_summary
from flinkctl.output.columns import END, run_columns
from flinkctl.output.render import FREE, ID, Column, Page, View


def _first_of(*keys: str):
    def get(data: dict) -> Any:
        return next((data[k] for k in keys if data.get(k) is not None), None)

    return get


def _print_key(*keys: str):
    """A table renderer that prints the first present KEY as one bare line (for `$(...)`)."""
    get = _first_of(*keys)

    def table(data: dict, page: Page) -> None:
        value = get(data)
        if value is not None:
            page.out(str(value))

    return table


JARS = View(
    rows=lambda d: objects(d.get("files")),
    columns=[
        Column("ID", "id", fit=ID),
        Column("NAME", "name", fit=FREE),
        Column("UPLOADED", "uploaded", "time"),
        Column(
            "ENTRY CLASSES", lambda f: [e.get("name") for e in objects(f.get("entry"))], fit=FREE
        ),
    ],
    name="id",
    empty="no jars",
)


JAR_UPLOADED = View(table=lambda d, page: page.out(jar_id(d)), name=jar_id)

TRIGGERED = View(table=_print_key("trigger-id"), name="trigger-id")

COMPLETED = View(
    table=_print_key("location", "checkpoint-id"),
    name=_first_of("location", "checkpoint-id", "trigger-id"),
)

STARTED = View(table=_print_key("job-id"), name="job-id")

APPLICATION_STARTED = View(table=_print_key("applicationid"), name="applicationid")


def _failure(body: dict) -> str | None:
    trace = failure_trace(body.get("operation"))
    return trace_summary(trace) if trace else None


OPERATION_STATUS = View(
    detail=True,
    columns=[
        Column("Status", "status.id"),
        Column("Location", "operation.location"),
        Column("Checkpoint", "operation.checkpointId"),
        Column("Failure", _failure),
    ],
    name="status.id",
)

DATASETS = View(
    rows=lambda d: objects(d.get("dataSets")),
    columns=[Column("ID", "id", fit=ID), Column("COMPLETE", "isComplete")],
    name="id",
)


def _count_jobs(app: dict) -> str:
    jobs = app.get("jobs")
    if isinstance(jobs, dict):
        return ", ".join(f"{n} {s.lower()}" for s, n in jobs.items()) or "-"
    return str(len(array(jobs)))


APPLICATIONS = View(
    rows=lambda d: objects(d.get("applications")),
    columns=[
        *run_columns("id", "status"),
        Column("JOBS", _count_jobs),
        END,
    ],
    name="id",
    empty="no applications",
)


def _application(data: dict, page: Page) -> None:
    from flinkctl.output.jobs import JOBS
    from flinkctl.output.render import fields

    header = [c for c in APPLICATIONS.columns if c.header != "JOBS"]  # a table of them follows
    page.details(fields(data, header, labels=True))
    page.out()
    page.rows_table(JOBS.columns, objects(data.get("jobs")))


APPLICATION = View(table=_application, name="id")
