"""Views of the savepoint regime: the catalog merged with Flink (`savepoint list`), the results
of `savepoint trigger` over several jobs, prune plans and `savepoint check`.

The objects (README, "Objects of commands that combine calls or wait"):
- list: catalog rows {"context", "cluster", "job-id", "job-name", "kind", "started-ms",
  "status", "trigger-id", "path", "format", "finished-ms", "size", "failure", "by", "id"}
- trigger over several jobs: [{"logged-at", "job-id", "job-name", "trigger-id", "joined",
  "started-ms", "status", "location", "duration-ms"[, "error": {"code", "kind", "message"}]}],
  a skipped job {"logged-at", "job-id", "job-name", "status": "SKIPPED", "reason"}
- prune: list rows plus "logged-at", "action" (dispose | keep), "reason", "outcome"
- check: [{"logged-at", "job-id", "job-name", "savepoint", "taken", "age-ms", "fresh"}]
- trigger, prune, check: {"logged-at", "context", "error": {"code", "kind", "message"}} for a
  context that failed, {"logged-at", "context", "note"} for one where nothing matched
"""

from __future__ import annotations

import time
from typing import Any

from flinkctl.output.columns import wide
from flinkctl.output.render import FREE, ID, Column, View


def _age(key: str):
    def get(row: dict) -> Any:
        taken = row.get(key)
        return time.time() * 1000 - taken if isinstance(taken, int) and taken > 0 else None

    return get


def _error(row: dict) -> Any:
    """A failed job's error message, or why a job was skipped."""
    return (row.get("error") or {}).get("message") or row.get("reason")


def _jobs(data: Any) -> list:
    """The items of a log that are about a job: a table leaves out those about a context (one
    that failed, or where nothing matched), which stderr names."""
    return [r for r in data if isinstance(r, dict) and "job-name" in r]


JOB = Column("JOB", "job-id")
JOB_NAME = Column("NAME", "job-name")
# when a catalog row's savepoint was taken and how old it is (the list, prune plans)
TAKEN_AGE = [
    Column("TAKEN", "started-ms", "time"),
    Column("AGE", _age("started-ms"), "duration"),
]
PATH = Column("PATH", "path")

# The path is what `savepoint list` is for: never cut (an id); on a narrow terminal the name
# shortens and SIZE, KIND, AGE, TAKEN (then STATUS) go first (KEEP columns drop from the right).
SAVEPOINTS = View(
    columns=[
        Column("NAME", "job-name", fit=FREE),
        Column("STATUS", "status"),
        *TAKEN_AGE,
        Column("KIND", "kind"),
        Column("SIZE", "size", "bytes"),
        Column("PATH", "path", fit=ID),
        wide(JOB),
        Column("FORMAT", "format", wide=True),
        Column("TRIGGER", "trigger-id", wide=True),
        Column("BY", "by", wide=True),
    ],
    name="path",
)

# `savepoint latest`: the path alone in table mode (for `$(...)`), the row in json
LATEST = View(table=lambda row, page: page.out(str(row.get("path"))), name="path")

TAKEN = View(
    columns=[
        JOB,
        JOB_NAME,
        Column("STATUS", "status"),
        Column("LOCATION", "location"),
        Column("DURATION", "duration-ms", "duration"),
        Column("ERROR", _error),
        Column("TRIGGER", "trigger-id", wide=True),
        Column("JOINED", "joined", wide=True),
        Column("TRIGGERED", "started-ms", "time", wide=True),
    ],
    rows=_jobs,
    name=lambda r: r.get("location") or r.get("trigger-id"),
)

PRUNE = View(
    columns=[
        JOB_NAME,
        *TAKEN_AGE,
        Column("ACTION", "action"),
        Column("REASON", "reason"),
        Column("OUTCOME", "outcome"),
        PATH,
        wide(JOB),
        Column("SIZE", "size", "bytes", wide=True),
    ],
    rows=_jobs,
    name="path",
)

CHECK = View(
    columns=[
        JOB,
        JOB_NAME,
        Column("FRESH", "fresh"),
        Column("AGE", "age-ms", "duration"),
        Column("TAKEN", "taken", "time"),
        Column("SAVEPOINT", "savepoint"),
    ],
    rows=_jobs,
    name="job-id",
)
