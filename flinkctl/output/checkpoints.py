"""Column specs for checkpoint statistics, details and configuration."""

from __future__ import annotations

from typing import Any

from flinkctl.flink import obj, objects
from flinkctl.output.columns import wide
from flinkctl.output.humanize import KINDS, text
from flinkctl.output.render import FREE, ID, Column, Page, View, fields


def _acked(c: dict) -> str:
    return f"{c.get('num_acknowledged_subtasks', '?')}/{c.get('num_subtasks', '?')}"


# One column per checkpoint statistic, for the tables; the detail views label them ("Full size")
STATUS = Column("STATUS", "status")
TYPE = Column("TYPE", "checkpoint_type")
SAVEPOINT = Column("SAVEPOINT", "is_savepoint")
TRIGGERED = Column("TRIGGERED", "trigger_timestamp", "time")
DURATION = Column("DURATION", "end_to_end_duration", "duration")
SIZE = Column("SIZE", "checkpointed_size", "bytes")
ACKED = Column("ACKED", _acked)
LATEST_ACK = Column("LATEST ACK", "latest_ack_timestamp", "time")
FULL_SIZE = Column("FULL SIZE", "state_size", "bytes", wide=True)
UNALIGNED_DATA = [  # what unaligned checkpoints processed and persisted
    Column("PROCESSED", "processed_data", "bytes", wide=True),
    Column("PERSISTED", "persisted_data", "bytes", wide=True),
]
PATH = Column("PATH", "external_path", wide=True, fit=FREE)
FAILURE = Column("FAILURE", "failure_message", wide=True, fit=FREE)

HISTORY_COLUMNS = [
    Column("ID", "id", fit=ID),
    STATUS,
    TYPE,
    SAVEPOINT,
    TRIGGERED,
    DURATION,
    SIZE,
    ACKED,
    FULL_SIZE,
    *UNALIGNED_DATA,
    wide(LATEST_ACK),
    PATH,
    FAILURE,
]

# (label, key in "summary", kind); wide-only rows last
SUMMARY_ROWS = (
    ("Duration", "end_to_end_duration", "duration"),
    ("Checkpointed size", "checkpointed_size", "bytes"),
    ("Full size", "state_size", "bytes"),
    ("Processed (unaligned)", "processed_data", "bytes"),
    ("Persisted (unaligned)", "persisted_data", "bytes"),
)
STATS = ("min", "avg", "max", "p99")
LATEST_KINDS = ("completed", "savepoint", "failed", "restored")


def _summary(page: Page, summary: dict, rows: tuple, stats: tuple) -> None:
    """A table of the min/avg/max/... statistics in SUMMARY, after a blank line (if any)."""
    cells = [
        [label, *(KINDS[kind](obj(summary.get(key)).get(s)) for s in stats)]
        for label, key, kind in rows
        if key in summary
    ]
    if cells:
        page.out()
        page.table(["SUMMARY", *(s.upper() for s in stats)], cells)


def _latest(c: Any) -> str:
    if not c:
        return "-"
    parts = [f"#{c.get('id')}"]
    when = c.get("restore_timestamp") or c.get("failure_timestamp") or c.get("trigger_timestamp")
    parts.append(KINDS["time"](when))
    if "end_to_end_duration" in c:
        parts.append(KINDS["duration"](c.get("end_to_end_duration")))
    if c.get("checkpointed_size") is not None:
        parts.append(KINDS["bytes"](c.get("checkpointed_size")))
    where = c.get("external_path") or c.get("failure_message")
    return " ".join(parts) + (f" {where}" if where else "")


def _history(data: dict, page: Page) -> None:
    counts = obj(data.get("counts"))
    keys = ("total", "completed", "failed", "in_progress", "restored")
    page.details(
        [("Counts", ", ".join(f"{counts.get(k, 0)} {k.replace('_', ' ')}" for k in keys))]
        + [(f"Latest {k}", _latest(obj(data.get("latest")).get(k))) for k in LATEST_KINDS]
    )
    _summary(page, obj(data.get("summary")), SUMMARY_ROWS if page.wide else SUMMARY_ROWS[:3], STATS)
    page.out()
    page.rows_table(HISTORY_COLUMNS, objects(data.get("history")), "no checkpoints")


CHECKPOINTS = View(table=_history, rows=lambda d: objects(d.get("history")), name="id")

DETAIL_COLUMNS = [
    Column("ID", "id"),
    STATUS,
    TYPE,
    SAVEPOINT,
    TRIGGERED,
    LATEST_ACK,
    DURATION,
    Column("CHECKPOINTED SIZE", "checkpointed_size", "bytes"),
    FULL_SIZE,
    *UNALIGNED_DATA,
    Column("ACKNOWLEDGED", _acked),
    PATH,
    Column("DISCARDED", "discarded"),
    Column("FAILED AT", "failure_timestamp", "time"),
    FAILURE,
]

TASK_COLUMNS = [
    Column("VERTEX", "name", fit=FREE),
    STATUS,
    ACKED,
    DURATION,
    SIZE,
    LATEST_ACK,
    FULL_SIZE,
    *UNALIGNED_DATA,
    Column("VERTEX ID", "vertex", wide=True, fit=ID),
]


def _present(data: dict, columns: list[Column]) -> list[tuple[str, str]]:
    """FIELD/VALUE pairs of the columns whose key the body has, labelled ("Full size")."""
    present = [c for c in columns if callable(c.get) or c.get.split(".")[0] in data]
    return fields(data, present, labels=True)


def checkpoint_view(names: dict[str, str | None]) -> View:
    """One checkpoint and its per-vertex statistics; NAMES maps vertex ids to names."""

    def render(data: dict, page: Page) -> None:
        page.details(_present(data, DETAIL_COLUMNS))
        tasks = [
            {**task, "vertex": vid, "name": names.get(vid, vid)}
            for vid, task in obj(data.get("tasks")).items()
            if isinstance(task, dict)
        ]
        if tasks:
            page.out()
            page.rows_table(TASK_COLUMNS, tasks)

    return View(table=render, name="id")


VERTEX_SUMMARY_ROWS = (
    ("Duration", "end_to_end_duration", "duration"),
    ("Checkpointed size", "checkpointed_size", "bytes"),
    ("Full size", "state_size", "bytes"),
    ("Sync", "checkpoint_duration.sync", "duration"),
    ("Async", "checkpoint_duration.async", "duration"),
    ("Alignment", "alignment.duration", "duration"),
    ("Start delay", "start_delay", "duration"),
    ("Buffered", "alignment.buffered", "bytes"),
    ("Processed", "alignment.processed", "bytes"),
    ("Persisted", "alignment.persisted", "bytes"),
)

CHECKPOINT_SUBTASK_COLUMNS = [
    Column("SUBTASK", "index"),
    STATUS,
    Column("ACK", "ack_timestamp", "time"),
    DURATION,
    SIZE,
    Column("SYNC", "checkpoint.sync", "duration"),
    Column("ASYNC", "checkpoint.async", "duration"),
    Column("ALIGNMENT", "alignment.duration", "duration"),
    Column("START DELAY", "start_delay", "duration"),
    Column("UNALIGNED", "unaligned_checkpoint"),
    FULL_SIZE,
    Column("BUFFERED", "alignment.buffered", "bytes", wide=True),
    Column("PROCESSED", "alignment.processed", "bytes", wide=True),
    Column("PERSISTED", "alignment.persisted", "bytes", wide=True),
    Column("ABORTED", "aborted", wide=True),
]


def _flat(summary: dict) -> dict:
    """{"alignment": {"duration": {...}}} -> {"alignment.duration": {...}}."""
    flat = {}
    for key, value in summary.items():
        if isinstance(value, dict) and "min" not in value:
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def checkpoint_vertex_view(name: str | None) -> View:
    """One vertex's part of a checkpoint: header, min/avg/max summary, and each subtask."""

    def render(data: dict, page: Page) -> None:
        page.details([("Vertex", text(name))] + _present(data, DETAIL_COLUMNS))
        rows = VERTEX_SUMMARY_ROWS if page.wide else VERTEX_SUMMARY_ROWS[:7]
        _summary(page, _flat(obj(data.get("summary"))), rows, ("min", "avg", "max"))
        page.out()
        page.rows_table(CHECKPOINT_SUBTASK_COLUMNS, objects(data.get("subtasks")))

    return View(table=render, rows=lambda d: objects(d.get("subtasks")), name="index")


CHECKPOINT_CONFIG = View(
    detail=True,
    columns=[
        Column("Mode", "mode"),
        Column("Interval", "interval", "duration"),
        Column("Timeout", "timeout", "duration"),
        Column("Min pause", "min_pause", "duration"),
        Column("Max concurrent", "max_concurrent"),
        Column("Tolerable failures", "tolerable_failed_checkpoints"),
        Column("Unaligned", "unaligned_checkpoints"),
        Column("Aligned timeout", "aligned_checkpoint_timeout", "duration"),
        Column("State backend", "state_backend"),
        Column("Checkpoint storage", "checkpoint_storage"),
        Column("Externalized", "externalization.enabled"),
        Column("Delete on cancel", "externalization.delete_on_cancellation"),
        Column("After tasks finish", "checkpoints_after_tasks_finish"),
        Column("Changelog", "state_changelog_enabled", wide=True),
        Column("Changelog storage", "changelog_storage", wide=True),
        Column(
            "Materialization interval",
            "changelog_periodic_materialization_interval",
            "duration",
            wide=True,
        ),
    ],
)
