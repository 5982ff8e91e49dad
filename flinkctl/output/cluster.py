"""Column specs for the cluster, the JobManager and TaskManagers."""

from __future__ import annotations

from typing import Any

from flinkctl.flink import array, obj, objects
from flinkctl.output.render import FREE, ID, Column, Page, View

OVERVIEW = View(
    detail=True,
    columns=[
        Column("Flink version", "flink-version"),
        Column("Flink commit", "flink-commit", wide=True),
        Column("TaskManagers", "taskmanagers", "count"),
        Column("Slots total", "slots-total", "count"),
        Column("Slots available", "slots-available", "count"),
        Column("Jobs running", "jobs-running", "count"),
        Column("Jobs finished", "jobs-finished", "count"),
        Column("Jobs cancelled", "jobs-cancelled", "count"),
        Column("Jobs failed", "jobs-failed", "count"),
    ],
)

DASHBOARD_CONFIG = View(
    detail=True,
    columns=[
        Column("Flink version", "flink-version"),
        Column("Flink revision", "flink-revision"),
        Column("Timezone", "timezone-name"),
        Column("Timezone offset (ms)", "timezone-offset"),
        Column("Refresh interval (ms)", "refresh-interval"),
        Column(
            "Features",
            lambda d: [k for k, v in sorted(obj(d.get("features")).items()) if v],
        ),
    ],
)

CONFIG_ENTRIES = View(
    columns=[Column("KEY", "key"), Column("VALUE", "value", fit=FREE)], name="key"
)

METRIC_NAMES = View(columns=[Column("METRIC", "id", fit=ID)], name="id")


def metric_values(aggregated: bool) -> View:
    """Metric values: ID VALUE, or ID MIN MAX AVG SUM SKEW for aggregated endpoints."""
    if not aggregated:
        return View(
            columns=[Column("METRIC", "id", fit=ID), Column("VALUE", "value", fit=FREE)], name="id"
        )
    aggs = ("min", "max", "avg", "sum", "skew")
    return View(
        columns=[Column("METRIC", "id", fit=ID)] + [Column(a.upper(), a, "count") for a in aggs],
        name="id",
    )


LOG_FILES = View(
    rows=lambda d: objects(d.get("logs")),
    columns=[
        Column("NAME", "name"),
        Column("SIZE", "size", "bytes"),
        Column("MODIFIED", "mtime", "time"),
    ],
    name="name",
)


def _environment(data: dict, page: Page) -> None:
    jvm = obj(data.get("jvm"))
    page.details(
        [
            ("JVM version", str(jvm.get("version", "-"))),
            ("Architecture", str(jvm.get("arch", "-"))),
        ]
    )
    page.out("JVM options:")
    for opt in array(jvm.get("options")):
        page.out(f"  {opt}")
    page.out(f"Classpath ({len(array(data.get('classpath')))} entries):")
    for entry in array(data.get("classpath")) if page.wide else array(data.get("classpath"))[:20]:
        page.out(f"  {entry}")
    if not page.wide and len(array(data.get("classpath"))) > 20:
        page.out("  ... (-o wide shows all)")


ENVIRONMENT = View(table=_environment)


def _thread_dump(data: dict, page: Page) -> None:
    for info in objects(data.get("threadInfos")):
        page.out(str(info.get("stringifiedThreadInfo", "")).rstrip("\n"))
        page.out()


THREAD_DUMP = View(
    table=_thread_dump,
    rows=lambda d: objects(d.get("threadInfos")),
    name="threadName",
)


def _mem(res: Any, key: str) -> Any:
    return obj(res).get(key)


TASKMANAGERS = View(
    rows=lambda d: objects(d.get("taskmanagers")),
    columns=[
        Column("ID", "id", fit=ID),
        Column("ADDRESS", lambda t: str(t.get("path") or "").split("@")[-1].split("/")[0] or None),
        Column("SLOTS", lambda t: f"{t.get('freeSlots', '?')}/{t.get('slotsNumber', '?')} free"),
        Column("CPU", "hardware.cpuCores"),
        Column("PHYS MEM", "hardware.physicalMemory", "bytes"),
        Column("HEARTBEAT", "timeSinceLastHeartbeat", "time"),
        Column("DATA PORT", "dataPort", wide=True),
        Column("JMX PORT", "jmxPort", wide=True),
        Column("MANAGED", "totalResource.managedMemory", "count", wide=True),
        Column("BLOCKED", "blocked", wide=True),
    ],
    name="id",
    empty="no TaskManagers",
)

MEMORY_ROWS = (
    ("Framework heap", "frameworkHeap"),
    ("Task heap", "taskHeap"),
    ("Framework off-heap", "frameworkOffHeap"),
    ("Task off-heap", "taskOffHeap"),
    ("Network", "networkMemory"),
    ("Managed", "managedMemory"),
    ("JVM metaspace", "jvmMetaspace"),
    ("JVM overhead", "jvmOverhead"),
    ("Total process", "totalProcessMemory"),
)


def _taskmanager(data: dict, page: Page) -> None:
    from flinkctl.output.humanize import count, size, text, timestamp

    hw = obj(data.get("hardware"))
    page.details(
        [
            ("ID", str(data.get("id"))),
            ("Path", str(data.get("path"))),
            ("Slots", f"{data.get('freeSlots')} free of {data.get('slotsNumber')}"),
            ("CPU cores", str(hw.get("cpuCores", "-"))),
            ("Physical memory", size(hw.get("physicalMemory"))),
            ("Last heartbeat", timestamp(data.get("timeSinceLastHeartbeat"))),
            ("Data port", str(data.get("dataPort", "-"))),
        ]
    )
    page.out()
    mem = obj(data.get("memoryConfiguration"))
    rows = [[label, size(mem.get(key))] for label, key in MEMORY_ROWS if key in mem]
    if rows:
        page.table(["MEMORY", "CONFIGURED"], rows)
        page.out()
    metrics = obj(data.get("metrics"))
    usage = [
        ("JVM heap", "heapUsed", "heapCommitted", "heapMax"),
        ("JVM non-heap", "nonHeapUsed", "nonHeapCommitted", "nonHeapMax"),
        ("Direct buffers", "directUsed", "directMax", None),
        ("Mapped buffers", "mappedUsed", "mappedMax", None),
        ("Network segments", "nettyShuffleMemoryUsed", "nettyShuffleMemoryTotal", None),
    ]
    rows = [
        [label, size(metrics.get(u)), size(metrics.get(c)), size(metrics.get(m)) if m else "-"]
        for label, u, c, m in usage
        if u in metrics
    ]
    if rows:
        page.table(["USAGE", "USED", "COMMITTED/TOTAL", "MAX"], rows)
        page.out()
    total, free = obj(data.get("totalResource")), obj(data.get("freeResource"))
    keys = ("cpuCores", "taskHeapMemory", "taskOffHeapMemory", "managedMemory", "networkMemory")
    rows = [[k, count(total.get(k)), count(free.get(k))] for k in keys if k in total]
    if rows:
        page.table(["RESOURCE (MB/cores)", "TOTAL", "FREE"], rows)
    gcs = objects(metrics.get("garbageCollectors"))
    if gcs:
        page.out()
        page.table(
            ["GARBAGE COLLECTOR", "COUNT", "TIME"],
            [[text(g.get("name")), count(g.get("count")), f"{g.get('time', '-')} ms"] for g in gcs],
        )


TASKMANAGER = View(table=_taskmanager, name="id")
