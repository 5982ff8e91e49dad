"""Column specs for vertices, subtasks, backpressure, watermarks and flame graphs."""

from __future__ import annotations

import time
from typing import Any

from flinkctl.flink import obj, objects
from flinkctl.output.columns import ACCUMULATOR_COLUMNS, DURATION, END, START, wide
from flinkctl.output.humanize import count, duration, ratio, text, timestamp
from flinkctl.output.render import (
    FREE,
    ID,
    Column,
    Page,
    View,
    fields,
)

LIFECYCLE = ("CREATED", "SCHEDULED", "DEPLOYING", "INITIALIZING", "RUNNING")
ENDINGS = ("FINISHED", "CANCELING", "CANCELED", "FAILED")
# Flink's thresholds for backpressureLevel: ok <= 10% < low <= 50% < high
LEVEL_STYLES = {"ok": "green", "low": "yellow", "high": "bold red"}
BAR_WIDTH = 20
NO_WATERMARK = -(2**63)  # Long.MIN_VALUE: no watermark received yet


def styled(cell: str, style: str, terminal: bool) -> Any:
    """CELL coloured with STYLE on a TERMINAL (a Rich Text), plain text when piped."""
    if not terminal or not style:
        return cell
    from rich.text import Text

    return Text(cell, style=style)


def running_tasks(row: dict) -> str:
    """'2/4': running tasks of all, from a job's or a vertex's "tasks" counts."""
    tasks = {str(k).upper(): v for k, v in obj(row.get("tasks")).items() if isinstance(v, int)}
    total = tasks.pop("TOTAL", None)
    return f"{tasks.get('RUNNING', 0)}/{sum(tasks.values()) if total is None else total}"


def state_counts(key: str):
    """Column getter for a {state: count} field: 'RUNNING=2 FINISHED=1' (non-zero, no total)."""

    def get(row: dict) -> str:
        counts = obj(row.get(key))
        return " ".join(f"{k}={v}" for k, v in counts.items() if v and k.lower() != "total") or "-"

    return get


def _metric(key: str):
    """Column getter for one of Flink's per-task I/O metrics (None until reported)."""
    return lambda row: obj(row.get("metrics")).get(key)


IO_COLUMNS = [
    Column("RECORDS IN", _metric("read-records"), "count"),
    Column("RECORDS OUT", _metric("write-records"), "count"),
    Column("BYTES IN", _metric("read-bytes"), "bytes"),
    Column("BYTES OUT", _metric("write-bytes"), "bytes"),
    Column("BACKPRESSURED", _metric("accumulated-backpressured-time"), "duration", wide=True),
    Column("IDLE", _metric("accumulated-idle-time"), "duration", wide=True),
    Column("BUSY", _metric("accumulated-busy-time"), "duration", wide=True),
]

VERTICES = View(
    rows=lambda d: objects(d.get("vertices")),
    columns=[
        Column("ID", "id", fit=ID),
        Column("NAME", "name", fit=FREE),
        Column("STATUS", "status"),
        Column("PARALLELISM", "parallelism"),
        Column("TASKS", running_tasks),
        DURATION,
        *IO_COLUMNS,
        Column("MAX PARALLELISM", "maxParallelism", wide=True),
        wide(START),
        Column("SLOT SHARING GROUP", "slotSharingGroupId", wide=True),
    ],
    name="id",
    empty="no vertices",
)

VERTEX_SUBTASK_COLUMNS = [
    Column("SUBTASK", "subtask"),
    Column("STATUS", "status"),
    Column("ATTEMPT", "attempt"),
    Column("ENDPOINT", "endpoint"),
    START,
    DURATION,
    *IO_COLUMNS,
    Column("TASK MANAGER", "taskmanager-id", wide=True, fit=ID),
    END,
]


def _vertex(data: dict, page: Page) -> None:
    page.details(
        [
            ("ID", text(data.get("id"))),
            ("Name", text(data.get("name"))),
            ("Parallelism", text(data.get("parallelism"))),
            ("Max parallelism", text(data.get("maxParallelism"))),
        ]
    )
    page.out()
    page.rows_table(VERTEX_SUBTASK_COLUMNS, objects(data.get("subtasks")))


VERTEX = View(table=_vertex, name="id")


def _status_durations(data: dict) -> list[list[str]]:
    spent = obj(data.get("status-duration"))
    order = [s for s in (*LIFECYCLE, *ENDINGS) if s in spent] + sorted(
        s for s in spent if s not in LIFECYCLE + ENDINGS
    )
    return [[s, duration(spent[s])] for s in order]


def _subtask(data: dict, page: Page) -> None:
    pairs = fields(data, VERTEX_SUBTASK_COLUMNS, labels=True)
    others = objects(data.get("other-concurrent-attempts"))
    if others:
        pairs.append(("Concurrent attempts", ",".join(str(a.get("attempt")) for a in others)))
    page.details(pairs)
    rows = _status_durations(data)
    if rows:
        page.out()
        page.table(["STATE", "TIME SPENT"], rows)


SUBTASK = View(table=_subtask, name="subtask")


def _level(level: Any, terminal: bool) -> Any:
    return styled(text(level), LEVEL_STYLES.get(str(level), ""), terminal)


def _bar(value: Any, level: Any) -> Any:
    """A bar of the backpressured ratio in the level's colour (terminal only)."""
    fill = round(max(0.0, min(1.0, value)) * BAR_WIDTH) if isinstance(value, (int, float)) else 0
    return styled("█" * fill + "·" * (BAR_WIDTH - fill), LEVEL_STYLES.get(str(level), ""), True)


def backpressure_rows(vertex: dict | None, body: dict, terminal: bool) -> list[list[Any]]:
    """One row per subtask of one vertex's backpressure body; one "sampling" row while pending.
    On a TERMINAL, levels are coloured and a bar shows the backpressured ratio."""
    prefix = [text(vertex.get("name"))] if vertex is not None else []
    if body.get("status") != "ok":
        return [prefix + ["-", styled("sampling", "cyan", terminal), "-", "-", "-"]]
    rows = []
    for sub in objects(body.get("subtasks")):
        level = sub.get("backpressureLevel") or sub.get("backpressure-level")
        row = prefix + [
            text(sub.get("subtask")),
            _level(level, terminal),
            ratio(sub.get("ratio")),
            ratio(sub.get("idleRatio")),
            ratio(sub.get("busyRatio")),
        ]
        if terminal:
            row.append(_bar(sub.get("ratio"), level))
        rows.append(row)
    return rows


def _backpressure_headers(with_vertex: bool, terminal: bool) -> list[str]:
    headers = ["SUBTASK", "LEVEL", "BACKPRESSURED", "IDLE", "BUSY"]
    if terminal:
        headers.append("")
    return (["VERTEX"] if with_vertex else []) + headers


def _backpressure(data: dict, page: Page) -> None:
    page.table(
        _backpressure_headers(False, page.terminal), backpressure_rows(None, data, page.terminal)
    )
    if data.get("status") == "ok" and page.wide:
        page.out()
        page.details([("Sampled at", timestamp(data.get("end-timestamp")))])


BACKPRESSURE = View(table=_backpressure)


def _job_backpressure(data: dict, page: Page) -> None:
    rows = [
        r
        for v in objects(data.get("vertices"))
        for r in backpressure_rows(v, v["backpressure"], page.terminal)
    ]
    page.table(_backpressure_headers(True, page.terminal), rows)


JOB_BACKPRESSURE = View(
    table=_job_backpressure, rows=lambda d: objects(d.get("vertices")), name="id"
)

# the "user-accumulators" of a vertex (aggregated) or of one subtask attempt
USER_ACCUMULATORS = View(
    rows=lambda d: objects(d.get("user-accumulators")),
    columns=ACCUMULATOR_COLUMNS,
    name="name",
)


def _subtask_accumulators(data: dict) -> list[dict]:
    return [
        {
            **acc,
            "subtask": sub.get("subtask"),
            "attempt": sub.get("attempt"),
            "endpoint": sub.get("endpoint"),
        }
        for sub in objects(data.get("subtasks"))
        for acc in objects(sub.get("user-accumulators"))
    ]


SUBTASKS_ACCUMULATORS = View(
    rows=_subtask_accumulators,
    columns=[
        Column("SUBTASK", "subtask"),
        Column("NAME", "name", fit=FREE),
        Column("TYPE", "type"),
        Column("VALUE", "value", fit=FREE),
        Column("ATTEMPT", "attempt", wide=True),
        Column("ENDPOINT", "endpoint", wide=True),
    ],
    name="name",
)


def _since_created(state: str):
    def get(sub: dict) -> Any:
        ts = obj(sub.get("timestamps"))
        start, at = ts.get("CREATED"), ts.get(state)
        return at - start if isinstance(at, int) and at > 0 and isinstance(start, int) else None

    return get


SUBTASK_TIMES = View(
    rows=lambda d: objects(d.get("subtasks")),
    columns=[
        Column("SUBTASK", "subtask"),
        Column("ENDPOINT", "endpoint"),
        DURATION,
        Column("CREATED", "timestamps.CREATED", "time"),
        *(Column(f"{s} +", _since_created(s), "duration") for s in LIFECYCLE[1:]),
        *(Column(f"{s} +", _since_created(s), "duration", wide=True) for s in ENDINGS),
    ],
    name="subtask",
)


VERTEX_TASKMANAGERS = View(
    rows=lambda d: objects(d.get("taskmanagers")),
    columns=[
        Column("TASK MANAGER", "taskmanager-id", fit=ID),
        Column("ENDPOINT", "endpoint"),
        Column("STATUS", "status"),
        Column("SUBTASKS", state_counts("status-counts")),
        DURATION,
        *IO_COLUMNS,
        wide(START),
    ],
    name="taskmanager-id",
)


def _watermark(row: dict) -> int | None:
    try:
        value = int(row.get("value", ""))
    except (TypeError, ValueError, OverflowError):  # not a number, or an infinite one
        return None
    return None if value == NO_WATERMARK else value


def _lag(row: dict) -> Any:
    wm = _watermark(row)
    return None if wm is None else time.time() * 1000 - wm


def _subtask_index(row: dict) -> Any:
    head = str(row.get("id", "")).split(".", 1)[0]
    return int(head) if head.isdigit() else head


def _by_subtask(row: dict) -> tuple[int, str]:
    index = _subtask_index(row)
    return (index, "") if isinstance(index, int) else (2**31, str(index))


WATERMARKS = View(
    rows=lambda d: sorted(objects(d), key=_by_subtask),
    columns=[
        Column("SUBTASK", _subtask_index),
        Column("WATERMARK", _watermark, "time"),
        Column("LAG", _lag, "duration"),
        Column("RAW", "value", wide=True),
        Column("METRIC", "id", wide=True, fit=ID),
    ],
    name="id",
)


def _hot_lines(
    node: dict, total: int, min_share: float, depth: int = 0, chained: bool = False
) -> list[tuple[int, int, str, bool]]:
    """(depth, hits, frame, chained) of every frame with at least MIN_SHARE of TOTAL, hottest first.

    A frame that is its parent's only child with all of its samples is "chained": it stays at
    the parent's depth, so long call chains stay flat and indentation shows where time splits.
    """
    lines = [(depth, node.get("value", 0), str(node.get("name")), chained)]
    children = sorted(objects(node.get("children")), key=lambda c: -c.get("value", 0))
    straight = len(children) == 1 and children[0].get("value") == node.get("value")
    for child in children:
        if total and child.get("value", 0) / total >= min_share:
            lines += _hot_lines(child, total, min_share, depth if straight else depth + 1, straight)
    return lines


def _elide_chains(
    lines: list[tuple[int, int, str, bool]], keep: int = 2
) -> list[tuple[int, int, str]]:
    """Shorten each chain longer than KEEP*2+1 frames to its head, a "... N frames" line and its
    last KEEP frames (the frames just above where the time splits)."""
    result: list[tuple[int, int, str]] = []
    i = 0
    while i < len(lines):
        j = i + 1
        while j < len(lines) and lines[j][3]:
            j += 1
        run = lines[i:j]
        if len(run) > keep * 2 + 1:
            depth, hits = run[0][0], run[0][1]
            skipped = len(run) - 1 - keep
            run = [run[0], (depth, hits, f"... {skipped} more frames", False), *run[-keep:]]
        result += [line[:3] for line in run]
        i = j
    return result


def flamegraph_view(min_share: float) -> View:
    """The flame graph as a call tree of frames with at least MIN_SHARE of the samples;
    long unbranched call chains are shortened unless -o wide."""

    def render(data: dict, page: Page) -> None:
        root = obj(data.get("data"))
        total = root.get("value", 0)
        page.out(f"{count(total)} samples at {timestamp(data.get('endTimestamp'))}")
        if not total:
            return
        lines = _hot_lines(root, total, min_share)[1:]
        shown = [line[:3] for line in lines] if page.wide else _elide_chains(lines)
        for depth, hits, name in shown:
            page.out(f"{hits / total:6.1%} {count(hits):>8}  {'  ' * depth}{name}")

    return View(table=render)
