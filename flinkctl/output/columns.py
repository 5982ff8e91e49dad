"""Columns several views share: the timing fields Flink names alike on jobs, applications,
vertices, subtasks and task managers, an accumulator's columns, and how a job or an
application list begins."""

from __future__ import annotations

from dataclasses import replace

from flinkctl.output.render import FREE, ID, Column

START = Column("START", "start-time", "time")
DURATION = Column("DURATION", "duration", "duration")
END = Column("END", "end-time", "time", wide=True)

# a user accumulator of a job, a vertex or a subtask attempt
ACCUMULATOR_COLUMNS = [
    Column("NAME", "name"),
    Column("TYPE", "type"),
    Column("VALUE", "value", fit=FREE),
]


def wide(column: Column) -> Column:
    """COLUMN, shown only with -o wide."""
    return replace(column, wide=True)


def run_columns(id_key: str, state_key: str) -> list[Column]:
    """ID, NAME, state, START and DURATION: how a job list ("jid", "state") and an application
    list ("id", "status") begin."""
    return [
        Column("ID", id_key, fit=ID),
        Column("NAME", "name", fit=FREE),
        Column(state_key.upper(), state_key),
        START,
        DURATION,
    ]
