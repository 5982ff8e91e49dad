"""Rescale views: `jobs rescale`'s new requirements and `jobs rescales` (Flink 2.3+ history)."""

from __future__ import annotations

from typing import Any

from flinkctl.flink import obj, objects, trace_summary
from flinkctl.output.humanize import count, duration, text
from flinkctl.output.render import FREE, ID, Column, Page, View, fields


def rescale_view(names: dict[str, str | None], before: dict) -> View:
    """VERTEX NAME FROM TO rows for a resource-requirements body (vertex id -> bounds)."""

    def upper(reqs: dict, vid: str) -> Any:
        return obj(obj(reqs.get(vid)).get("parallelism")).get("upperBound")

    return View(
        rows=lambda d: [{"id": vid, **req} for vid, req in d.items()],
        columns=[
            Column("VERTEX", "id", fit=ID),
            Column("NAME", lambda r: names.get(r["id"]), fit=FREE),
            Column("FROM", lambda r: upper(before, r["id"])),
            Column("TO", "parallelism.upperBound"),
            Column("LOWER BOUND", "parallelism.lowerBound", wide=True),
        ],
        name="id",
    )


# -- jobs rescales: the rescale history (Flink 2.3+, adaptive scheduler) ------------------------


def _rescale_duration(r: dict) -> Any:
    start, end = r.get("startTimestampInMillis"), r.get("endTimestampInMillis")
    return end - start if isinstance(start, int) and isinstance(end, int) and end >= start else None


RESCALE_COLUMNS = [
    Column("UUID", "rescaleUuid", fit=ID),
    Column("TRIGGER", "triggerCause"),
    Column("STATE", "terminalState"),
    Column("REASON", "terminatedReason", fit=FREE),
    Column("START", "startTimestampInMillis", "time"),
    Column("DURATION", _rescale_duration, "duration"),
    Column("ATTEMPT", "rescaleAttemptId", wide=True, fit=ID),
    Column("REQUIREMENTS", "resourceRequirementsUuid", wide=True, fit=ID),
    Column("END", "endTimestampInMillis", "time", wide=True),
]


COUNTS = (
    ("Completed", "completed"),
    ("In progress", "inProgress"),
    ("Failed", "failed"),
    ("Ignored", "ignored"),
)
DURATION_STATS = (
    ("all", "rescalesDurationStatsInMillis"),
    ("completed", "completedRescalesDurationStatsInMillis"),
    ("failed", "failedRescalesDurationStatsInMillis"),
    ("ignored", "ignoredRescalesDurationStatsInMillis"),
)


def _counts(data: dict) -> list[tuple[str, str]]:
    counts = obj(data.get("rescalesCounts"))
    return [(label, count(counts.get(key))) for label, key in COUNTS]


def _rescales_overview(data: dict, page: Page) -> None:
    page.details(_counts(data))
    latest = [(kind, r) for kind, r in obj(data.get("latest")).items() if r and isinstance(r, dict)]
    if latest:
        page.out()
        cols = [c for c in RESCALE_COLUMNS if page.wide or not c.wide]
        page.table(
            ["LATEST"] + [c.header for c in cols],
            [[kind] + [c.cell(r) for c in cols] for kind, r in latest],
        )


def _latest(data: dict) -> list[dict]:
    return [r for r in objects(list(obj(data.get("latest")).values())) if r]


RESCALES_OVERVIEW = View(table=_rescales_overview, rows=_latest, name="rescaleUuid")

RESCALES_HISTORY = View(columns=RESCALE_COLUMNS, name="rescaleUuid")


def _stat(value: Any) -> str:
    return duration(value) if isinstance(value, (int, float)) else text(value)


def _rescales_summary(data: dict, page: Page) -> None:
    page.details(_counts(data))
    stats = ["min", "avg", "p50", "p90", "p99", "max"]
    if page.wide:
        stats[4:4] = ["p95"]
        stats[-1:-1] = ["p999"]
    page.out()
    page.table(
        ["DURATIONS"] + [s.upper() for s in stats],
        [[kind] + [_stat(obj(data.get(k)).get(s)) for s in stats] for kind, k in DURATION_STATS],
    )


RESCALES_SUMMARY = View(table=_rescales_summary)


def _config_rows(data: dict) -> list[dict]:
    return [{"key": k, "value": v} for k, v in data.items()]


def _config_value(row: dict) -> str:
    key, value = row["key"], row["value"]
    if key.endswith("InMillis") and isinstance(value, (int, float)):
        return duration(value)
    return text(value)


RESCALES_CONFIG = View(
    rows=_config_rows,
    columns=[Column("KEY", "key"), Column("VALUE", _config_value, fit=FREE)],
    name="key",
)


RESCALE_VERTEX_COLUMNS = [
    Column("VERTEX", "jobVertexName", fit=FREE),
    Column("DESIRED", "desiredParallelism"),
    Column("SUFFICIENT", "sufficientParallelism"),
    Column("BEFORE", "preRescaleParallelism"),
    Column("AFTER", "postRescaleParallelism"),
    Column("ID", "jobVertexId", wide=True, fit=ID),
]
RESCALE_SLOT_COLUMNS = [
    Column("SLOT SHARING GROUP", "slotSharingGroupName", wide=True),
    Column("DESIRED SLOTS", "desiredSlots", wide=True),
    Column("MINIMAL", "minimalRequiredSlots", wide=True),
    Column("BEFORE", "preRescaleSlots", wide=True),
    Column("AFTER", "postRescaleSlots", wide=True),
]
SCHEDULER_STATE_COLUMNS = [
    Column("SCHEDULER STATE", "state"),
    Column("ENTERED", "enterTimestampInMillis", "time"),
    Column("DURATION", "durationInMillis", "duration"),
    Column(
        "EXCEPTION", lambda s: trace_summary(s.get("stringifiedException")), wide=True, fit=FREE
    ),
]


def _rescale_details(data: dict, page: Page) -> None:
    page.details(fields(data, RESCALE_COLUMNS, labels=True))
    for columns, key in ((RESCALE_VERTEX_COLUMNS, "vertices"), (RESCALE_SLOT_COLUMNS, "slots")):
        rows = objects(list(obj(data.get(key)).values()))
        if rows and any(page.wide or not c.wide for c in columns):
            page.out()
            page.rows_table(columns, rows)
    states = objects(data.get("schedulerStates"))
    if states:
        page.out()
        page.rows_table(SCHEDULER_STATE_COLUMNS, states)


RESCALE_DETAILS = View(table=_rescale_details, name="rescaleUuid")

RESCALE_VIEWS = {
    "overview": RESCALES_OVERVIEW,
    "history": RESCALES_HISTORY,
    "summary": RESCALES_SUMMARY,
    "config": RESCALES_CONFIG,
    "details": RESCALE_DETAILS,
}
