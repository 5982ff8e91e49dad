"""Column specs for jobs."""

from __future__ import annotations

from flinkctl.output.render import Column, View


def _tasks(job: dict) -> str:
    tasks = {k.upper(): v for k, v in (job.get("tasks") or {}).items()}
    return f"{tasks.get('RUNNING', 0)}/{tasks.get('TOTAL', sum(tasks.values()))}"


JOBS = View(
    rows=lambda d: d.get("jobs") or [],
    columns=[
        Column("ID", "jid"),
        Column("NAME", "name"),
        Column("STATE", "state"),
        Column("START", "start-time", "time"),
        Column("DURATION", "duration", "duration"),
        Column("TASKS", _tasks),
        Column("TYPE", "jobType", wide=True),
        Column("SCHEDULER", "schedulerType", wide=True),
        Column("END", "end-time", "time", wide=True),
    ],
    name="jid",
)

JOB = View(
    detail=True,
    columns=[
        Column("ID", "jid"),
        Column("Name", "name"),
        Column("State", "state"),
        Column("Type", "job-type"),
        Column("Start", "start-time", "time"),
        Column("Duration", "duration", "duration"),
    ],
    name="jid",
)
