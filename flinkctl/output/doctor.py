"""The view of `flinkctl doctor`: findings most severe first, then (on a terminal) each job's
per-vertex summary, so the verdict can be checked at a glance. On a terminal the advice
follows the table, one line per finding (-o wide and piped output keep it in an ADVICE column).

The object (README, "Objects of commands that combine calls or wait"): one report per job,
{"logged-at", ["context",] "job", "name", "state", "sampled-ms", "readings",
 "findings": [{"rule", "severity", "subject", "evidence", "summary", "advice"}],
 "vertices": [{"id", "name", "parallelism", "busy-max", "busy-avg", "backpressured-max",
               "records-in-per-second", "records-out-per-second", "watermark-lag-ms"}]};
-o jsonl: one finding per line, led by the report's logged-at, context, job and name.
"""

from __future__ import annotations

import sys
from typing import Any

from flinkctl.flink import array, obj
from flinkctl.output.render import FREE, Column, View, is_tty, out, rows_table

SEVERITY_STYLES = {"critical": "red", "warning": "yellow", "info": "cyan"}

FINDINGS = [
    Column("SEVERITY", "severity"),
    Column("RULE", "rule"),
    Column("SUBJECT", "subject", fit=FREE),
    Column("FINDING", "summary", fit=FREE),
    Column("ADVICE", "advice", fit=FREE),
]
VERTICES = [
    Column("VERTEX", "name", fit=FREE),
    Column("PARALLELISM", "parallelism", "count"),
    Column("BUSY MAX", "busy-max", "ratio"),
    Column("BUSY AVG", "busy-avg", "ratio"),
    Column("BACKPRESSURED MAX", "backpressured-max", "ratio"),
    Column("RECORDS IN/S", "records-in-per-second", "count"),
    Column("RECORDS OUT/S", "records-out-per-second", "count", wide=True),
    Column("WATERMARK LAG", "watermark-lag-ms", "duration"),
    Column("ID", "id", wide=True),
]


def _reports(data: Any) -> list[dict[str, Any]]:
    return [data] if isinstance(data, dict) else [r for r in array(data) if isinstance(r, dict)]


def _rows(data: Any) -> list[dict[str, Any]]:
    """Every finding of every report, each with its report's context and job name."""
    rows = []
    for report in _reports(data):
        for finding in array(report.get("findings")):
            rows.append({"context": report.get("context"), "job-name": report.get("name"),
                         **obj(finding)})  # fmt: skip
    return rows


def _table(data: Any, wide: bool) -> None:
    reports = [r for r in _reports(data) if "findings" in r]
    columns = list(FINDINGS)
    if len(reports) > 1 or any("context" in r for r in reports):
        columns.insert(0, Column("JOB", "job-name", fit=FREE))
    if any("context" in r for r in reports):
        columns.insert(0, Column("CONTEXT", "context"))
    rows = _rows(reports)
    terminal = is_tty()
    if not rows and terminal:
        print("no findings", file=sys.stderr)
    elif terminal and not wide:  # the advice under the table, whole, rather than cut short
        rows_table(columns[:-1], rows, wide)
        out()
        for row in rows:
            out(f"{row.get('subject')}: {row.get('advice')}")
    else:
        rows_table(columns, rows, wide)
    if not terminal:
        return
    for report in reports:
        vertices = array(report.get("vertices"))
        if not vertices:
            continue
        where = f"{report['context']}/" if "context" in report else ""
        sampled = report.get("sampled-ms") or 0
        out()
        out(
            f"{where}{report.get('name')} ({report.get('job')}): {report.get('state')}, "
            f"{report.get('readings')} reading(s) over {sampled / 1000:.0f}s"
        )
        rows_table(VERTICES, vertices, wide)


DOCTOR = View(table=_table)
