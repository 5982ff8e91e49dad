"""Views of `deploy` / `rollback` reports and of `jobs history` (flinkctl objects, see README)."""

from __future__ import annotations

from typing import Any

from flinkctl.output.humanize import duration
from flinkctl.output.render import ID, Column, Page, View

REPORT_FIELDS = (
    ("NAME", "name"),
    ("RESULT", "result"),
    ("REVISION", "revision"),
    ("JOB-ID", "job-id"),
    ("PREVIOUS-JOB-ID", "previous-job-id"),
    ("SAVEPOINT", "savepoint"),
    ("CAUSE", "cause"),
    ("HINT", "hint"),
)


def _report(data: dict[str, Any], page: Page) -> None:
    """The report's fields, then its steps (STEP, STATUS, DURATION, DETAIL), then what a
    --dry-run would change."""
    pairs = [(header, str(data[key])) for header, key in REPORT_FIELDS if data.get(key) is not None]
    pairs += [("NOTE", note) for note in data.get("notes") or []]
    page.details(pairs)
    page.out()
    page.table(
        ["STEP", "STATUS", "DURATION", "DETAIL"],
        [
            [s["step"], s["status"], duration(s["duration-ms"]), s["detail"]]
            for s in data.get("steps") or []
        ],
    )
    if data.get("diff") is not None:  # --dry-run: what would change, as kubectl diff
        page.out()
        rows = [[d["field"], _shown(d["running"]), _shown(d["requested"])] for d in data["diff"]]
        page.table(["CHANGES", "RUNNING", "REQUESTED"], rows or [["(nothing)", "", ""]])


def _shown(value: object) -> str:
    return "-" if value is None else str(value)


REPORT = View(table=_report, name="job-id")


def step_line(step: dict[str, Any]) -> str:
    """One finished step as the CLI prints it on stderr while a deploy runs."""
    took = duration(step["duration-ms"])
    return f"{step['status']:<7} {step['step']:<15} {took:>6}  {step['detail']}".rstrip()


# What a revision did and how it went come before what it ran: on a narrow terminal the
# columns drop from the right (the jar's name, its args and its state's path first).
HISTORY = View(
    columns=[
        Column("REVISION", "revision"),
        Column("JOB-ID", "job-id", fit=ID),
        Column("STATE", "state"),
        Column("ACTION", "action"),
        Column("OUTCOME", "outcome"),
        Column("STARTED", "time", kind="time"),
        Column("PARALLELISM", "parallelism"),
        Column("JAR", "jar"),
        Column("ARGS", lambda r: " ".join(r.get("args") or [])),
        Column("RESTORED-FROM", "restored-from"),
        Column("BY", "by", wide=True),
        Column("RECORD", "record", wide=True),
    ],
    name="job-id",
    empty="no revisions",
)
