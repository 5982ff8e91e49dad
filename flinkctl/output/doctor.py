"""The view of `flinkctl doctor`: findings most severe first, then (on a terminal) each job's
per-vertex summary, so the verdict can be checked at a glance. On a terminal the advice
follows the table, a paragraph per finding (-o wide and piped output keep it in an ADVICE
column).

On a terminal the findings table fits its width without cutting anything short (a finding is
worth nothing without its subject, its numbers or its advice): the finding wraps in its column,
and where the terminal is too narrow for that column beside a whole subject, the finding folds
under its row, indented, and the subject wraps in its column; narrower still, the subject folds
under its row too, leading its finding; the advice wraps with a hanging indent. Only a line
with no room left at all (a few cells) can run past the edge.

The object (README, "Objects of commands that combine calls or wait"): one report per job,
{"logged-at", ["context",] "job", "name", "state", "sampled-ms", "readings",
 "findings": [{"rule", "severity", "subject", "evidence", "summary", "advice"}],
 "vertices": [{"id", "name", "parallelism", "busy-max", "busy-avg", "backpressured-max",
               "records-in-per-second", "records-out-per-second", "watermark-lag-ms"}]};
With --all, a job that left the cluster after it was listed is {"logged-at", ["context",] "job",
"name", "note"}. -o jsonl: one finding per line, led by the report's logged-at, context, job
and name; -o custom-columns: a row per finding (its keys, and its report's context and
job-name).
"""

from __future__ import annotations

from typing import Any

from flinkctl.flink import array, obj
from flinkctl.output.render import (
    FREE,
    GAP,
    Column,
    Page,
    View,
)

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


def _table(data: Any, page: Page) -> None:
    reports = [r for r in _reports(data) if "findings" in r]
    columns = list(FINDINGS)
    if len(reports) > 1 or any("context" in r for r in reports):
        columns.insert(0, Column("JOB", "job-name", fit=FREE))
    if any("context" in r for r in reports):
        columns.insert(0, Column("CONTEXT", "context"))
    rows = _rows(reports)
    terminal = page.terminal
    if not rows and terminal:
        page.io.say("no findings")
    elif terminal and not page.wide:  # wrapped to the terminal's width, nothing cut short
        _findings(page, columns[:-1], rows)
    else:
        page.rows_table(columns, rows)
    if not terminal:
        return
    for report in reports:
        vertices = array(report.get("vertices"))
        if not vertices:
            continue
        where = f"{report['context']}/" if "context" in report else ""
        sampled = report.get("sampled-ms") or 0
        page.out()
        _wrapped(
            f"{where}{report.get('name')} ({report.get('job')}): {report.get('state')}, "
            f"{report.get('readings')} reading(s) over {sampled / 1000:.0f}s",
            page.console(),
        )
        page.rows_table(VERTICES, vertices)


FINDING_MIN = 40  # the narrowest FINDING column beside the others; narrower, it folds under
SUBJECT_MIN = 12  # the fewest cells a subject wraps to in the folded layout; fewer, it folds
HANGING = 2  # the indent of a paragraph's further lines (advice, a report's heading)


def _findings(page: Page, columns: list[Column], rows: list[dict[str, Any]]) -> None:
    """The findings table on a terminal, as wide as it is. Every column but the last (FINDING)
    whole on its row, FINDING wrapped beside them when it keeps FINDING_MIN cells. Else the
    table folds: FINDING goes under its row, indented to the RULE column, the subject wraps in
    its column if it must (or, with fewer than SUBJECT_MIN cells left for it, goes under its
    row too, leading the finding: "SUBJECT: FINDING"), and CONTEXT and JOB (-A, --all) head
    their rows instead of being columns. Then each finding's advice, led by its subject,
    wrapped."""
    from rich.text import Text

    con = page.console()
    limit = con.width
    cells = [[Text(c.cell(r).replace("\n", " ")) for c in columns] for r in rows]
    for row in cells:  # SEVERITY, RULE, SUBJECT, FINDING end a row
        row[-4].stylize(SEVERITY_STYLES.get(row[-4].plain, ""))
    natural = [
        max([len(c.header), *(row[i].cell_len for row in cells)]) for i, c in enumerate(columns)
    ]
    room = limit - sum(natural[:-1]) - GAP * (len(columns) - 1)
    folded = room < min(FINDING_MIN, natural[-1])
    shown = 3  # folded: SEVERITY, RULE and SUBJECT, or SEVERITY and RULE
    if folded:
        groups = len(columns) - 4  # CONTEXT and JOB, when shown: a heading over their rows
        columns, natural = columns[groups:-1], natural[groups:-1]
        headings = ["/".join(c.plain for c in row[:groups]) for row in cells]
        left = limit - natural[0] - natural[1] - 2 * GAP
        shown = 3 if left >= SUBJECT_MIN else 2
        columns = columns[:shown]
        widths = [natural[0], natural[1], min(natural[2], left)][:shown]
        indent = natural[0] + GAP if limit - natural[0] - GAP >= FINDING_MIN else HANGING
    else:
        headings = [""] * len(rows)
        widths = [*natural[:-1], min(natural[-1], room)]
    for line in _row([Text(c.header) for c in columns], widths, con):
        con.print(line, style="bold", soft_wrap=True)
    con.print("─" * (limit if folded else sum(widths) + GAP * (len(widths) - 1)), soft_wrap=True)
    for n, row in enumerate(cells):
        if headings[n] and (n == 0 or headings[n] != headings[n - 1]):
            _wrapped(headings[n], con, style="bold")
        for line in _row(row[-4 : shown - 4] if folded else row, widths, con):
            con.print(line, soft_wrap=True)
        if folded:
            under = row[-1] if shown == 3 else Text.assemble(row[-2], ": ", row[-1])
            for line in under.wrap(con, max(1, limit - indent)):  # under RULE
                con.print(Text(" " * indent) + _rstripped(line), soft_wrap=True)
    page.out()
    for row, finding in zip(cells, rows, strict=True):
        _wrapped(f"{row[-2].plain}: {finding.get('advice')}", con)


def _row(cells: list[Any], widths: list[int], con: Any) -> list[Any]:
    """The lines of one table row: each cell (Rich Text) wrapped to its column's WIDTHS, the
    columns side by side, GAP apart."""
    from rich.text import Text

    wrapped = [list(cell.wrap(con, max(1, w))) for cell, w in zip(cells, widths, strict=True)]
    lines = []
    for n in range(max(len(w) for w in wrapped)):
        line = Text()
        for i, cell_lines in enumerate(wrapped):
            cell = _rstripped(cell_lines[n]) if n < len(cell_lines) else Text()
            if i:
                line.append(" " * GAP)
            line.append_text(cell)
            line.append(" " * max(0, widths[i] - cell.cell_len))
        line.rstrip()
        lines.append(line)
    return lines


def _rstripped(line: Any) -> Any:
    """LINE (Rich Text) without the spaces a wrap left at its end."""
    line.rstrip()
    return line


def _wrapped(text: str, con: Any, style: str = "") -> None:
    """TEXT as a paragraph as wide as the terminal, its further lines indented by HANGING."""
    from rich.text import Text

    first, *rest = Text(text, style=style).wrap(con, con.width)
    con.print(_rstripped(first), soft_wrap=True)
    if rest:
        tail = Text(text[len(first.plain) :].lstrip(), style=style)  # lines are TEXT's pieces
        for line in tail.wrap(con, max(1, con.width - HANGING)):
            con.print(Text(" " * HANGING) + _rstripped(line), soft_wrap=True)


DOCTOR = View(table=_table, rows=_rows)
