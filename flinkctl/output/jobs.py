"""Column specs and renderers for jobs: list, details, plans, exceptions, results, rescales."""

from __future__ import annotations

import sys
from typing import Any

from flinkctl.flink import first_line
from flinkctl.output.humanize import count, duration, text, timestamp
from flinkctl.output.render import Column, Settings, View, details, is_tty, out, render, table
from flinkctl.output.vertices import IO_COLUMNS, fields, rows_table, running_tasks, state_counts

JOBS = View(
    rows=lambda d: d.get("jobs") or [],
    columns=[
        Column("ID", "jid"),
        Column("NAME", "name"),
        Column("STATE", "state"),
        Column("START", "start-time", "time"),
        Column("DURATION", "duration", "duration"),
        Column("TASKS", running_tasks),
        Column("TASK STATES", state_counts("tasks"), wide=True),
        Column("TYPE", "jobType", wide=True),
        Column("SCHEDULER", "schedulerType", wide=True),
        Column("END", "end-time", "time", wide=True),
    ],
    name="jid",
)


# -- jobs show -------------------------------------------------------------------------------


def _parallelism(job: dict) -> Any:
    return max((v.get("parallelism", 0) for v in job.get("vertices") or []), default=None)


def _max_parallelism(job: dict) -> Any:
    value = job.get("maxParallelism")
    return value if isinstance(value, int) and value > 0 else None


JOB_HEADER = [
    Column("ID", "jid"),
    Column("Name", "name"),
    Column("State", "state"),
    Column("Type", "job-type"),
    Column("Scheduler", "schedulerType", wide=True),
    Column("Start", "start-time", "time"),
    Column("End", "end-time", "time"),
    Column("Duration", "duration", "duration"),
    Column("Parallelism", _parallelism),
    Column("Max parallelism", _max_parallelism, wide=True),
    Column("Tasks", state_counts("status-counts")),
    Column("Application", "application-id", wide=True),
]


def _load(key: str):
    return lambda row: (row.get("load") or {}).get(key)


LOAD_COLUMNS = [
    Column("BUSY MAX", _load("busy"), "ratio"),
    Column("BACKPRESSURED MAX", _load("backpressured"), "ratio"),
]


def job_view(loads: dict[str, dict] | None = None) -> View:
    """`jobs show`: the job header, then one row per vertex with I/O and the busy and
    backpressured ratios in LOADS (vertex id -> {"busy", "backpressured"}, from
    FlinkClient.vertex_loads; omitted when None)."""
    columns = [
        Column("VERTEX", "name"),
        Column("PARALLELISM", "parallelism"),
        Column("STATUS", "status"),
        *[c for c in IO_COLUMNS if not c.wide],
        *(LOAD_COLUMNS if loads is not None else []),
        Column("ID", "id", wide=True),
        Column("DURATION", "duration", "duration", wide=True),
    ]

    def render_job(job: dict, wide: bool) -> None:
        details(fields(job, JOB_HEADER, wide))
        loaded = loads or {}
        vertices = [{**v, "load": loaded.get(v.get("id"))} for v in job.get("vertices") or []]
        if vertices:
            out()
            rows_table(columns, vertices, wide)

    return View(table=render_job, rows=lambda d: [d], name="jid")


STATUS = View(table=lambda data, wide: out(text(data.get("status"))), name="status")

LOG_URL = View(table=lambda data, wide: out(text(data.get("url"))), name="url")


# -- plan: a tree of operators, or Graphviz DOT (also used by `jars plan`) --------------------


def _plan(body: dict) -> dict:
    """The plan of a `{"plan": {...}}` body (GET /jobs/:jobid/plan, POST /jars/:jarid/plan)."""
    plan = body.get("plan", body) if isinstance(body, dict) else {}
    return plan if isinstance(plan, dict) else {}


def operator_lines(node: dict) -> list[str]:
    """A plan node's chained operators, from its HTML-ish description ("A<br/>+- B<br/>")."""
    desc = str(node.get("description") or node.get("operator") or node.get("id") or "")
    lines = desc.replace("<br/>", "\n").splitlines()
    lines = [ln.strip().removeprefix("+-").strip() for ln in lines]
    return [ln for ln in lines if ln] or [str(node.get("id"))]


def _downstream(nodes: list[dict]) -> dict[str, list[tuple[dict, dict]]]:
    """node id -> [(consumer node, input edge)]."""
    children: dict[str, list[tuple[dict, dict]]] = {}
    for node in nodes:
        for edge in node.get("inputs") or []:
            children.setdefault(str(edge.get("id")), []).append((node, edge))
    return children


def _plan_tree(body: dict, wide: bool) -> None:
    plan = _plan(body)
    nodes = plan.get("nodes") or []
    children = _downstream(nodes)
    sources = [n for n in nodes if not n.get("inputs")]
    seen: set[str] = set()

    def label(node: dict, edge: dict | None) -> str:
        parts = [f"{edge.get('ship_strategy') or '?'} -> "] if edge else []
        parts.append(" -> ".join(operator_lines(node)))
        parts.append(f"  (parallelism {text(node.get('parallelism'))}")
        if wide:
            parts.append(f", id {node.get('id')}")
            if edge and edge.get("exchange"):
                parts.append(f", exchange {edge['exchange']}")
        parts.append(")")
        if str(node.get("id")) in seen:
            parts.append(" (see above)")
        return "".join(parts)

    def walk(node: dict, edge: dict | None, depth: int, add) -> None:
        add(label(node, edge), depth)
        node_id = str(node.get("id"))
        if node_id in seen:
            return
        seen.add(node_id)
        for child, child_edge in children.get(node_id, []):
            walk(child, child_edge, depth + 1, add)

    title = f"{plan.get('name') or '-'} ({plan.get('type') or '-'})"
    if not is_tty():
        out(title)
        for src in sources:
            walk(src, None, 1, lambda line, depth: out("  " * depth + line))
        return
    from rich.markup import escape
    from rich.tree import Tree

    from flinkctl.output.render import console

    tree = Tree(f"[bold]{escape(title)}[/bold]")
    stack = [tree]

    def add(line: str, depth: int) -> None:
        del stack[depth:]
        stack.append(stack[-1].add(escape(line)))

    for src in sources:
        walk(src, None, 1, add)
    console().print(tree)


PLAN = View(table=_plan_tree, rows=lambda d: _plan(d).get("nodes") or [], name="id")


def _dot_string(value: Any) -> str:
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def plan_dot(body: dict) -> str:
    """The plan of BODY as a Graphviz digraph (`... -o dot | dot -Tpng > plan.png`)."""
    plan = _plan(body)
    lines = [
        f"digraph {_dot_string(plan.get('name') or 'plan')} {{",
        "  rankdir=LR;",
        '  node [shape=box, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    nodes = plan.get("nodes") or []
    for node in nodes:
        label = "\n".join([*operator_lines(node), f"parallelism {text(node.get('parallelism'))}"])
        lines.append(f"  {_dot_string(node.get('id'))} [label={_dot_string(label)}];")
    for node in nodes:
        for edge in node.get("inputs") or []:
            lines.append(
                f"  {_dot_string(edge.get('id'))} -> {_dot_string(node.get('id'))}"
                f" [label={_dot_string(edge.get('ship_strategy') or '')}];"
            )
    lines.append("}")
    return "\n".join(lines)


def render_plan(body: dict, settings: Settings) -> None:
    """A plan as PLAN renders it, or with `-o dot` (see `with_output(extra=...)`) as DOT."""
    if settings.format == "dot":
        out(plan_dot(body))
    else:
        render(body, PLAN, settings)


# -- config ----------------------------------------------------------------------------------


def _flatten(tree: dict, prefix: str = "") -> list[tuple[str, Any]]:
    flat: list[tuple[str, Any]] = []
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            flat += _flatten(value, f"{prefix}{key}.")
        else:
            flat.append((f"{prefix}{key}", value))
    return flat


def _execution_config(data: dict) -> list[dict]:
    return [{"key": k, "value": v} for k, v in _flatten(data.get("execution-config") or {})]


def _job_config(data: dict, wide: bool) -> None:
    details([("Job ID", text(data.get("jid"))), ("Name", text(data.get("name")))])
    out()
    table(["KEY", "VALUE"], [[r["key"], text(r["value"])] for r in _execution_config(data)])


JOB_CONFIG = View(table=_job_config, rows=_execution_config, name="key")


# -- exceptions ------------------------------------------------------------------------------


def _entries(data: dict) -> list[dict]:
    return (data.get("exceptionHistory") or {}).get("entries") or []


def _when(entry: dict) -> int | None:
    stamp = str(entry.get("timestamp", ""))
    return int(stamp) if stamp.isdigit() else None


EXCEPTION_COLUMNS = [
    Column("TIME", _when, "time"),
    Column("TASK", "taskName"),
    Column("LOCATION", lambda e: e.get("endpoint") or e.get("location")),
    Column("EXCEPTION", lambda e: first_line(e.get("stacktrace") or e.get("exceptionName"))),
    Column("CONCURRENT", lambda e: len(e.get("concurrentExceptions") or []), "count"),
]


def _exceptions(data: dict, wide: bool) -> None:
    entries = _entries(data)
    if not wide:
        rows_table(EXCEPTION_COLUMNS, entries, wide)
    for i, entry in enumerate(entries if wide else []):
        if i:
            out()
        labels = entry.get("failureLabels") or None
        details(
            fields(entry, EXCEPTION_COLUMNS[:3], labels=True)
            + [("Task manager", text(entry.get("taskManagerId"))), ("Labels", text(labels))]
        )
        out(str(entry.get("stacktrace") or entry.get("exceptionName") or "").rstrip())
        for concurrent in entry.get("concurrentExceptions") or []:
            out(f"concurrent, in {text(concurrent.get('taskName'))}:")
            out(str(concurrent.get("stacktrace") or "").rstrip())
    if (data.get("exceptionHistory") or {}).get("truncated"):
        print("note: older exceptions were left out (raise --max)", file=sys.stderr)


EXCEPTIONS = View(table=_exceptions, rows=_entries, name="exceptionName")


# -- execution result ------------------------------------------------------------------------


RESULT_FIELDS = (
    ("Job ID", "id", text),
    ("Name", "name", text),
    ("Status", "application-status", text),
    ("Start", "start-time", timestamp),
    ("End", "end-time", timestamp),
    ("Net runtime", "net-runtime", duration),
)


def _execution_result(data: dict, wide: bool) -> None:
    status = (data.get("status") or {}).get("id")
    result = data.get("job-execution-result")
    if not result:
        details([("Status", text(status))])
        return
    pairs = [
        (label, fmt(result[key]))
        for label, key, fmt in RESULT_FIELDS
        if key in result  # name, start and end are missing on older versions
    ]
    cause = result.get("failure-cause")
    if cause:
        pairs.append(("Failure", text(first_line(cause.get("stack-trace") or cause.get("class")))))
    details(pairs)
    accumulators = result.get("accumulator-results") or {}
    if accumulators:
        out()
        table(["ACCUMULATOR", "SERIALIZED VALUE"], [[k, text(v)] for k, v in accumulators.items()])
    if cause and wide:
        out()
        out(str(cause.get("stack-trace") or "").rstrip())


EXECUTION_RESULT = View(
    table=_execution_result,
    rows=lambda d: [d.get("job-execution-result") or {}],
    name="id",
)


# -- accumulators ----------------------------------------------------------------------------


def _accumulators(data: dict) -> list[dict]:
    serialized = data.get("serialized-user-task-accumulators") or {}
    rows = [{**acc, "scope": "job"} for acc in data.get("job-accumulators") or []]
    rows += [
        {**acc, "scope": "task", "serialized": serialized.get(acc.get("name"))}
        for acc in data.get("user-task-accumulators") or []
    ]
    return rows


JOB_ACCUMULATORS = View(
    rows=_accumulators,
    columns=[
        Column("NAME", "name"),
        Column("TYPE", "type"),
        Column("VALUE", "value"),
        Column("SCOPE", "scope", wide=True),
        Column("SERIALIZED", "serialized", wide=True),
    ],
    name="name",
)


# -- rescales (Flink 2.3+, adaptive scheduler) -----------------------------------------------


def _rescale_duration(r: dict) -> Any:
    start, end = r.get("startTimestampInMillis"), r.get("endTimestampInMillis")
    return end - start if isinstance(start, int) and isinstance(end, int) and end >= start else None


RESCALE_COLUMNS = [
    Column("UUID", "rescaleUuid"),
    Column("TRIGGER", "triggerCause"),
    Column("STATE", "terminalState"),
    Column("REASON", "terminatedReason"),
    Column("START", "startTimestampInMillis", "time"),
    Column("DURATION", _rescale_duration, "duration"),
    Column("ATTEMPT", "rescaleAttemptId", wide=True),
    Column("REQUIREMENTS", "resourceRequirementsUuid", wide=True),
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
    counts = data.get("rescalesCounts") or {}
    return [(label, count(counts.get(key))) for label, key in COUNTS]


def _rescales_overview(data: dict, wide: bool) -> None:
    details(_counts(data))
    latest = [(kind, r) for kind, r in (data.get("latest") or {}).items() if r]
    if latest:
        out()
        cols = [c for c in RESCALE_COLUMNS if wide or not c.wide]
        table(
            ["LATEST"] + [c.header for c in cols],
            [[kind] + [c.cell(r) for c in cols] for kind, r in latest],
        )


def _latest(data: dict) -> list[dict]:
    return [r for r in (data.get("latest") or {}).values() if r]


RESCALES_OVERVIEW = View(table=_rescales_overview, rows=_latest, name="rescaleUuid")

RESCALES_HISTORY = View(columns=RESCALE_COLUMNS, name="rescaleUuid")


def _stat(value: Any) -> str:
    return duration(value) if isinstance(value, (int, float)) else text(value)


def _rescales_summary(data: dict, wide: bool) -> None:
    details(_counts(data))
    stats = ["min", "avg", "p50", "p90", "p99", "max"]
    if wide:
        stats[4:4] = ["p95"]
        stats[-1:-1] = ["p999"]
    out()
    table(
        ["DURATIONS"] + [s.upper() for s in stats],
        [[kind] + [_stat((data.get(k) or {}).get(s)) for s in stats] for kind, k in DURATION_STATS],
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
    rows=_config_rows, columns=[Column("KEY", "key"), Column("VALUE", _config_value)], name="key"
)


RESCALE_VERTEX_COLUMNS = [
    Column("VERTEX", "jobVertexName"),
    Column("DESIRED", "desiredParallelism"),
    Column("SUFFICIENT", "sufficientParallelism"),
    Column("BEFORE", "preRescaleParallelism"),
    Column("AFTER", "postRescaleParallelism"),
    Column("ID", "jobVertexId", wide=True),
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
    Column("EXCEPTION", lambda s: first_line(s.get("stringifiedException")), wide=True),
]


def _rescale_details(data: dict, wide: bool) -> None:
    details(fields(data, RESCALE_COLUMNS, labels=True))
    for columns, key in ((RESCALE_VERTEX_COLUMNS, "vertices"), (RESCALE_SLOT_COLUMNS, "slots")):
        rows = list((data.get(key) or {}).values())
        if rows and any(wide or not c.wide for c in columns):
            out()
            rows_table(columns, rows, wide)
    if data.get("schedulerStates"):
        out()
        rows_table(SCHEDULER_STATE_COLUMNS, data["schedulerStates"], wide)


RESCALE_DETAILS = View(table=_rescale_details, name="rescaleUuid")

RESCALE_VIEWS = {
    "overview": RESCALES_OVERVIEW,
    "history": RESCALES_HISTORY,
    "summary": RESCALES_SUMMARY,
    "config": RESCALES_CONFIG,
    "details": RESCALE_DETAILS,
}
