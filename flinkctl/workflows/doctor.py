"""`flinkctl doctor`: what is wrong with a job, ranked, with the numbers behind each verdict.

The rules are pure functions over plain data (Flink's REST bodies and the readings taken from
them); `examine` is the one place that talks to the cluster: it reads the job, samples its
per-subtask metrics over a window, and hands everything to `diagnose`. The thresholds live in
`Thresholds` (README, "Diagnosing"). No typer or rich here.

Rules, in the order they rank among findings of one severity:

1. backpressure: the root of backpressure, found by walking the job graph downstream from every
   backpressured vertex to the first one that is busy but not backpressured (Flink's method);
2. skew: a subtask far busier (or fed far more records) than the other subtasks of its vertex,
   judged on the maximum, never the average;
3. checkpoints: none completed within max(interval, timeout) x (tolerable failures + 2), the
   Kubernetes operator's checkpoint-progress window; the latest failure's message;
4. slow-checkpoint: the latest completed checkpoint took a large share of the interval; which
   phase of its slowest subtask dominates (start delay, alignment, sync, async);
5. restarts: restarts since the start and recently, each distinct root cause from the
   exception history;
6. watermarks: a subtask whose input watermark stands still while its siblings' advance, or
   lags them far;
7. source-lag: a source whose reported lag (pendingRecords, records-lag-max) rose over the
   sample while it was not backpressured: the source itself is the bottleneck;
8. headroom: the bottleneck's true processing rate and the parallelism that would bring it to
   the target utilisation (advice, as the autoscaler's);
9. taskmanager: GC time and heap of the TaskManagers the job runs on (before Flink 1.19, GC
   time from the collectors' cumulative time over the sample);
10. blind-spot: what could not be judged (a young job, NaN busy time, a metric the version
    lacks, too few distinct readings), said out loud instead of guessed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

from flinkctl.durations import humanize as duration
from flinkctl.errors import ExitCode, FlinkctlError, NotFoundError
from flinkctl.flink import (
    ENDED_STATES,
    FAILURE_STATES,
    RECOVERING_STATES,
    JobExceptions,
    Json,
    Metric,
    array,
    failures,
    number,
    obj,
    objects,
    trace_summary,
)

if TYPE_CHECKING:
    from flinkctl.client import FlinkClient

Severity = Literal["critical", "warning", "info"]
Rule = Literal[
    "backpressure",
    "skew",
    "checkpoints",
    "slow-checkpoint",
    "restarts",
    "watermarks",
    "source-lag",
    "headroom",
    "taskmanager",
    "blind-spot",
]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)  # most severe first
RULES: tuple[Rule, ...] = get_args(Rule)  # the order findings of one severity rank in
NO_CHECKPOINTS = 2**63 - 1  # Flink's checkpoint interval when periodic checkpoints are off
NO_WATERMARK = -(2**63)  # Long.MIN_VALUE: a subtask that has seen no watermark yet
END_OF_INPUT = 2**63 - 1  # Long.MAX_VALUE (MAX_WATERMARK): a subtask whose input has ended


@dataclass(frozen=True)
class Thresholds:
    """Every number doctor holds a job against, in one place (documented in the README).

    Ratios are shares of time, 0..1 (Flink's *TimeMsPerSecond / 1000).
    """

    # a subtask is backpressured above this share of its time (Flink's "high" level)
    backpressured: float = 0.5
    # a subtask is busy above this share: a bottleneck candidate, and the floor for skew
    busy: float = 0.5
    # skew: the busiest subtask's value above this multiple of the 75th percentile of the others
    skew: float = 1.5
    # a job RUNNING for less than this (seconds) is too young to judge by its rates, which
    # Flink averages over a minute
    young: float = 60.0
    # restarts within this many seconds count as recent; this many of them are a crash loop
    restart_window: float = 600.0
    crash_loop: int = 3
    # a completed checkpoint is slow when its end-to-end duration reaches this share of the
    # checkpoint interval, and at least slow_checkpoint_ms
    slow_checkpoint: float = 0.5
    slow_checkpoint_ms: int = 1000
    # a subtask's input watermark this far (ms) behind its vertex's newest lags
    watermark_lag_ms: int = 60_000
    # source lag (a source's pendingRecords or records-lag-max, summed over its subtasks)
    # rising from the first reading to the last by at least source_lag_records records and by
    # at least source_lag_rise of the first reading's lag: the source falls behind its input
    # (a few hundred records come and go with every fetch; a share keeps a large backlog's
    # jitter quiet)
    source_lag_records: int = 1000
    source_lag_rise: float = 0.1
    # TaskManager pressure: GC time share, and heap used / max at its lowest reading
    gc: float = 0.3
    heap: float = 0.9
    # headroom: the busy share the recommended parallelism aims at (the autoscaler's default)
    target_busy: float = 0.7
    # a sample of fewer distinct readings than this is said to be thin
    min_readings: int = 3


THRESHOLDS = Thresholds()


def held_against(t: Thresholds, *names: str) -> dict[str, Any]:
    """The evidence of the thresholds NAMES (fields of T) a finding was held against, each as
    "<name>-threshold" (crash_loop: "crash-loop-threshold")."""
    return {f"{name.replace('_', '-')}-threshold": getattr(t, name) for name in names}


# Flink refreshes the metrics the REST API serves every metrics.fetcher.update-interval (10 s
# by default): reading more often reads the same numbers again
READ_EVERY = 10.0
DEFAULT_SAMPLE = 30.0

# per-subtask metrics read at every reading (vertex metrics, ids prefixed "<subtask>.")
BUSY, BACKPRESSURED = "busyTimeMsPerSecond", "backPressuredTimeMsPerSecond"
RECORDS_IN, RECORDS_OUT = "numRecordsInPerSecond", "numRecordsOutPerSecond"
SUBTASK_METRICS = (BUSY, BACKPRESSURED, RECORDS_IN, RECORDS_OUT)
# a source operator's lag (operator-scoped vertex metrics, "<subtask>.<operator>.<name>"):
# FLIP-33's standard pendingRecords, or the Kafka consumer's records-lag-max; the first preferred
LAG_METRICS = ("pendingRecords", "records-lag-max")
GC_TIME = "Status.JVM.GarbageCollector.All.TimeMsPerSecond"  # Flink 1.19+
# before 1.19: each collector's cumulative GC time (ms), e.g. ...G1_Young_Generation.Time
GC_PREFIX, GC_CUMULATIVE = "Status.JVM.GarbageCollector.", ".Time"
HEAP_USED, HEAP_MAX = "Status.JVM.Memory.Heap.Used", "Status.JVM.Memory.Heap.Max"
TM_METRICS = (GC_TIME, HEAP_USED, HEAP_MAX)
MAX_QUERY = 3000  # characters of one `get=` list: Flink's REST server refuses long request lines


@dataclass(frozen=True)
class Finding:
    """One verdict: the rule, how severe, what it is about, the numbers behind it (beside the
    thresholds they were held against), one line of what is wrong and one of what to try."""

    rule: Rule
    severity: Severity
    subject: str
    evidence: dict[str, Any]
    summary: str
    advice: str

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "subject": self.subject,
            "evidence": self.evidence,
            "summary": self.summary,
            "advice": self.advice,
        }


def rank(findings: Iterable[Finding]) -> list[Finding]:
    """FINDINGS most severe first; within a severity, in the order of RULES."""
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), RULES.index(f.rule)))


def at_or_above(findings: Iterable[Finding], severity: Severity) -> list[Finding]:
    """The findings as severe as SEVERITY or more."""
    limit = SEVERITIES.index(severity)
    return [f for f in findings if SEVERITIES.index(f.severity) <= limit]


# -- readings --------------------------------------------------------------------------------


def metric_value(value: object) -> float | None:
    """A metric's value as Flink sends it (a string in `value`, a number in aggregates):
    a float; NaN stays NaN (a legacy source's busy time); missing or malformed is None."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    found = number(value)
    if found is None and isinstance(value, float):
        return value  # NaN or infinity, as Flink reported it
    return None if found is None else float(found)


def per_subtask(metrics: Sequence[Json]) -> dict[int, dict[str, float | None]]:
    """GET .../vertices/:vertexid/metrics?get=0.busyTimeMsPerSecond,... as {subtask: {name:
    value}} (ids are "<subtask>.<name>"; operator-scoped ones "<subtask>.<operator>.<name>")."""
    found: dict[int, dict[str, float | None]] = {}
    for metric in objects(metrics):
        index, _, name = str(metric.get("id", "")).partition(".")
        if index.isdigit() and name:
            found.setdefault(int(index), {})[name] = metric_value(metric.get("value"))
    return found


def by_id(metrics: Sequence[Json]) -> dict[str, float | None]:
    """A metrics body with values as {id: value}."""
    return {str(m.get("id")): metric_value(m.get("value")) for m in objects(metrics)}


@dataclass
class VertexReadings:
    """One vertex of the job and what each reading saw of its subtasks."""

    id: str
    name: str
    parallelism: int
    max_parallelism: int | None = None
    status: str = ""
    metrics: list[dict[int, dict[str, float | None]]] = field(default_factory=list)
    watermarks: list[dict[int, dict[str, float | None]]] = field(default_factory=list)
    # a source's lag metric ids ("0.Source__Kafka.pendingRecords"), read with `metrics`
    lag_ids: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, vertex: Json) -> VertexReadings:
        """From one entry of GET /jobs/:jobid's `vertices`."""
        parallelism = number(vertex.get("parallelism"))
        most = number(vertex.get("maxParallelism"))
        return cls(
            id=str(vertex.get("id")),
            name=str(vertex.get("name") or vertex.get("id")),
            parallelism=int(parallelism) if parallelism and parallelism > 0 else 1,
            max_parallelism=int(most) if most and most > 0 else None,
            status=str(vertex.get("status") or ""),
        )


def lag_ids(listing: Sequence[Json]) -> list[str]:
    """The lag metric ids in GET .../vertices/:vertexid/metrics (no `get`: the ids a vertex
    offers): per-subtask "<subtask>.<operator...>.pendingRecords", or, when no subtask offers
    pendingRecords, "....records-lag-max" (the Kafka consumer's; should a subtask offer several,
    `source_lag` takes its largest)."""
    ids = [str(m.get("id", "")) for m in objects(listing)]
    ids = [i for i in ids if i.partition(".")[0].isdigit()]
    for name in LAG_METRICS:
        found = sorted(i for i in ids if i.endswith(f".{name}"))
        if found:
            return found
    return []


def gc_time_ids(listing: Sequence[Json]) -> list[str]:
    """What GC time to read of a TaskManager, from GET /taskmanagers/:tmid/metrics (no `get`):
    nothing more when it offers GC_TIME (1.19+), else each collector's cumulative Time."""
    ids = {str(m.get("id", "")) for m in objects(listing)}
    if GC_TIME in ids:
        return []
    return sorted(i for i in ids if _collector(i))


def _collector(metric_id: str) -> str | None:
    """'Status.JVM.GarbageCollector.G1_Old_Generation.Time' -> 'G1_Old_Generation'; not "All"
    (1.19+ adds All.Time, the sum of the others)."""
    if not (metric_id.startswith(GC_PREFIX) and metric_id.endswith(GC_CUMULATIVE)):
        return None
    name = metric_id[len(GC_PREFIX) : -len(GC_CUMULATIVE)]
    return name if name and "." not in name and name != "All" else None


def _distinct(readings: list[Any]) -> list[Any]:
    """READINGS without those equal to the one before (the metric store had not refreshed)."""
    return [r for i, r in enumerate(readings) if i == 0 or r != readings[i - 1]]


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def percentile(values: Sequence[float], q: float) -> float:
    """The Qth percentile (0..100) of VALUES, interpolated linearly (as numpy's default)."""
    ordered = sorted(values)
    at = (len(ordered) - 1) * q / 100
    low, high = math.floor(at), math.ceil(at)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


@dataclass(frozen=True)
class SubtaskLoad:
    """A subtask's mean over the distinct readings: busy and backpressured shares (0..1; None
    when not reported; NaN busy time is `busy_nan`), records in and out per second."""

    index: int
    busy: float | None
    backpressured: float | None
    records_in: float | None
    records_out: float | None
    busy_nan: bool = False


@dataclass(frozen=True)
class VertexLoad:
    """A vertex's subtasks' loads, and the summary a table shows."""

    id: str
    name: str
    parallelism: int
    max_parallelism: int | None
    subtasks: tuple[SubtaskLoad, ...]
    watermark_lag_ms: float | None = None

    def _values(self, attr: str) -> list[float]:
        found = (getattr(s, attr) for s in self.subtasks)
        return [v for v in found if v is not None and not math.isnan(v)]

    @property
    def busy_max(self) -> float | None:
        return max(self._values("busy"), default=None)

    @property
    def busy_avg(self) -> float | None:
        values = self._values("busy")
        return sum(values) / len(values) if values else None

    @property
    def backpressured_max(self) -> float | None:
        return max(self._values("backpressured"), default=None)

    @property
    def busy_nan(self) -> bool:
        return any(s.busy_nan for s in self.subtasks)

    def total(self, attr: str) -> float | None:
        values = self._values(attr)
        return sum(values) if values else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "parallelism": self.parallelism,
            "busy-max": _round(self.busy_max),
            "busy-avg": _round(self.busy_avg),
            "backpressured-max": _round(self.backpressured_max),
            "records-in-per-second": _round(self.total("records_in")),
            "records-out-per-second": _round(self.total("records_out")),
            "watermark-lag-ms": _round(self.watermark_lag_ms),
        }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)


def load(vertex: VertexReadings, now_ms: float | None = None) -> VertexLoad:
    """The vertex's subtasks' loads, averaged over its distinct readings; its watermark lag
    (NOW_MS, the cluster's clock, minus the oldest subtask input watermark), if it has any."""
    readings = _distinct(vertex.metrics)
    subtasks = []
    for index in range(vertex.parallelism):
        seen = [r.get(index, {}) for r in readings]

        def share(name: str, seen: list[dict[str, float | None]] = seen) -> float | None:
            value = _mean(v for s in seen if (v := s.get(name)) is not None and 0 <= v <= 1000)
            return None if value is None else value / 1000

        def rate(name: str, seen: list[dict[str, float | None]] = seen) -> float | None:
            return _mean(v for s in seen if (v := s.get(name)) is not None
                         and 0 <= v < math.inf)  # fmt: skip

        busy_nan = any((v := s.get(BUSY)) is not None and math.isnan(v) for s in seen)
        subtasks.append(
            SubtaskLoad(
                index=index,
                busy=share(BUSY),
                backpressured=share(BACKPRESSURED),
                records_in=rate(RECORDS_IN),
                records_out=rate(RECORDS_OUT),
                busy_nan=busy_nan,
            )
        )
    lag = None
    marks = watermark_series(vertex).get("last", {})
    if marks and now_ms is not None:
        lag = now_ms - min(marks.values())
    return VertexLoad(
        vertex.id,
        vertex.name,
        vertex.parallelism,
        vertex.max_parallelism,
        tuple(subtasks),
        lag,
    )


def watermark_series(vertex: VertexReadings) -> dict[str, dict[int, float]]:
    """The first and last distinct readings of each subtask's input watermark ({"first",
    "last"}: {subtask: epoch ms}); subtasks without a watermark yet are left out."""
    readings = _distinct([_marks(r) for r in vertex.watermarks])
    readings = [r for r in readings if r]
    if not readings:
        return {}
    return {"first": readings[0], "last": readings[-1]}


def _marks(reading: dict[int, dict[str, float | None]]) -> dict[int, float]:
    found = {}
    for index, values in reading.items():
        mark = values.get("currentInputWatermark")
        if mark is not None and NO_WATERMARK < mark < END_OF_INPUT:  # NaN fails both
            found[index] = mark
    return found


# -- the rules -------------------------------------------------------------------------------


def _pct(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.0f}%"


def _quoted(name: str) -> str:
    return f"'{name}'"


def downstream(plan: Json) -> dict[str, list[str]]:
    """GET /jobs/:jobid/plan's graph turned around: vertex id -> the ids it feeds (the plan
    names each node's `inputs`, upstream)."""
    nodes = objects(obj(plan.get("plan", plan)).get("nodes"))
    feeds: dict[str, list[str]] = {str(n.get("id")): [] for n in nodes}
    for node in nodes:
        for upstream in objects(node.get("inputs")):
            feeds.setdefault(str(upstream.get("id")), []).append(str(node.get("id")))
    return feeds


def sources(plan: Json) -> set[str]:
    """The ids of the plan's vertices without inputs."""
    nodes = objects(obj(plan.get("plan", plan)).get("nodes"))
    return {str(n.get("id")) for n in nodes if not objects(n.get("inputs"))}


def backpressure_roots(
    loads: Sequence[VertexLoad], plan: Json, t: Thresholds = THRESHOLDS
) -> list[Finding]:
    """Rule 1: from each backpressured vertex, walk downstream (breadth first, through other
    backpressured vertices) to the first vertex that is busy and not backpressured: the root.
    One finding per root, naming the vertices it holds up; a backpressured vertex with no busy
    vertex downstream is a finding of its own (the cause is outside the job's metrics)."""
    by_id = {v.id: v for v in loads}
    feeds = downstream(plan)

    def pressed(v: VertexLoad) -> bool:
        return (v.backpressured_max or 0) > t.backpressured

    def busy(v: VertexLoad) -> bool:
        return (v.busy_max or 0) > t.busy

    roots: dict[str, list[str]] = {}
    unexplained: list[str] = []
    for start in (v for v in loads if pressed(v)):
        queue, seen, found = list(feeds.get(start.id, [])), {start.id}, []
        while queue:
            vid = queue.pop(0)
            if vid in seen or vid not in by_id:
                continue
            seen.add(vid)
            vertex = by_id[vid]
            if pressed(vertex):
                queue += feeds.get(vid, [])
            elif busy(vertex):
                found.append(vid)
        for vid in found:
            roots.setdefault(vid, []).append(start.id)
        if not found:
            unexplained.append(start.id)
    findings = []
    for vid, held in roots.items():
        root = by_id[vid]
        held_up = [by_id[h] for h in held]
        findings.append(
            on_vertex(
                root,
                "backpressure",
                "warning",
                evidence={
                    "busy-max": _round(root.busy_max),
                    "busy-avg": _round(root.busy_avg),
                    "backpressured-max": _round(root.backpressured_max),
                    **held_against(t, "busy", "backpressured"),
                    "holds-up": [
                        {
                            "id": h.id,
                            "name": h.name,
                            "backpressured-max": _round(h.backpressured_max),
                        }
                        for h in held_up
                    ],
                },
                summary=(
                    f"the bottleneck: busy {_pct(root.busy_max)} (> {_pct(t.busy)}), not "
                    f"backpressured; it holds up "
                    + ", ".join(
                        f"{_quoted(h.name)} (backpressured {_pct(h.backpressured_max)})"
                        for h in held_up
                    )
                ),  # fmt: skip
                advice="raise this vertex's parallelism, or make its operators cheaper "
                "(a flame graph: flinkctl vertices flamegraph)",
            )
        )
    for vid in unexplained:
        vertex = by_id[vid]
        findings.append(
            on_vertex(
                vertex,
                "backpressure",
                "warning",
                evidence={
                    "backpressured-max": _round(vertex.backpressured_max),
                    **held_against(t, "backpressured", "busy"),
                },
                summary=f"backpressured {_pct(vertex.backpressured_max)} (> "
                f"{_pct(t.backpressured)}) but no vertex downstream is busy above {_pct(t.busy)}",
                advice="look downstream for waits the busy time does not count: a sink's "
                "external system, async I/O, network buffers",
            )
        )
    return findings


def skew(loads: Sequence[VertexLoad], t: Thresholds = THRESHOLDS) -> list[Finding]:
    """Rule 2: in a vertex of 2+ subtasks, the busiest subtask's busy share (or records in per
    second) above t.skew x the 75th percentile of the other subtasks', while it is busy above
    t.busy. Judged on the maximum: an average hides skew."""
    findings = []
    for vertex in loads:
        if len(vertex.subtasks) < 2:
            continue
        for attr, what in (("busy", "busy time"), ("records_in", "records in per second")):
            present = [s for s in vertex.subtasks if getattr(s, attr) is not None
                       and not math.isnan(getattr(s, attr))]  # fmt: skip
            if len(present) < 2:
                continue
            top = max(present, key=lambda s: getattr(s, attr))
            others = [getattr(s, attr) for s in present if s is not top]
            p75 = percentile(others, 75)
            value = getattr(top, attr)
            top_busy = top.busy or 0
            if top_busy <= t.busy or value <= t.skew * p75 or value <= 0:
                continue
            shown = _pct if attr == "busy" else (lambda v: f"{v:,.1f}/s")
            findings.append(
                on_vertex(
                    vertex,
                    "skew",
                    "warning",
                    subtask=top.index,
                    evidence={
                        "metric": "busy" if attr == "busy" else "records-in-per-second",
                        "max": _round(value),
                        "p75-of-others": _round(p75),
                        "ratio": _round(value / p75) if p75 > 0 else None,
                        "busy": _round(top.busy),
                        **held_against(t, "skew", "busy"),
                        "parallelism": vertex.parallelism,
                    },
                    summary=f"{what} {shown(value)} vs {shown(p75)} for the other subtasks' "
                    f"75th percentile (> {t.skew:g}x), busy {_pct(top.busy)}",
                    advice="spread the keys: a better key, salting a hot key, or two-phase "
                    "aggregation; for a source, rebalance after it",
                )
            )
            break  # one skew finding per vertex: busy time says it best
    return findings


def checkpoint_progress(
    config: Json | None,
    stats: Json | None,
    state: str,
    running_since_ms: float | None,
    now_ms: float,
    t: Thresholds = THRESHOLDS,
) -> list[Finding]:
    """Rule 3: a RUNNING job with periodic checkpoints and none completed within
    max(interval, timeout) x (tolerable failed checkpoints + 2) of the last completed one (or
    of the job's RUNNING, if later) is critical; a latest checkpoint that failed after the
    latest completed one (or with none completed) is a warning. Checkpointing off is said
    (info)."""
    interval = number(obj(config).get("interval"))
    if not config or interval is None or not 0 < interval < NO_CHECKPOINTS:
        return [
            Finding(
                rule="checkpoints",
                severity="info",
                subject="job",
                evidence={"interval-ms": interval if interval != NO_CHECKPOINTS else None},
                summary="periodic checkpoints are off: a failure restarts from the last "
                "savepoint, or from nothing",
                advice="enable checkpointing (execution.checkpointing.interval) unless the "
                "job keeps no state worth keeping",
            )
        ]
    if state != "RUNNING" or stats is None:
        return []
    timeout = number(config.get("timeout")) or 0
    tolerable = number(config.get("tolerable_failed_checkpoints")) or 0
    window = max(interval, timeout) * (tolerable + 2)
    latest = obj(stats.get("latest"))
    completed, failed = obj(latest.get("completed")), obj(latest.get("failed"))
    done_ms = number(completed.get("latest_ack_timestamp")) or number(
        completed.get("trigger_timestamp")
    )
    failed_ms = number(failed.get("failure_timestamp")) or number(failed.get("trigger_timestamp"))
    message = failed.get("failure_message")
    since = max(done_ms or 0, running_since_ms or 0)
    evidence = {
        "last-completed-ms": done_ms,
        "last-completed-id": completed.get("id"),
        "since-ms": (now_ms - since) if since else None,
        "window-ms": window,
        "interval-ms": interval,
        "timeout-ms": timeout,
        "tolerable-failed-checkpoints": tolerable,
        "failed": obj(stats.get("counts")).get("failed"),
        "latest-failure": message,
    }
    cause = f"; the latest failed: {message}" if message else ""
    if since and now_ms - since > window:
        what = "the last completed" if done_ms and done_ms >= since else "the job started running"
        return [
            Finding(
                rule="checkpoints",
                severity="critical",
                subject="job",
                evidence=evidence,
                summary=f"no checkpoint completed in {duration(now_ms - since)} since {what} "
                f"(window {duration(window)} = max(interval, timeout) x "
                f"(tolerable {tolerable:g} + 2)){cause}",
                advice="see why checkpoints fail or expire: flinkctl checkpoints list; a "
                "backpressured job needs unaligned checkpoints or more capacity",
            )
        ]
    if failed_ms and (done_ms is None or failed_ms > done_ms):
        after = "after the last completed one" if done_ms else "and none has completed yet"
        return [
            Finding(
                rule="checkpoints",
                severity="warning",
                subject="job",
                evidence=evidence,
                summary=f"the latest checkpoint ({failed.get('id')}) failed {after}{cause}",
                advice="flinkctl checkpoints list shows the failures; a few are tolerated, a "
                "run of them stops the job",
            )
        ]
    return []


PHASES = ("start-delay", "alignment", "sync", "async")
PHASE_ADVICE = {
    "start-delay": "the barrier waits behind buffered records: backpressure (see the "
    "backpressure finding), or unaligned checkpoints / buffer debloating",
    "alignment": "barriers wait for the slowest input: backpressure or skew; unaligned "
    "checkpoints skip the wait",
    "sync": "the operator's synchronous snapshot is slow: its snapshotState code, or large "
    "heap state (RocksDB snapshots asynchronously)",
    "async": "uploading state is slow: the checkpoint storage's throughput, or the state's "
    "size (incremental checkpoints, TTL)",
}


def subtask_phases(subtask: Json) -> dict[str, float | None]:
    """A subtask of GET .../checkpoints/details/:id/subtasks/:vertexid: its phases in ms."""
    return {
        "start-delay": number(subtask.get("start_delay")),
        "alignment": number(obj(subtask.get("alignment")).get("duration")),
        "sync": number(obj(subtask.get("checkpoint")).get("sync")),
        "async": number(obj(subtask.get("checkpoint")).get("async")),
    }


def slow_checkpoint(
    config: Json | None,
    checkpoint: Json | None,
    details: dict[str, Json],
    names: dict[str, str],
    t: Thresholds = THRESHOLDS,
) -> list[Finding]:
    """Rule 4: the latest completed CHECKPOINT (GET .../checkpoints/details/:id) is slow when
    its end-to-end duration reaches t.slow_checkpoint of the interval (and t.slow_checkpoint_ms);
    then the slowest subtask over every vertex's DETAILS (vertex id -> GET
    .../details/:id/subtasks/:vertexid) and its dominant phase."""
    interval = number(obj(config).get("interval"))
    took = number(obj(checkpoint).get("end_to_end_duration"))
    if interval is None or not 0 < interval < NO_CHECKPOINTS or took is None:
        return []
    limit = max(t.slow_checkpoint * interval, t.slow_checkpoint_ms)
    if took < limit:
        return []
    slowest: tuple[float, str, Json] | None = None
    for vid, body in details.items():
        for sub in objects(body.get("subtasks")):
            e2e = number(sub.get("end_to_end_duration"))
            if e2e is not None and (slowest is None or e2e > slowest[0]):
                slowest = (e2e, vid, sub)
    evidence: dict[str, Any] = {
        "checkpoint-id": obj(checkpoint).get("id"),
        "end-to-end-ms": took,
        "interval-ms": interval,
        "threshold-ms": limit,
        "state-size": obj(checkpoint).get("checkpointed_size"),
    }
    summary = f"checkpoint {evidence['checkpoint-id']} took {duration(took)} (>= {duration(limit)})"
    subject, advice = "job", "flinkctl checkpoints show the checkpoint for its subtasks"
    if slowest is not None:
        e2e, vid, sub = slowest
        phases = subtask_phases(sub)
        dominant = max(PHASES, key=lambda p: phases[p] or 0)
        evidence.update(
            {
                "vertex-id": vid,
                "subtask": sub.get("index"),
                "subtask-end-to-end-ms": e2e,
                "phases-ms": phases,
                "dominant-phase": dominant,
            }
        )
        subject = f"subtask {sub.get('index')} of {_quoted(names.get(vid, vid))}"
        summary += f"; slowest subtask {duration(e2e)}, mostly {dominant}: " + ", ".join(
            f"{p} {duration(phases[p])}" for p in PHASES
        )
        advice = PHASE_ADVICE[dominant]
    return [Finding("slow-checkpoint", "warning", subject, evidence, summary, advice)]


def restarts(
    state: str,
    exceptions: Json | None,
    total: float | None,
    now_ms: float,
    t: Thresholds = THRESHOLDS,
) -> list[Finding]:
    """Rule 5: a FAILED or FAILING job, or t.crash_loop restarts within t.restart_window, is
    critical; fewer recent restarts, or a job restarting now, a warning; only older ones, info.
    Evidence: TOTAL (the job's numRestarts), the recent count, and each distinct root cause of
    the exception history (its first line and deepest cause, how often, the task and
    TaskManager of the newest)."""
    entries = failures(cast(JobExceptions, exceptions or {}))
    window_ms = t.restart_window * 1000
    recent = [e for e in entries if (number(e.get("timestamp")) or 0) >= now_ms - window_ms]
    causes: dict[str, dict[str, Any]] = {}
    for entry in entries:  # newest first
        text = trace_summary(str(entry.get("stacktrace") or entry.get("exceptionName") or ""))
        cause = causes.setdefault(text, {"cause": text, "count": 0})
        cause["count"] += 1
        if cause["count"] == 1:
            cause.update(
                {
                    "last-ms": number(entry.get("timestamp")),
                    "task": entry.get("taskName"),
                    "taskmanager": entry.get("taskManagerId"),
                    "endpoint": entry.get("endpoint") or entry.get("location"),
                }
            )
    # numRestarts may be a metrics fetch behind (10 s) the exception history, which is bounded:
    # the restarts since the start are at least as many as either shows
    counted = max(int(total), len(recent)) if total is not None else None
    if not entries and not counted and state not in FAILURE_STATES | RECOVERING_STATES:
        return []
    severity: Severity
    if state in FAILURE_STATES or len(recent) >= t.crash_loop:
        severity = "critical"
    elif recent or state in RECOVERING_STATES:
        severity = "warning"
    else:
        severity = "info"
    top = next(iter(causes.values()), None)
    # a history of recent entries only, shorter than the restarts counted: Flink kept the newest
    # (web.exception-history-size, 16 by default), so the recent ones are at least as many
    full = bool(entries) and len(recent) == len(entries) and (counted or 0) > len(entries)
    if state == "FAILED":
        summary = "the job FAILED"
    else:
        summary = (
            f"{counted if counted is not None else len(entries)} restart(s) since the start, "
            f"{'at least ' if full else ''}{len(recent)} in the last {duration(window_ms)}"
            + (f" (a crash loop: >= {t.crash_loop})" if len(recent) >= t.crash_loop else "")
        )
    if top:
        summary += f"; newest cause: {top['cause']}"
        if len(causes) > 1:
            summary += f" (+{len(causes) - 1} other cause(s))"
    return [
        Finding(
            rule="restarts",
            severity=severity,
            subject=f"task {_task(top['task'])}" if top and top.get("task") else "job",
            evidence={
                "state": state,
                "restarts": counted,
                "recent": len(recent),
                "recent-at-least": full,
                "window-ms": window_ms,
                **held_against(t, "crash_loop"),
                "causes": list(causes.values()),
            },
            summary=summary,
            advice="fix the cause (flinkctl jobs exceptions JOB shows the traces); a restart "
            "strategy only spaces the failures",
        )
    ]


def _task(name: object) -> str:
    """'Source: X (1/2) - execution #3' -> "'Source: X' (1/2)" (the attempt left out)."""
    import re

    text = re.sub(r" - execution #\d+$", "", str(name))
    match = re.match(r"(.*) \((\d+/\d+)\)$", text)
    return f"{_quoted(match.group(1))} ({match.group(2)})" if match else _quoted(text)


def watermarks(vertices: Sequence[VertexReadings], t: Thresholds = THRESHOLDS) -> list[Finding]:
    """Rule 6: a subtask whose input watermark did not advance over the sample while another
    of its vertex's did (an idle partition, an uneven source), or that lags its vertex's newest
    by more than t.watermark_lag_ms. A vertex without watermarks is no finding."""
    findings = []
    for vertex in vertices:
        series = watermark_series(vertex)
        if not series:
            continue
        first, last = series["first"], series["last"]
        moved = {i for i in last if i in first and last[i] > first[i]}
        newest = max(last.values())
        for index in sorted(last):
            behind = newest - last[index]
            stalled = bool(moved) and index in first and index not in moved
            if not stalled and behind <= t.watermark_lag_ms:
                continue
            why = ["did not advance during the sample while others did"] if stalled else []
            if behind > t.watermark_lag_ms:
                why.append(f"lags the vertex's newest by {duration(behind)} "
                           f"(> {duration(t.watermark_lag_ms)})")  # fmt: skip
            findings.append(
                on_vertex(
                    vertex,
                    "watermarks",
                    "warning",
                    subtask=index,
                    evidence={
                        "watermark": last[index],
                        "newest": newest,
                        "behind-ms": behind,
                        "advanced": index in moved,
                        "lag-threshold-ms": t.watermark_lag_ms,
                    },
                    summary="input watermark " + " and ".join(why),
                    advice="an idle or uneven source partition holds event time back: "
                    "WatermarkStrategy.withIdleness, or watermark alignment",
                )
            )
    return findings


def _lags(reading: dict[int, dict[str, float | None]], name: str) -> dict[int, float]:
    """A reading's lag metric NAME per subtask (its largest, should several operators of the
    subtask report one); NaN, infinite and missing values left out."""
    found = {}
    for index, values in reading.items():
        seen = [v for k, v in values.items()
                if (k == name or k.endswith(f".{name}"))
                and v is not None and math.isfinite(v)]  # fmt: skip
        if seen:
            found[index] = max(seen)
    return found


def source_lag(
    vertices: Sequence[VertexReadings],
    loads: Sequence[VertexLoad],
    elapsed_ms: float,
    t: Thresholds = THRESHOLDS,
) -> list[Finding]:
    """Rule 7: per vertex whose readings hold a lag metric (pendingRecords, else
    records-lag-max: LAG_METRICS), its lag summed over the subtasks reporting it in the first
    and the last reading that have it; lag that rose by at least t.source_lag_records and by at
    least t.source_lag_rise of the first sum, over ELAPSED_MS (between the first and the last
    reading), is a source falling behind its input:

    - not backpressured (its LOADS' backpressured maximum at most t.backpressured): a warning,
      the source itself is the bottleneck (it cannot fetch or deserialize faster);
    - backpressured: info only. The bottleneck is downstream and the backpressure rule names it;
      the rising lag says the job as a whole falls behind its input, which no other rule says.

    Flat or falling lag, a single reading, and a source reporting no lag metric (the demo's
    NumberSequenceSource) are no finding; no lag metric is not a blind spot either (most
    sources do not report one)."""
    by_vertex = {v.id: v for v in loads}
    findings = []
    for vertex in vertices:
        name = next((n for n in LAG_METRICS if any(_lags(r, n) for r in vertex.metrics)), None)
        if name is None:
            continue
        readings = [lags for r in vertex.metrics if (lags := _lags(r, name))]
        first, last = readings[0], readings[-1]
        common = sorted(set(first) & set(last))
        if len(readings) < 2 or not common:
            continue
        before, after = sum(first[i] for i in common), sum(last[i] for i in common)
        rise = after - before
        needed = max(t.source_lag_records, t.source_lag_rise * before)
        if rise <= 0 or rise < needed:
            continue
        vertex_load = by_vertex.get(vertex.id)
        pressed = vertex_load.backpressured_max if vertex_load else None
        per_second = rise / (elapsed_ms / 1000) if elapsed_ms > 0 else None
        backpressured = (pressed or 0) > t.backpressured
        over = f" over {duration(elapsed_ms)}" if elapsed_ms > 0 else ""
        rate = f", {per_second:+,.0f}/s" if per_second is not None else ""
        summary = (
            f"lag ({name}, {len(common)} subtask(s)) rose from {before:,.0f} to {after:,.0f} "
            f"records{over} (+{rise:,.0f}{rate}; >= {needed:,.0f})"
        )
        severity: Severity
        if backpressured:
            severity = "info"
            summary += (
                f" while backpressured {_pct(pressed)} (> {_pct(t.backpressured)}): the job "
                "falls behind its input; the bottleneck is downstream"
            )
            advice = (
                "relieve the bottleneck downstream (see the backpressure finding); the lag "
                "falls once the job keeps up"
            )
        else:
            severity = "warning"
            summary += (
                f", not backpressured ({_pct(pressed)} <= {_pct(t.backpressured)}): the source "
                "itself is the bottleneck"
            )
            advice = (
                "raise the source's parallelism (up to its partition or split count), make "
                "deserialization cheaper, or fetch more per request (Kafka: max.poll.records, "
                "fetch.min.bytes)"
            )
        findings.append(
            on_vertex(
                vertex,
                "source-lag",
                severity,
                evidence={
                    "metric": name,
                    "subtasks": common,
                    "lag-first": _round(before),
                    "lag-last": _round(after),
                    "rise": _round(rise),
                    "rise-per-second": _round(per_second),
                    "elapsed-ms": int(elapsed_ms),
                    "rise-threshold": _round(needed),
                    "rise-threshold-records": t.source_lag_records,
                    "rise-threshold-share": t.source_lag_rise,
                    "backpressured-max": _round(pressed),
                    **held_against(t, "backpressured"),
                },
                summary=summary,
                advice=advice,
            )
        )
    return findings


def headroom(
    roots: Sequence[VertexLoad], source_ids: set[str], t: Thresholds = THRESHOLDS
) -> list[Finding]:
    """Rule 8: for each bottleneck vertex (a root of backpressure), its true processing rate
    (records per second / average busy share) and the parallelism that brings it to
    t.target_busy: at least, since the backpressure upstream hides part of the demand."""
    findings = []
    for vertex in roots:
        busy = vertex.busy_avg
        rate = vertex.total("records_out" if vertex.id in source_ids else "records_in")
        if not busy or rate is None:
            continue
        true_rate = rate / busy
        wanted = math.ceil(vertex.parallelism * busy / t.target_busy)
        if vertex.max_parallelism:
            wanted = min(wanted, vertex.max_parallelism)
        if wanted <= vertex.parallelism:
            continue
        findings.append(
            on_vertex(
                vertex,
                "headroom",
                "info",
                evidence={
                    "records-per-second": _round(rate),
                    "busy-avg": _round(busy),
                    "true-rate": _round(true_rate),
                    "parallelism": vertex.parallelism,
                    "max-parallelism": vertex.max_parallelism,
                    "recommended-parallelism": wanted,
                    "target-busy": t.target_busy,
                },
                summary=f"processes at least {true_rate:,.0f} records/s at full capacity "
                f"({rate:,.0f}/s at busy {_pct(busy)}); parallelism {vertex.parallelism} -> "
                f"at least {wanted} for {_pct(t.target_busy)} busy",
                advice=f"rescale: flinkctl jobs rescale JOB --vertex {vertex.id} "
                f"--parallelism {wanted}",
            )
        )
    return findings


def cumulative_gc(
    seen: Sequence[dict[str, float | None]], elapsed_ms: float
) -> tuple[float, dict[str, Any]] | None:
    """GC time share from the collectors' cumulative Time (ms; Flink before 1.19): their rise
    from the first reading to the last, summed, over ELAPSED_MS (between those readings), with
    its evidence; None without two readings of a collector, or when a count went back (a
    restarted TaskManager)."""
    timed = [
        found for r in seen
        if (found := {c: v for k, v in r.items()
                      if (c := _collector(k)) and v is not None and math.isfinite(v)})
    ]  # fmt: skip
    if len(timed) < 2 or elapsed_ms <= 0:
        return None
    first, last = timed[0], timed[-1]
    collectors = sorted(set(first) & set(last))
    spent = sum(last[c] - first[c] for c in collectors)
    if not collectors or any(last[c] < first[c] for c in collectors):
        return None
    evidence = {
        "gc-time-ms": _round(spent),
        "elapsed-ms": int(elapsed_ms),
        "collectors": collectors,
        "metric": f"{GC_PREFIX}<collector>{GC_CUMULATIVE}",
    }
    return spent / elapsed_ms, evidence


def taskmanager_pressure(
    readings: dict[str, list[dict[str, float | None]]],
    t: Thresholds = THRESHOLDS,
    elapsed_ms: float = 0,
) -> list[Finding]:
    """Rule 9: per TaskManager (id -> its readings of TM_METRICS, and of its collectors'
    cumulative Time where it lacks GC_TIME): GC time above t.gc of the time, or heap used above
    t.heap of its max even at its lowest reading. GC time is GC_TIME's mean over the readings
    (Flink 1.19+); before 1.19, the collectors' cumulative Time's rise between the first and the
    last reading over ELAPSED_MS, the time between them (`cumulative_gc`). A TaskManager with
    neither (1.17/1.18 and a single reading: --sample 0) is a blind spot."""
    findings: list[Finding] = []
    lacking = []
    for tm, seen in sorted(readings.items()):
        gc = _mean(r.get(GC_TIME) for r in seen)
        share = None if gc is None else gc / 1000
        evidence: dict[str, Any] = {}
        if share is None and (fallback := cumulative_gc(seen, elapsed_ms)) is not None:
            share, evidence = fallback
        if share is None:
            lacking.append(tm)
        elif share > t.gc:
            findings.append(
                Finding(
                    rule="taskmanager",
                    severity="warning",
                    subject=f"taskmanager {tm}",
                    evidence={"gc-time-share": _round(share), **held_against(t, "gc"), **evidence},
                    summary=f"spends {_pct(share)} of its time in GC (> {_pct(t.gc)})",
                    advice="more heap (taskmanager.memory.task.heap.size), less state on the "
                    "heap (RocksDB), or fewer objects per record",
                )
            )
        used = [u / m for r in seen if (u := r.get(HEAP_USED)) and (m := r.get(HEAP_MAX))]
        if used and min(used) > t.heap:
            findings.append(
                Finding(
                    rule="taskmanager",
                    severity="warning",
                    subject=f"taskmanager {tm}",
                    evidence={"heap-used-share-min": _round(min(used)), **held_against(t, "heap")},
                    summary=f"heap at least {_pct(min(used))} full at every reading "
                    f"(> {_pct(t.heap)})",
                    advice="more heap, or state off the heap (RocksDB); an OutOfMemoryError "
                    "is near",
                )
            )
    if lacking:
        findings.append(
            blind_spot(
                "taskmanagers " + ", ".join(lacking),
                f"no {GC_TIME} (Flink 1.19+), nor two readings of the collectors' cumulative "
                "GC time (a --sample): GC time not judged",
                {
                    "metric": GC_TIME,
                    "fallback-metric": f"{GC_PREFIX}<collector>{GC_CUMULATIVE}",
                    "taskmanagers": lacking,
                },
            )
        )
    return findings


def on_vertex(
    vertex: VertexLoad | VertexReadings,
    rule: Rule,
    severity: Severity,
    *,
    subtask: int | None = None,
    evidence: dict[str, Any],
    summary: str,
    advice: str,
) -> Finding:
    """A finding about VERTEX (or its SUBTASK): the subject names it, and the evidence leads
    with the vertex's id (and the subtask's index)."""
    name = _quoted(vertex.name)
    subject = f"vertex {name}" if subtask is None else f"subtask {subtask} of {name}"
    where = {"vertex-id": vertex.id} | ({} if subtask is None else {"subtask": subtask})
    return Finding(rule, severity, subject, {**where, **evidence}, summary, advice)


def blind_spot(subject: str, summary: str, evidence: dict[str, Any]) -> Finding:
    """Rule 10: what doctor could not judge, said out loud."""
    return Finding(
        "blind-spot", "info", subject, evidence, summary, "judge by other means, or later"
    )


# -- a job's report --------------------------------------------------------------------------


@dataclass
class Observed:
    """Everything `examine` read of one job: REST bodies and the readings of its metrics."""

    job: Json  # GET /jobs/:jobid (after a sample, as it ended: its state then)
    plan: Json | None = None  # GET /jobs/:jobid/plan
    vertices: list[VertexReadings] = field(default_factory=list)
    checkpoint_config: Json | None = None
    checkpoint_stats: Json | None = None
    checkpoint: Json | None = None  # the latest completed checkpoint's details
    checkpoint_subtasks: dict[str, Json] = field(default_factory=dict)  # vertex id -> details
    exceptions: Json | None = None
    restarts: float | None = None  # the job's numRestarts metric
    taskmanagers: dict[str, list[dict[str, float | None]]] = field(default_factory=dict)
    readings: int = 0  # readings taken
    sampled_ms: int = 0
    elapsed_ms: int = 0  # from the first reading's start to the last one's
    sample_wanted: bool = False  # --sample was more than 0


@dataclass
class Report:
    """Doctor's verdict on one job."""

    job: str
    name: str
    state: str
    sampled_ms: int
    readings: int
    findings: list[Finding]
    vertices: list[VertexLoad]

    def to_json(self) -> dict[str, Any]:
        """The documented object (docs/diagnosing.md): {job, name, state, sampled-ms, readings,
        findings: [{rule, severity, subject, evidence, summary, advice}], vertices: [...]};
        a number that is not finite (a broken metric) is null: JSON has no Infinity or NaN."""
        return cast(
            dict[str, Any],
            _finite(
                {
                    "job": self.job,
                    "name": self.name,
                    "state": self.state,
                    "sampled-ms": self.sampled_ms,
                    "readings": self.readings,
                    "findings": [f.to_json() for f in self.findings],
                    "vertices": [v.to_json() for v in self.vertices],
                }
            ),
        )


def _finite(data: Any) -> Any:
    """DATA with every float that is not finite (inf, NaN) replaced by None."""
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    return data


def diagnose(seen: Observed, t: Thresholds = THRESHOLDS) -> Report:
    """Every rule over what was SEEN of a job: its report, findings ranked."""
    job = seen.job
    state = str(job.get("state") or "")
    now_ms = number(job.get("now")) or time.time() * 1000
    running = number(obj(job.get("timestamps")).get("RUNNING")) or None
    running_for = (now_ms - running) / 1000 if running and state == "RUNNING" else None
    findings = restarts(state, seen.exceptions, seen.restarts, now_ms, t)
    loads = [load(v, now_ms) for v in seen.vertices]
    report = Report(
        job=str(job.get("jid") or ""),
        name=str(job.get("name") or ""),
        state=state,
        sampled_ms=seen.sampled_ms,
        readings=seen.readings,
        findings=[],
        vertices=loads,
    )
    if state in ENDED_STATES:
        if state != "FAILED":
            findings.append(
                blind_spot("job", f"the job is {state}: nothing runs to diagnose", {"state": state})
            )
        report.findings = rank(findings)
        return report
    findings += checkpoint_progress(
        seen.checkpoint_config, seen.checkpoint_stats, state, running, now_ms, t
    )
    names = {v.id: v.name for v in seen.vertices}
    findings += slow_checkpoint(
        seen.checkpoint_config, seen.checkpoint, seen.checkpoint_subtasks, names, t
    )
    if running_for is None or running_for < t.young:
        why = (
            f"not judged by its rates while {state}"
            if running_for is None
            else f"too young to judge by its rates (running for {running_for:.0f}s)"
        )
        findings.append(
            blind_spot(
                "job",
                f"{why}: rates average over a minute, judged once RUNNING for {t.young:g}s",
                {
                    "state": state,
                    "running-ms": None if running_for is None else int(running_for * 1000),
                    "young-threshold-ms": int(t.young * 1000),
                },
            )  # fmt: skip
        )
        report.findings = rank(findings)
        return report
    distinct = len(_distinct([[v.metrics[k] for v in seen.vertices if k < len(v.metrics)]
                              for k in range(seen.readings)]))  # fmt: skip
    if seen.sample_wanted and distinct < t.min_readings:
        findings.append(
            blind_spot(
                "job",
                f"{distinct} distinct reading(s) in the {seen.sampled_ms / 1000:.0f}s sample "
                f"(fewer than {t.min_readings}): judged from them",
                {"distinct-readings": distinct, "min-readings": t.min_readings},
            )
        )
    roots = backpressure_roots(loads, seen.plan or {}, t)
    findings += roots
    findings += skew(loads, t)
    findings += watermarks(seen.vertices, t)
    findings += source_lag(seen.vertices, loads, seen.elapsed_ms, t)
    root_ids = {f.evidence["vertex-id"] for f in roots if "holds-up" in f.evidence}
    findings += headroom([v for v in loads if v.id in root_ids], sources(seen.plan or {}), t)
    findings += taskmanager_pressure(seen.taskmanagers, t, seen.elapsed_ms)
    for vertex in loads:
        if vertex.busy_nan:
            findings.append(
                blind_spot(
                    f"vertex {_quoted(vertex.name)}",
                    "busy time is NaN (a legacy source function): its load is not judged",
                    {"vertex-id": vertex.id, "metric": BUSY},
                )
            )
        elif vertex.busy_max is None and vertex.subtasks:
            findings.append(
                blind_spot(
                    f"vertex {_quoted(vertex.name)}",
                    "reports no busy time: its load is not judged",
                    {"vertex-id": vertex.id, "metric": BUSY, "status": None},
                )
            )
    report.findings = rank(findings)
    return report


# -- I/O: reading a job ----------------------------------------------------------------------


def chunks(names: Sequence[str], limit: int = MAX_QUERY) -> list[list[str]]:
    """NAMES in runs whose comma-joined text stays within LIMIT characters."""
    runs: list[list[str]] = [[]]
    size = 0
    for name in names:
        if runs[-1] and size + len(name) + 1 > limit:
            runs.append([])
            size = 0
        runs[-1].append(name)
        size += len(name) + 1
    return [r for r in runs if r]


def _quietly(fetch: Callable[[], Any], default: Any = None) -> Any:
    """FETCH(), or DEFAULT when Flink cannot answer it (a job that does not run yet, an
    endpoint the version lacks): one missing signal is a blind spot, not a failed run."""
    try:
        return fetch()
    except FlinkctlError as exc:
        if exc.code in (ExitCode.FAILED, ExitCode.NOT_FOUND):
            return default
        raise


def read_vertex(client: FlinkClient, job_id: str, vertex: VertexReadings) -> None:
    """One reading of VERTEX's per-subtask metrics and input watermarks, appended to it."""
    names = [f"{i}.{m}" for i in range(vertex.parallelism) for m in SUBTASK_METRICS]
    names += vertex.lag_ids
    metrics: list[Json] = []
    for run in chunks(names):

        def fetch(run: list[str] = run) -> list[Metric]:
            return client.vertex_metrics(job_id, vertex.id, run)

        metrics += _quietly(fetch, [])
    vertex.metrics.append(per_subtask(metrics))
    marks = _quietly(lambda: client.watermarks(job_id, vertex.id), [])
    vertex.watermarks.append(per_subtask(marks))


def examine(
    client: FlinkClient,
    job_id: str,
    sample: float = DEFAULT_SAMPLE,
    *,
    every: float = READ_EVERY,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> Observed:
    """Read job JOB_ID: its details, plan and checkpoints once, the metric ids its source
    vertices and TaskManagers offer once (for lag metrics, and GC time before Flink 1.19), its
    rate and time metrics every EVERY seconds (or SAMPLE, if shorter) over SAMPLE seconds (one
    reading when SAMPLE is 0), then its state again (it may have failed or been cancelled
    meanwhile: the report has the state at the end), its restarts and exceptions. Requests of
    one reading go out concurrently (one per endpoint and vertex or TaskManager)."""
    sleep, clock = sleep or time.sleep, clock or time.monotonic
    job = client.job(job_id)
    seen = Observed(job=dict(job), sample_wanted=sample > 0)
    if str(job.get("state") or "") in ENDED_STATES:
        _failures(client, job_id, seen)
        return seen
    seen.vertices = [VertexReadings.of(v) for v in objects(job.get("vertices"))]
    once: list[Callable[[], Any]] = [
        lambda: _quietly(lambda: client.job_plan(job_id)),
        lambda: _quietly(lambda: client.checkpoint_config(job_id)),
        lambda: _quietly(lambda: client.checkpoint_stats(job_id)),
        *[lambda v=v: _quietly(lambda: client.vertex(job_id, v.id), {}) for v in seen.vertices],
    ]
    plan, seen.checkpoint_config, seen.checkpoint_stats, *details = client.fan_out(
        lambda f: f(), once
    )
    seen.plan = plan
    tms = sorted(
        {
            str(s.get("taskmanager-id"))
            for d in details
            for s in objects(obj(d).get("subtasks"))
            if s.get("taskmanager-id")
        }  # fmt: skip
    )
    seen.taskmanagers = {tm: [] for tm in tms}
    source_ids = sources(plan or {})
    lagging = [v for v in seen.vertices if v.id in source_ids]
    offered: list[Callable[[], Any]] = [
        *[lambda v=v: _quietly(lambda: client.vertex_metrics(job_id, v.id), []) for v in lagging],
        *[lambda tm=tm: _quietly(lambda: client.taskmanager_metrics(tm), []) for tm in tms],
    ]
    listings = client.fan_out(lambda f: f(), offered)
    for vertex, listing in zip(lagging, listings, strict=False):
        vertex.lag_ids = lag_ids(listing)
    tm_names = {
        tm: [*TM_METRICS, *gc_time_ids(listing)]
        for tm, listing in zip(tms, listings[len(lagging) :], strict=True)
    }
    step = min(every, sample)
    readings = 1 if sample <= 0 else int(sample // step) + 1
    started = clock()
    taken: list[float] = []
    for n in range(readings):
        if n:
            sleep(step)
        taken.append(clock())
        work: list[Callable[[], Any]] = [
            *[lambda v=v: read_vertex(client, job_id, v) for v in seen.vertices],
            *[lambda tm=tm: (tm, _quietly(lambda: client.taskmanager_metrics(tm, tm_names[tm]),
                                          [])) for tm in tms],
        ]  # fmt: skip
        for result in client.fan_out(lambda f: f(), work):
            if isinstance(result, tuple):
                seen.taskmanagers[result[0]].append(by_id(result[1]))
    seen.readings = readings
    seen.sampled_ms = int((clock() - started) * 1000)
    seen.elapsed_ms = int((taken[-1] - taken[0]) * 1000)
    if sample > 0:
        seen.job = dict(client.job(job_id))
    _failures(client, job_id, seen)
    _latest_checkpoint(client, job_id, seen)
    return seen


def _failures(client: FlinkClient, job_id: str, seen: Observed) -> None:
    """The job's restarts (its numRestarts metric) and its exception history."""
    restarts = _quietly(lambda: client.job_metrics(job_id, ["uptime", "numRestarts"]), [])
    seen.restarts = by_id(restarts).get("numRestarts")
    seen.exceptions = _quietly(lambda: client.job_exceptions(job_id))


def _latest_checkpoint(client: FlinkClient, job_id: str, seen: Observed) -> None:
    """The latest completed checkpoint's details and every vertex's subtask details of it."""
    latest = obj(obj(obj(seen.checkpoint_stats).get("latest")).get("completed")).get("id")
    if not isinstance(latest, int):
        return
    seen.checkpoint = _quietly(lambda: client.checkpoint(job_id, latest))
    ids = [str(v) for v in obj(obj(seen.checkpoint).get("tasks"))]
    bodies = client.fan_out(
        lambda vid: _quietly(lambda: client.checkpoint_vertex(job_id, latest, vid)), ids
    )
    seen.checkpoint_subtasks = {vid: b for vid, b in zip(ids, bodies, strict=True) if b}


def doctor(client: FlinkClient, job_id: str, sample: float = DEFAULT_SAMPLE, **kw: Any) -> Report:
    """`examine` and `diagnose` a job: its report."""
    return diagnose(examine(client, job_id, sample, **kw))


GONE = "gone since the listing: it ended and left the cluster's job store"


def listed(client: FlinkClient, job_id: str, name: str, sample: float) -> dict[str, Any]:
    """The report object of a job `active_jobs` listed, or, when the job has left the cluster
    since (404: jobstore.expiration-time, an application cluster shutting down), a note for it
    ({job, name, note}): one job gone does not stop the others' diagnosis."""
    try:
        return doctor(client, job_id, sample).to_json()
    except NotFoundError:
        return {"job": job_id, "name": name, "note": GONE}


def active_jobs(client: FlinkClient, glob: str | None = None) -> list[tuple[str, str]]:
    """(id, name) of every job that has not ended (whose name matches GLOB), by name."""
    from fnmatch import fnmatchcase

    jobs = objects(client.jobs_overview().get("jobs"))
    chosen = [
        j for j in jobs
        if j.get("state") not in ENDED_STATES
        and (glob is None or fnmatchcase(str(j.get("name")), glob))
    ]  # fmt: skip
    chosen.sort(key=lambda j: (str(j.get("name")), str(j.get("jid"))))
    return [(str(j.get("jid")), str(j.get("name"))) for j in chosen]


def finding_lines(reports: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One item per finding of the report objects REPORTS (for -o jsonl): the finding led by
    the report's `logged-at`, `context` (if any), `job` and `name`."""
    lines = []
    for report in reports:
        if "findings" not in report:  # a context's error or note, a job's note
            lines.append(report)
            continue
        keys: tuple[str, ...] = ("logged-at", "context", "job", "name")
        head: dict[str, Any] = {k: report[k] for k in keys if k in report}
        lines += [{**head, **finding} for finding in array(report.get("findings"))]
    return lines
