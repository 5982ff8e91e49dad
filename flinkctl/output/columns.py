"""Columns several views share: the timing fields Flink names alike on jobs, applications,
vertices, subtasks and task managers."""

from __future__ import annotations

from dataclasses import replace

from flinkctl.output.render import Column

START = Column("START", "start-time", "time")
DURATION = Column("DURATION", "duration", "duration")
END = Column("END", "end-time", "time", wide=True)


def wide(column: Column) -> Column:
    """COLUMN, shown only with -o wide."""
    return replace(column, wide=True)
