"""`flinkctl doctor`: each rule over recorded responses (mutated where a problem is needed), and
the command over a test server answering with them.

Metric values are recorded in one shape, `[{"id": "<subtask>.<name>", "value": "<number>"}]`
(vertex-metrics-records); the readings here put other names and numbers into that shape.
Flink 1.18.1's TaskManager metrics (no GC time per second) and its source vertex's metric ids
are recorded apart, in tests/fixtures/doctor/flink-1.18.1 (not a version every test runs on).
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from urllib.parse import parse_qs

import pytest
from conftest import FIXTURES, Recorded
from werkzeug import Response

from flinkctl.workflows import doctor as dr

BUSY, BP = dr.BUSY, dr.BACKPRESSURED
PENDING = (
    "Source__Kafka.pendingRecords"  # FLIP-33's, operator-scoped: "<subtask>.<operator>.<name>"
)
LAG_MAX = "Source__Kafka.KafkaConsumer.records-lag-max"  # the legacy FlinkKafkaConsumer's


class Older(Recorded):
    """Bodies recorded from Flink 1.18.1 for doctor alone (tests/fixtures/doctor/)."""

    @property
    def dir(self):
        return FIXTURES / "doctor" / f"flink-{self.version}"


FLINK_118 = Older("1.18.1")


def entry(flink, metric_id: str, value) -> dict:
    """A recorded metric entry (vertex-metrics-records) with another id and value."""
    template = copy.deepcopy(flink.body("vertex-metrics-records")[0])
    template.update(id=metric_id, value=str(value))
    return template


def reading(flink, per_subtask: dict[int, dict[str, float]]) -> dict:
    """One reading of a vertex, parsed from a body of recorded entries."""
    body = [entry(flink, f"{i}.{m}", v) for i, ms in per_subtask.items() for m, v in ms.items()]
    return dr.per_subtask(body)


def vertices(flink, parallelism: int = 1) -> list[dr.VertexReadings]:
    """The recorded job's vertices (source first, then the sink), at PARALLELISM."""
    found = []
    for v in flink.body("job")["vertices"]:
        v = {**v, "parallelism": parallelism}
        found.append(dr.VertexReadings.of(v))
    return found


def loads(flink, source: dict, sink: dict, parallelism: int = 1) -> list[dr.VertexLoad]:
    src, snk = vertices(flink, parallelism)
    src.metrics.append(reading(flink, source))
    snk.metrics.append(reading(flink, sink))
    return [dr.load(src), dr.load(snk)]


def source_sink(flink) -> tuple[str, str]:
    return flink.ids["sourcevertexid"], flink.ids["vertexid"]


# -- rule 1: the root of backpressure ---------------------------------------------------------


def test_backpressure_root_is_the_first_busy_vertex_downstream(flink):
    # the source held up 90% of the time, the sink busy 95%: the sink is the bottleneck
    found = dr.backpressure_roots(
        loads(flink, {0: {BUSY: 80, BP: 900}}, {0: {BUSY: 950, BP: 0}}), flink.body("job-plan")
    )
    source, sink = source_sink(flink)
    assert [f.rule for f in found] == ["backpressure"]
    (root,) = found
    assert root.evidence["vertex-id"] == sink
    assert [h["id"] for h in root.evidence["holds-up"]] == [source]
    assert root.evidence["busy-max"] == 0.95 and root.evidence["backpressured-max"] == 0.0
    assert root.subject == "vertex 'Count -> Drop -> Sink: Print'"
    assert "busy 95% (> 50%)" in root.summary and "backpressured 90%" in root.summary


def test_a_busy_source_without_backpressure_is_no_backpressure_finding(flink):
    # as recorded: the throttled source busy 100%, the sink nearly idle, nothing backpressured
    found = dr.backpressure_roots(
        loads(flink, {0: {BUSY: 1000, BP: 0}}, {0: {BUSY: 9, BP: 0}}), flink.body("job-plan")
    )
    assert found == []


def test_backpressure_without_a_busy_vertex_downstream_says_so(flink):
    found = dr.backpressure_roots(
        loads(flink, {0: {BUSY: 50, BP: 900}}, {0: {BUSY: 100, BP: 0}}), flink.body("job-plan")
    )
    assert len(found) == 1 and found[0].evidence["vertex-id"] == source_sink(flink)[0]
    assert "no vertex downstream is busy" in found[0].summary


def test_the_plan_is_turned_around_to_walk_downstream(flink):
    source, sink = source_sink(flink)
    assert dr.downstream(flink.body("job-plan")) == {source: [sink], sink: []}
    assert dr.sources(flink.body("job-plan")) == {source}


# -- rule 2: skew -----------------------------------------------------------------------------


def test_skew_names_the_busiest_subtask_judged_on_max(flink):
    busy = {0: 300, 1: 320, 2: 940, 3: 310}
    found = dr.skew(
        loads(flink, {i: {BUSY: 100} for i in range(4)}, {i: {BUSY: b} for i, b in busy.items()}, 4)
    )
    assert len(found) == 1
    (skewed,) = found
    assert skewed.rule == "skew" and skewed.evidence["subtask"] == 2
    assert skewed.subject == "subtask 2 of 'Count -> Drop -> Sink: Print'"
    assert skewed.evidence["max"] == 0.94 and skewed.evidence["p75-of-others"] == 0.315
    assert "> 1.5x" in skewed.summary


@pytest.mark.parametrize(
    "busy",
    [
        {0: 600, 1: 580, 2: 590, 3: 610},  # evenly busy: no skew
        {0: 100, 1: 100, 2: 450, 3: 100},  # far above the others but not busy: no skew
    ],
)
def test_no_skew_when_even_or_not_busy(flink, busy):
    found = dr.skew(loads(flink, {0: {}}, {i: {BUSY: b} for i, b in busy.items()}, 4))
    assert found == []


def test_skew_of_records_in_with_two_subtasks(flink):
    sink = {0: {BUSY: 700, dr.RECORDS_IN: 2000}, 1: {BUSY: 650, dr.RECORDS_IN: 500}}
    (skewed,) = dr.skew(loads(flink, {0: {}, 1: {}}, sink, 2))
    assert skewed.evidence["metric"] == "records-in-per-second"
    assert skewed.evidence["subtask"] == 0 and skewed.evidence["ratio"] == 4.0


# -- rule 3: checkpoints not completing --------------------------------------------------------


def test_recent_checkpoints_are_no_finding(flink):
    job = flink.body("job")
    found = dr.checkpoint_progress(
        flink.body("checkpoints-config"), flink.body("checkpoints"), "RUNNING",
        job["timestamps"]["RUNNING"], job["now"],
    )  # fmt: skip
    assert found == []


def test_no_checkpoint_within_the_window_is_critical(flink):
    config, stats = flink.body("checkpoints-config"), copy.deepcopy(flink.body("checkpoints"))
    config = {**config, "tolerable_failed_checkpoints": 1}
    failed = copy.deepcopy(stats["latest"]["completed"])
    done = stats["latest"]["completed"]["latest_ack_timestamp"]
    # a failed checkpoint's statistics add failure_timestamp and failure_message
    failed.update(status="FAILED", id=failed["id"] + 1, failure_message="Checkpoint expired",
                  failure_timestamp=done + 5000)  # fmt: skip
    stats["latest"]["failed"] = failed
    window = max(config["interval"], config["timeout"]) * (1 + 2)  # 30 min
    (found,) = dr.checkpoint_progress(config, stats, "RUNNING", done - 1000, done + window + 1)
    assert found.severity == "critical" and found.rule == "checkpoints"
    assert found.evidence["window-ms"] == window == 1_800_000
    assert found.evidence["latest-failure"] == "Checkpoint expired"
    assert "Checkpoint expired" in found.summary and "tolerable 1 + 2" in found.summary
    # within the window, the failed checkpoint is a warning
    (warned,) = dr.checkpoint_progress(config, stats, "RUNNING", done - 1000, done + window - 1)
    assert warned.severity == "warning" and "failed after the last completed" in warned.summary


def test_a_failed_checkpoint_with_none_completed_says_so(flink):
    """The checkpoints demo (its tolerable failures unlimited): every checkpoint expires, none
    ever completed; within the window, a warning that claims no completed one."""
    config, stats = flink.body("checkpoints-config"), copy.deepcopy(flink.body("checkpoints"))
    failed = copy.deepcopy(stats["latest"]["completed"])
    done = failed["latest_ack_timestamp"]
    failed.update(status="FAILED", failure_message="Checkpoint expired before completing.",
                  failure_timestamp=done)  # fmt: skip
    stats["latest"].update(completed=None, failed=failed)
    (warned,) = dr.checkpoint_progress(config, stats, "RUNNING", done - 1000, done + 1000)
    assert warned.severity == "warning" and warned.evidence["last-completed-id"] is None
    assert warned.summary == (
        f"the latest checkpoint ({failed['id']}) failed and none has completed yet; "
        "the latest failed: Checkpoint expired before completing."
    )


def test_checkpointing_off_is_said(flink):
    (found,) = dr.checkpoint_progress(
        flink.body("deploy-checkpoints-config-no-checkpoints"),
        flink.body("deploy-checkpoints-no-checkpoints"), "RUNNING", 0, 10**13,
    )  # fmt: skip
    assert found.severity == "info" and "checkpoints are off" in found.summary


# -- rule 4: slow checkpoints by phase ---------------------------------------------------------


def test_a_slow_checkpoint_names_its_slowest_subtask_and_phase(flink):
    checkpoint = {**flink.body("checkpoint"), "end_to_end_duration": 2500}
    details = copy.deepcopy(flink.body("checkpoint-vertex"))
    details["subtasks"][0].update(end_to_end_duration=2480, start_delay=30)
    details["subtasks"][0]["checkpoint"]["async"] = 2400
    source, sink = source_sink(flink)
    names = {v.id: v.name for v in vertices(flink)}
    (slow,) = dr.slow_checkpoint(flink.body("checkpoints-config"), checkpoint, {sink: details},
                                 names)  # fmt: skip
    assert slow.rule == "slow-checkpoint" and slow.severity == "warning"
    assert slow.evidence["dominant-phase"] == "async" and slow.evidence["subtask"] == 0
    assert slow.evidence["threshold-ms"] == 1500  # half the 3 s interval
    assert slow.subject == "subtask 0 of 'Count -> Drop -> Sink: Print'"
    assert slow.advice == dr.PHASE_ADVICE["async"]


def test_a_quick_checkpoint_is_no_finding(flink):
    sink = source_sink(flink)[1]
    found = dr.slow_checkpoint(flink.body("checkpoints-config"), flink.body("checkpoint"),
                               {sink: flink.body("checkpoint-vertex")}, {})  # fmt: skip
    assert found == []


# -- rule 5: restarts --------------------------------------------------------------------------


def test_one_recent_restart_is_a_warning_with_its_cause(flink):
    exceptions = flink.body("deploy-exceptions-restarting")
    at = exceptions["exceptionHistory"]["entries"][0]["timestamp"]
    (found,) = dr.restarts("RUNNING", exceptions, 1, at + 5000)
    assert found.severity == "warning" and found.evidence["recent"] == 1
    (cause,) = found.evidence["causes"]
    assert (
        cause["cause"] == "IllegalStateException: demo failure 4 s after the start (--fail-after)"
    )
    assert cause["taskmanager"] and cause["count"] == 1
    assert found.subject == "task 'Source: Sequence -> Timestamps -> Throttle' (1/1)"


def test_a_crash_loop_is_critical(flink):
    exceptions = copy.deepcopy(flink.body("deploy-exceptions-restarting"))
    entries = exceptions["exceptionHistory"]["entries"]
    at = entries[0]["timestamp"]
    entries[:] = [{**entries[0], "timestamp": at - n * 5000} for n in range(3)]
    (found,) = dr.restarts("RUNNING", exceptions, 3, at + 1000)
    assert found.severity == "critical" and "crash loop" in found.summary
    assert found.evidence["causes"][0]["count"] == 3


def test_restarts_since_the_start_are_never_fewer_than_the_recent_ones(flink):
    """numRestarts may be a metrics fetch (10 s) behind the exception history."""
    exceptions = copy.deepcopy(flink.body("deploy-exceptions-restarting"))
    entries = exceptions["exceptionHistory"]["entries"]
    at = entries[0]["timestamp"]
    entries[:] = [{**entries[0], "timestamp": at - n * 3000} for n in range(9)]
    (found,) = dr.restarts("RUNNING", exceptions, 8, at + 1000)
    assert found.summary.startswith("9 restart(s) since the start, 9 in the last 10m00s")
    assert found.evidence["restarts"] == 9


def test_old_restarts_are_info_and_none_is_no_finding(flink):
    exceptions = flink.body("job-exceptions-restarted")
    at = exceptions["exceptionHistory"]["entries"][0]["timestamp"]
    (found,) = dr.restarts("RUNNING", exceptions, 1, at + 3_600_000)
    assert found.severity == "info" and found.evidence["recent"] == 0
    assert dr.restarts("RUNNING", flink.body("job-exceptions"), 0, at) == []


def test_a_failed_job_is_critical_with_the_deepest_cause(flink):
    (found,) = dr.restarts("FAILED", flink.body("job-failed-exceptions"), None, 0)
    assert found.severity == "critical" and found.summary.startswith("the job FAILED")
    assert "caused by" in found.evidence["causes"][0]["cause"]


# -- rule 6: watermarks ------------------------------------------------------------------------


def _marks(flink, values: dict[int, int]) -> dict:
    mark = flink.body("vertex-watermarks")[0]
    return dr.per_subtask([{**mark, "id": f"{i}.currentInputWatermark", "value": str(v)}
                           for i, v in values.items()])  # fmt: skip


def test_a_stalled_watermark_is_named(flink):
    (vertex,) = vertices(flink, 2)[1:]
    t = int(flink.body("vertex-watermarks")[0]["value"])
    vertex.watermarks = [_marks(flink, {0: t, 1: t}), _marks(flink, {0: t + 10_000, 1: t})]
    (found,) = dr.watermarks([vertex])
    assert found.rule == "watermarks" and found.evidence["subtask"] == 1
    assert found.evidence["behind-ms"] == 10_000 and not found.evidence["advanced"]
    assert "did not advance" in found.summary


def test_a_lagging_watermark_and_no_watermarks(flink):
    (vertex,) = vertices(flink, 2)[1:]
    t = int(flink.body("vertex-watermarks")[0]["value"])
    vertex.watermarks = [_marks(flink, {0: t, 1: t - 120_000})]
    (found,) = dr.watermarks([vertex])
    assert found.evidence["subtask"] == 1 and "lags the vertex's newest by 2m00s" in found.summary
    vertex.watermarks = [_marks(flink, {0: dr.NO_WATERMARK, 1: dr.NO_WATERMARK})]
    assert dr.watermarks([vertex]) == []  # no watermarks is not a finding


# -- rule 7: source lag -----------------------------------------------------------------------


def listing(flink, ids: list[str]) -> list[dict]:
    """The recorded source vertex's metric ids (Flink 1.18.1's demo: no lag metric) with IDS."""
    body = copy.deepcopy(FLINK_118.body("vertex-metrics-source"))
    return body + [{**body[0], "id": i} for i in ids]


def test_lag_ids_prefer_pending_records(flink):
    assert dr.lag_ids(FLINK_118.body("vertex-metrics-source")) == []  # the demo's source
    assert dr.lag_ids(flink.body("vertex-metrics")) == []
    both = listing(flink, [f"1.{PENDING}", f"0.{PENDING}", f"0.{LAG_MAX}"])
    assert dr.lag_ids(both) == [f"0.{PENDING}", f"1.{PENDING}"]
    assert dr.lag_ids(listing(flink, [f"0.{LAG_MAX}"])) == [f"0.{LAG_MAX}"]


def source_readings(flink, lags: list[list[float]], backpressured: float = 0,
                    name: str = PENDING) -> tuple[list[dr.VertexReadings], list[dr.VertexLoad]]:  # fmt: skip
    """The recorded source at parallelism 2 whose subtasks report lag NAME (one list per
    reading, a value per subtask) and BACKPRESSURED ms per second; the sink idle."""
    src, snk = vertices(flink, 2)
    for values in lags:
        src.metrics.append(reading(flink, {i: {name: v, BUSY: 900, BP: backpressured}
                                           for i, v in enumerate(values)}))  # fmt: skip
        snk.metrics.append(reading(flink, {i: {BUSY: 100, BP: 0} for i in range(2)}))
    return [src, snk], [dr.load(src), dr.load(snk)]


def test_rising_lag_without_backpressure_is_the_source_as_bottleneck(flink):
    seen, found_loads = source_readings(flink, [[1000, 1200], [3000, 2600], [6000, 4200]])
    (found,) = dr.source_lag(seen, found_loads, 20_000)
    assert found.rule == "source-lag" and found.severity == "warning"
    assert found.subject == "vertex 'Source: Sequence -> Timestamps -> Throttle'"
    ev = found.evidence
    assert ev["metric"] == "pendingRecords" and ev["subtasks"] == [0, 1]
    assert (ev["lag-first"], ev["lag-last"], ev["rise"]) == (2200, 10_200, 8000)
    assert ev["rise-per-second"] == 400 and ev["elapsed-ms"] == 20_000
    assert ev["rise-threshold"] == 1000  # max(1000 records, 10% of 2,200)
    assert ev["backpressured-max"] == 0 and ev["backpressured-threshold"] == 0.5
    assert "the source itself is the bottleneck" in found.summary
    assert "from 2,200 to 10,200 records over 20.0s (+8,000, +400/s; >= 1,000)" in found.summary
    assert "parallelism" in found.advice


def test_rising_lag_of_the_legacy_kafka_consumer(flink):
    seen, found_loads = source_readings(flink, [[500, 0], [9000, 0]], name=LAG_MAX)
    (found,) = dr.source_lag(seen, found_loads, 10_000)
    assert found.severity == "warning" and found.evidence["metric"] == "records-lag-max"


def test_rising_lag_while_backpressured_is_info_only(flink):
    seen, found_loads = source_readings(flink, [[1000, 1000], [5000, 5000]], backpressured=800)
    (found,) = dr.source_lag(seen, found_loads, 10_000)
    assert found.severity == "info" and found.evidence["backpressured-max"] == 0.8
    assert "the bottleneck is downstream" in found.summary


@pytest.mark.parametrize(
    "lags",
    [
        [[5000, 5000], [5000, 5000], [5000, 5000]],  # flat
        [[9000, 8000], [4000, 3000]],  # falling: catching up
        [[1000, 1000], [1400, 1500]],  # +900: below 1,000 records
        [[100_000, 100_000], [105_000, 105_000]],  # +10,000: below 10% of 200,000
        [[1000, 1000]],  # one reading
    ],
)
def test_flat_falling_small_or_single_lag_is_no_finding(flink, lags):
    assert dr.source_lag(*source_readings(flink, lags), 20_000) == []


def test_a_source_without_a_lag_metric_is_no_finding(flink):
    src, snk = vertices(flink)
    src.metrics = [reading(flink, {0: {BUSY: 1000, BP: 0, dr.RECORDS_OUT: 95}})] * 3
    assert dr.source_lag([src, snk], [dr.load(src), dr.load(snk)], 20_000) == []


# -- rule 8: headroom --------------------------------------------------------------------------


def test_headroom_of_the_bottleneck(flink):
    sink = {i: {BUSY: 950, BP: 0, dr.RECORDS_IN: 100} for i in range(2)}
    found = loads(flink, {i: {BUSY: 50, BP: 900} for i in range(2)}, sink, 2)
    (advice,) = dr.headroom([found[1]], dr.sources(flink.body("job-plan")))
    assert advice.severity == "info" and advice.evidence["true-rate"] == pytest.approx(210.526)
    assert advice.evidence["recommended-parallelism"] == 3  # ceil(2 x 0.95 / 0.7)
    assert "at least 3" in advice.summary


# -- rule 9: TaskManager pressure --------------------------------------------------------------


def _tm(flink, values: dict[str, float]) -> dict:
    recorded = flink.body("taskmanager-metrics-cpu")[0]
    return dr.by_id([{**recorded, "id": k, "value": str(v)} for k, v in values.items()])


def test_gc_and_heap_pressure(flink):
    tm = flink.ids["tmid"]
    heavy = {dr.GC_TIME: 400, dr.HEAP_USED: 950, dr.HEAP_MAX: 1000}
    found = dr.taskmanager_pressure({tm: [_tm(flink, heavy), _tm(flink, heavy)]})
    assert [f.summary.split(" ")[0] for f in found] == ["spends", "heap"]
    assert all(f.subject == f"taskmanager {tm}" for f in found)
    calm = {dr.GC_TIME: 10, dr.HEAP_USED: 300, dr.HEAP_MAX: 1000}
    assert dr.taskmanager_pressure({tm: [_tm(flink, calm)]}) == []
    (blind,) = dr.taskmanager_pressure({tm: [_tm(flink, {dr.HEAP_USED: 1, dr.HEAP_MAX: 9})]})
    assert blind.rule == "blind-spot" and dr.GC_TIME in blind.summary


YOUNG = "Status.JVM.GarbageCollector.G1_Young_Generation.Time"
OLD = "Status.JVM.GarbageCollector.G1_Old_Generation.Time"


def gc_118(young: float | None = None, name: str = "taskmanager-metrics-gc") -> dict:
    """A reading of Flink 1.18.1's TaskManager (heap and the collectors' cumulative GC time, no
    GC time per second), its young generation's Time set to YOUNG ms."""
    body = copy.deepcopy(FLINK_118.body(name))
    for metric in body:
        if young is not None and metric["id"] == YOUNG:
            metric["value"] = str(young)
    return dr.by_id(body)


def test_gc_time_ids_only_where_gc_time_per_second_is_missing(flink):
    assert dr.gc_time_ids(FLINK_118.body("taskmanager-metrics")) == [OLD, YOUNG]
    assert dr.gc_time_ids(flink.body("taskmanager-metrics")) == []  # 1.19+: All.TimeMsPerSecond


def test_gc_before_1_19_from_the_collectors_cumulative_time():
    tm = FLINK_118.ids["tmid"]
    first = gc_118()[YOUNG]
    # 12 s of GC in a 30 s sample: 40%
    (found,) = dr.taskmanager_pressure({tm: [gc_118(), gc_118(first + 6000),
                                             gc_118(first + 12_000)]}, elapsed_ms=30_000)  # fmt: skip
    assert found.rule == "taskmanager" and found.severity == "warning"
    assert found.evidence["gc-time-share"] == 0.4 and found.evidence["gc-threshold"] == 0.3
    assert found.evidence["gc-time-ms"] == 12_000 and found.evidence["elapsed-ms"] == 30_000
    assert found.evidence["collectors"] == ["G1_Old_Generation", "G1_Young_Generation"]
    assert "spends 40% of its time in GC (> 30%)" in found.summary
    # as recorded 21 s apart: no GC in between
    calm = [gc_118(), gc_118(name="taskmanager-metrics-gc-later")]
    assert dr.taskmanager_pressure({tm: calm}, elapsed_ms=21_000) == []
    # a little GC: 300 ms in 30 s
    assert dr.taskmanager_pressure({tm: [gc_118(), gc_118(first + 300)]}, elapsed_ms=30_000) == []


def test_gc_before_1_19_from_one_reading_is_a_blind_spot():
    tm = FLINK_118.ids["tmid"]
    (blind,) = dr.taskmanager_pressure({tm: [gc_118()]}, elapsed_ms=0)
    assert blind.rule == "blind-spot" and blind.subject == f"taskmanagers {tm}"
    assert "nor two readings of the collectors' cumulative GC time" in blind.summary
    # a TaskManager whose count went back (it restarted) is not judged either
    first = gc_118()[YOUNG]
    (blind,) = dr.taskmanager_pressure({tm: [gc_118(first + 50), gc_118()]}, elapsed_ms=10_000)
    assert blind.rule == "blind-spot"


# -- the command over a test server ------------------------------------------------------------


def aged(flink) -> dict:
    """The recorded job as if asked 15 minutes after it started RUNNING (old enough to judge;
    its last checkpoint still within the checkpoint-progress window)."""
    job = copy.deepcopy(flink.body("job"))
    job["now"] = job["timestamps"]["RUNNING"] + 900_000
    return job


def serve_job(flink, httpserver, metrics: dict[str, dict[int, dict[str, float | list]]], *,
              job=None, exceptions=None, tm_metrics=None, tm_listing=None,
              overview=None) -> None:  # fmt: skip
    """A cluster answering every request doctor makes about the recorded job: recorded bodies,
    and the vertex METRICS (vertex id -> subtask -> name -> value) in the recorded shape; a
    list of values answers the Nth request for the metric with its Nth value (its last after),
    and so does a list of JOB bodies. A vertex's metric ids (no `get`) are the recorded ones
    and its METRICS'; a TaskManager's are TM_LISTING (a recorded body), or its TM_METRICS' ids.
    /jobs/overview answers OVERVIEW, or as recorded."""
    ids = flink.ids
    jid = ids["jobid"]
    source, sink = source_sink(flink)
    stats = copy.deepcopy(flink.body("checkpoints"))
    stats["latest"]["completed"]["id"] = int(ids["checkpointid"])  # the one with details
    answers = {
        f"/jobs/{jid}/exceptions": exceptions or flink.body("job-exceptions"),
        f"/jobs/{jid}/plan": flink.body("job-plan"),
        f"/jobs/{jid}/checkpoints/config": flink.body("checkpoints-config"),
        f"/jobs/{jid}/checkpoints": stats,
        f"/jobs/{jid}/checkpoints/details/{ids['checkpointid']}": flink.body("checkpoint"),
    }
    for vid in (source, sink):
        answers[f"/jobs/{jid}/vertices/{vid}"] = {**flink.body("vertex"), "id": vid}
        answers[f"/jobs/{jid}/vertices/{vid}/watermarks"] = flink.body("vertex-watermarks")
        details = f"/jobs/{jid}/checkpoints/details/{ids['checkpointid']}/subtasks/{vid}"
        answers[details] = flink.body("checkpoint-vertex")
    for path, body in answers.items():
        httpserver.expect_request(path).respond_with_json(body)
    flink.serve(httpserver, "job-metrics-values")
    flink.expect(httpserver, "jobs-overview", body=overview, always=True)

    asked: Counter[str] = Counter()

    def value(name: str, values: dict[str, object]):
        asked[name] += 1
        found = values[name]
        return found[min(asked[name], len(found)) - 1] if isinstance(found, list) else found

    def job_answer(request) -> Response:
        body = value("job", {"job": job or aged(flink)})
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(f"/jobs/{jid}").respond_with_handler(job_answer)

    def vertex_metrics(vid: str):
        values = {f"{i}.{m}": v for i, ms in metrics.get(vid, {}).items() for m, v in ms.items()}

        def answer(request) -> Response:
            query = parse_qs(request.query_string.decode())
            if "get" not in query:  # the ids the vertex offers
                recorded = flink.body("vertex-metrics")
                body = recorded + [{**recorded[0], "id": name} for name in values]
            else:
                wanted = query["get"][0].split(",")
                body = [entry(flink, w, value(w, values)) for w in wanted if w in values]
            return Response(json.dumps(body), content_type="application/json")

        return answer

    for vid in (source, sink):
        path = f"/jobs/{jid}/vertices/{vid}/metrics"
        httpserver.expect_request(path).respond_with_handler(vertex_metrics(vid))
    tm_values = tm_metrics or {}

    def tm_answer(request) -> Response:
        query = parse_qs(request.query_string.decode())
        if "get" not in query:
            body = tm_listing or [_tm_entry(flink, k, 0) for k in tm_values]
        else:
            wanted = query["get"][0].split(",")
            body = [_tm_entry(flink, w, value(w, tm_values)) for w in wanted if w in tm_values]
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(f"/taskmanagers/{ids['tmid']}/metrics").respond_with_handler(
        tm_answer
    )


def _tm_entry(flink, metric_id: str, value: float) -> dict:
    return {**flink.body("taskmanager-metrics-cpu")[0], "id": metric_id, "value": str(value)}


RECORDED_LOAD = {  # the demo job as recorded: the throttled source busy, the sink idle
    "source": {0: {BUSY: 1000, BP: 0, dr.RECORDS_OUT: 95}},
    "sink": {0: {BUSY: 9, BP: 0, dr.RECORDS_IN: 95}},
}


def _metrics(flink, load: dict) -> dict:
    source, sink = source_sink(flink)
    return {source: load["source"], sink: load["sink"]}


def test_a_healthy_job_has_no_finding_and_exits_0(flink, httpserver, cli):
    serve_job(flink, httpserver, _metrics(flink, RECORDED_LOAD),
              tm_metrics={dr.GC_TIME: 2, dr.HEAP_USED: 100, dr.HEAP_MAX: 1000})  # fmt: skip
    result = cli(
        "doctor", flink.ids["jobid"], "--sample", "0", "-o", "json", "--fail-on", "warning"
    )
    assert result.code == 0, result.err
    report = result.json()
    assert report["job"] == flink.ids["jobid"] and report["name"] == "flinkctl-demo"
    assert report["findings"] == [] and report["readings"] == 1
    assert set(report) == {"logged-at", "job", "name", "state", "sampled-ms", "readings",
                           "findings", "vertices"}  # fmt: skip
    source = next(v for v in report["vertices"] if v["id"] == flink.ids["sourcevertexid"])
    assert source["busy-max"] == 1.0 and source["records-out-per-second"] == 95
    assert result.err == ""


def test_a_bottleneck_is_exit_7_most_severe_first(flink, httpserver, cli):
    load = {
        "source": {0: {BUSY: 80, BP: 900, dr.RECORDS_OUT: 50}},
        "sink": {0: {BUSY: 950, BP: 0, dr.RECORDS_IN: 50}},
    }
    exceptions = copy.deepcopy(flink.body("job-exceptions-restarted"))
    for failure in exceptions["exceptionHistory"]["entries"]:  # an hour before
        failure["timestamp"] = aged(flink)["now"] - 3_600_000
    serve_job(flink, httpserver, _metrics(flink, load), exceptions=exceptions)
    result = cli("doctor", flink.ids["jobid"], "--sample", "0", "--fail-on", "warning")
    assert result.code == 7
    lines = result.out.splitlines()
    assert lines[0].split("\t") == ["SEVERITY", "RULE", "SUBJECT", "FINDING", "ADVICE"]
    rows = [line.split("\t") for line in lines[1:]]
    assert [(r[0], r[1]) for r in rows] == [
        ("warning", "backpressure"),
        ("info", "restarts"),
        ("info", "headroom"),
        ("info", "blind-spot"),  # the TaskManager reports no GC time here
    ]
    assert rows[0][2] == "vertex 'Count -> Drop -> Sink: Print'"
    assert result.err.startswith("error: 1 finding(s) at or above warning in flinkctl-demo")
    # the default --fail-on critical: the same findings are exit 0
    assert cli("doctor", flink.ids["jobid"], "--sample", "0").code == 0


def test_jsonl_is_one_finding_per_line(flink, httpserver, cli):
    load = {"source": {0: {BUSY: 80, BP: 900}}, "sink": {0: {BUSY: 950, BP: 0}}}
    serve_job(flink, httpserver, _metrics(flink, load),
              tm_metrics={dr.GC_TIME: 2, dr.HEAP_USED: 100, dr.HEAP_MAX: 1000})  # fmt: skip
    result = cli("doctor", "--all", "--sample", "0", "-o", "jsonl")
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert [line["rule"] for line in lines] == ["backpressure"]
    assert lines[0]["job"] == flink.ids["jobid"] and lines[0]["name"] == "flinkctl-demo"
    assert set(lines[0]) >= {"logged-at", "severity", "subject", "evidence", "summary", "advice"}


@pytest.mark.parametrize(
    ("sample", "slept_for", "readings"),
    [("30s", [10.0, 10.0, 10.0], 4), ("1s", [1.0], 2)],  # shorter than the refresh: its ends
)
def test_sampling_reads_until_the_window_ends(
    flink, httpserver, cli, monkeypatch, sample, slept_for, readings
):
    slept: list[float] = []
    monkeypatch.setattr(dr.time, "sleep", slept.append)
    serve_job(flink, httpserver, _metrics(flink, RECORDED_LOAD),
              tm_metrics={dr.GC_TIME: 2, dr.HEAP_USED: 100, dr.HEAP_MAX: 1000})  # fmt: skip
    result = cli("doctor", flink.ids["jobid"], "--sample", sample, "-o", "json")
    assert result.code == 0, result.err
    assert slept == slept_for and result.json()["readings"] == readings
    # the answers never changed: one distinct reading, said out loud
    (thin,) = result.json()["findings"]
    assert thin["rule"] == "blind-spot" and thin["evidence"]["distinct-readings"] == 1


@pytest.mark.parametrize(
    ("state", "exceptions", "code", "rule", "severity"),
    [
        ("FAILED", "job-failed-exceptions", 7, "restarts", "critical"),
        ("CANCELED", "job-exceptions", 0, "blind-spot", "info"),
    ],
)
def test_a_job_that_ends_during_the_sample_is_reported_as_it_ended(
    flink, httpserver, cli, monkeypatch, state, exceptions, code, rule, severity
):
    """RUNNING when doctor starts, FAILED (or CANCELED) when the sample ends: the report has
    the state at the end and judges it (FAILED: critical, with the cause of its exceptions)."""
    monkeypatch.setattr(dr.time, "sleep", lambda seconds: None)
    running = aged(flink)
    ended = {**running, "state": state, "timestamps": {**running["timestamps"],
                                                       state: running["now"]}}  # fmt: skip
    serve_job(flink, httpserver, _metrics(flink, RECORDED_LOAD), job=[running, ended],
              exceptions=flink.body(exceptions),
              tm_metrics={dr.GC_TIME: 2, dr.HEAP_USED: 100, dr.HEAP_MAX: 1000})  # fmt: skip
    result = cli("doctor", flink.ids["jobid"], "--sample", "10s", "-o", "json")
    assert result.code == code, result.err
    report = result.json()
    assert report["state"] == state and report["readings"] == 2
    (found,) = report["findings"]
    assert (found["rule"], found["severity"]) == (rule, severity)
    assert found["summary"].startswith("the job FAILED" if state == "FAILED" else "the job is")


GONE = "0123456789abcdef0123456789abcdef"  # the job of the recorded 404 (job-not-found)


def serve_with_a_job_gone(flink, httpserver) -> None:
    """The recorded job, and a second job listed beside it (a copy of its overview entry)
    whose GET /jobs/:jobid answers the recorded 404: it left the cluster since."""
    overview = copy.deepcopy(flink.body("jobs-overview"))
    overview["jobs"].insert(0, {**overview["jobs"][0], "jid": GONE, "name": "orders"})
    serve_job(flink, httpserver, _metrics(flink, RECORDED_LOAD), overview=overview,
              tm_metrics={dr.GC_TIME: 2, dr.HEAP_USED: 100, dr.HEAP_MAX: 1000})  # fmt: skip
    flink.serve(httpserver, "job-not-found")


def test_all_notes_a_job_gone_since_the_listing_and_diagnoses_the_others(flink, httpserver, cli):
    serve_with_a_job_gone(flink, httpserver)
    result = cli("doctor", "--all", "--sample", "0", "-o", "json")
    assert result.code == 0, result.err
    report, gone = sorted(result.json(), key=lambda item: "note" in item)
    assert report["job"] == flink.ids["jobid"] and report["findings"] == []
    assert gone["job"] == GONE and gone["name"] == "orders" and gone["note"] == dr.GONE
    assert set(gone) == {"logged-at", "job", "name", "note"}
    table = cli("doctor", "--all", "--sample", "0")
    assert table.code == 0 and table.out == "SEVERITY\tRULE\tSUBJECT\tFINDING\tADVICE\n"
    assert table.err == f"job orders ({GONE}): {dr.GONE}\n"
    lines = cli("doctor", "--all", "--sample", "0", "-o", "jsonl").out.splitlines()
    assert [json.loads(line)["job"] for line in lines] == [GONE]  # the note: a line of its own


def test_watch_jsonl_is_one_finding_per_line(flink, httpserver, cli, refreshes):
    load = {"source": {0: {BUSY: 80, BP: 900}}, "sink": {0: {BUSY: 950, BP: 0}}}
    serve_job(flink, httpserver, _metrics(flink, load),
              tm_metrics={dr.GC_TIME: 2, dr.HEAP_USED: 100, dr.HEAP_MAX: 1000})  # fmt: skip
    refreshes(2)
    result = cli("doctor", flink.ids["jobid"], "--sample", "0", "--watch", "1", "-o", "jsonl")
    assert (result.code, result.err) == (130, "")
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert [line["rule"] for line in lines] == ["backpressure", "backpressure"]  # 2 refreshes
    assert lines[0]["job"] == flink.ids["jobid"] and "findings" not in lines[0]


def test_custom_columns_are_a_row_per_finding(flink, httpserver, cli):
    load = {"source": {0: {BUSY: 80, BP: 900}}, "sink": {0: {BUSY: 950, BP: 0}}}
    serve_job(flink, httpserver, _metrics(flink, load),
              tm_metrics={dr.GC_TIME: 2, dr.HEAP_USED: 100, dr.HEAP_MAX: 1000})  # fmt: skip
    result = cli("doctor", flink.ids["jobid"], "--sample", "0",
                 "-o", "custom-columns=JOB:\"job-name\",RULE:rule,SEVERITY:severity")  # fmt: skip
    assert result.code == 0, result.err
    assert [line.split() for line in result.out.splitlines()] == [
        ["JOB", "RULE", "SEVERITY"],
        ["flinkctl-demo", "backpressure", "warning"],
    ]


def _asked(httpserver, path: str) -> list[list[str] | None]:
    """The `get` lists of the requests for PATH the server saw (None: no `get`, the ids)."""
    found = []
    for request, _ in httpserver.log:
        if request.path == path:
            query = parse_qs(request.query_string.decode())
            found.append(query["get"][0].split(",") if "get" in query else None)
    return found


def test_examine_reads_the_lag_and_the_collectors_gc_time_it_finds(flink, httpserver):
    """The source's lag metric ids and a 1.18 TaskManager's metric ids are listed once; each
    reading asks for the lag and the collectors' cumulative GC time beside the rest."""
    from flinkctl import Context, FlinkClient

    source, sink = source_sink(flink)
    load = {
        "source": {0: {BUSY: 950, BP: 0, PENDING: [1000, 5000, 9000]}},
        "sink": {0: {BUSY: 100, BP: 0}},
    }
    young = float(gc_118()[YOUNG])
    tm_metrics = {dr.HEAP_USED: 100, dr.HEAP_MAX: 1000, OLD: 0,
                  YOUNG: [young, young + 4000, young + 8000]}  # fmt: skip
    serve_job(flink, httpserver, _metrics(flink, load), tm_metrics=tm_metrics,
              tm_listing=FLINK_118.body("taskmanager-metrics"))  # fmt: skip
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with FlinkClient(Context("t", url=httpserver.url_for("").rstrip("/"))) as client:
        seen = dr.examine(client, flink.ids["jobid"], 20, sleep=sleep, clock=lambda: now[0])
    jid = flink.ids["jobid"]
    asked = _asked(httpserver, f"/jobs/{jid}/vertices/{source}/metrics")
    assert asked[0] is None and asked.count(None) == 1  # the ids, once
    assert [f"0.{PENDING}" in names for names in asked[1:]] == [True] * 3
    assert None not in _asked(httpserver, f"/jobs/{jid}/vertices/{sink}/metrics")  # no source
    tm_asked = _asked(httpserver, f"/taskmanagers/{flink.ids['tmid']}/metrics")
    assert tm_asked[0] is None and len(tm_asked) == 4
    assert all({OLD, YOUNG, dr.GC_TIME} <= set(names) for names in tm_asked[1:])
    assert seen.elapsed_ms == 20_000 and seen.readings == 3
    report = dr.diagnose(seen)
    by_rule = {f.rule: f for f in report.findings}
    assert set(by_rule) == {"source-lag", "taskmanager"}
    lag = by_rule["source-lag"]
    assert lag.severity == "warning" and lag.evidence["rise-per-second"] == 400
    assert by_rule["taskmanager"].evidence["gc-time-share"] == 0.4


def test_doctor_reports_source_lag(flink, httpserver, cli, monkeypatch):
    monkeypatch.setattr(dr.time, "sleep", lambda seconds: None)
    load = {
        "source": {0: {BUSY: 950, BP: 0, PENDING: [1000, 5000, 9000, 13000]}},
        "sink": {0: {BUSY: 100, BP: 0}},
    }
    serve_job(flink, httpserver, _metrics(flink, load),
              tm_metrics={dr.GC_TIME: 2, dr.HEAP_USED: 100, dr.HEAP_MAX: 1000})  # fmt: skip
    result = cli("doctor", flink.ids["jobid"], "--sample", "30s", "-o", "json",
                 "--fail-on", "warning")  # fmt: skip
    assert result.code == 7, result.err
    (found,) = result.json()["findings"]
    assert found["rule"] == "source-lag" and found["evidence"]["rise"] == 12_000
    assert found["evidence"]["metric"] == "pendingRecords"


def test_a_young_job_is_not_judged_by_its_rates(flink, httpserver, cli):
    job = copy.deepcopy(flink.body("job"))
    job["now"] = job["timestamps"]["RUNNING"] + 20_000
    load = {"source": {0: {BUSY: 80, BP: 900}}, "sink": {0: {BUSY: 950, BP: 0}}}
    serve_job(flink, httpserver, _metrics(flink, load), job=job)
    result = cli("doctor", flink.ids["jobid"], "--sample", "0", "-o", "json")
    rules = [f["rule"] for f in result.json()["findings"]]
    assert rules == ["blind-spot"]
    assert "too young" in result.json()["findings"][0]["summary"]


def test_a_job_that_is_not_running_is_not_called_young(flink, httpserver, cli):
    """A job RESTARTING for minutes (a crash loop) is not too young: it is not running."""
    job = copy.deepcopy(flink.body("job"))
    job["state"] = "RESTARTING"
    serve_job(flink, httpserver, _metrics(flink, RECORDED_LOAD), job=job)
    result = cli("doctor", flink.ids["jobid"], "--sample", "0", "-o", "json")
    (spot,) = [f for f in result.json()["findings"] if "young-threshold-ms" in f["evidence"]]
    assert spot["summary"].startswith("not judged by its rates while RESTARTING: ")
    assert "young" not in spot["summary"]


def test_usage_errors(cli):
    assert cli("doctor").code == 2
    assert "give the JOB to diagnose, or --all" in cli("doctor").err
    assert cli("doctor", "x", "--all").code == 2
    assert cli("doctor", "x", "--name", "y*").code == 2
    assert cli("doctor", "x", "--fail-on", "info").code == 2


def test_all_with_nothing_running_is_exit_3(flink, httpserver, cli):
    flink.expect(httpserver, "jobs-overview", body={"jobs": []})
    result = cli("doctor", "--all", "--sample", "0", "-o", "json")
    assert result.code == 3
    (item,) = result.json()
    assert item["note"] == "no job runs"


def test_on_a_terminal_the_vertex_summary_follows(flink, httpserver, cli, monkeypatch):
    monkeypatch.setenv("FLINKCTL_FORCE_TTY", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    load = {"source": {0: {BUSY: 80, BP: 900}}, "sink": {0: {BUSY: 950, BP: 0}}}
    serve_job(flink, httpserver, _metrics(flink, load),
              tm_metrics={dr.GC_TIME: 2, dr.HEAP_USED: 100, dr.HEAP_MAX: 1000})  # fmt: skip
    result = cli("doctor", flink.ids["jobid"], "--sample", "0")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["SEVERITY", "RULE", "SUBJECT", "FINDING"]
    assert lines[2].startswith("warning    backpressure   vertex 'Count -> Drop -> Sink: Print'")
    assert lines[4].startswith("vertex 'Count -> Drop -> Sink: Print': raise this vertex's")
    heading = next(i for i, line in enumerate(lines) if line.startswith("flinkctl-demo ("))
    assert "RUNNING, 1 reading(s)" in lines[heading]
    assert lines[heading + 1].split()[:3] == ["VERTEX", "PARALLELISM", "BUSY"]
    sink = next(line for line in lines[heading:] if line.startswith("Count -> Drop"))
    assert "95%" in sink


def test_all_contexts_tags_each_report_and_names_the_one_down(flink, httpserver, cli, monkeypatch):
    from flinkctl import Config, Context, load_config
    from flinkctl.local.ports import free_port

    monkeypatch.setenv("FLINKCTL_RETRY_BUDGET", "0")  # the context down: refused, not retried
    url = httpserver.url_for("").rstrip("/")
    down = f"http://127.0.0.1:{free_port()}"
    contexts = {"one": Context("one", url=url), "down": Context("down", url=down)}
    Config(load_config().path, contexts).save()
    load = {"source": {0: {BUSY: 80, BP: 900}}, "sink": {0: {BUSY: 950, BP: 0}}}
    serve_job(flink, httpserver, _metrics(flink, load),
              tm_metrics={dr.GC_TIME: 2, dr.HEAP_USED: 100, dr.HEAP_MAX: 1000})  # fmt: skip
    r = cli("doctor", "--all", "-A", "--sample", "0", "-o", "json", url="")
    assert r.code == 5  # the context down is the worst outcome
    report, failed = sorted(r.json(), key=lambda item: item["context"], reverse=True)
    assert report["context"] == "one" and report["findings"][0]["rule"] == "backpressure"
    assert failed["context"] == "down" and failed["error"]["code"] == 5
    r = cli("doctor", "--all", "-A", "--sample", "0", url="")
    assert [line.split("\t")[:3] for line in r.out.splitlines()[:2]] == [
        ["CONTEXT", "JOB", "SEVERITY"],
        ["one", "flinkctl-demo", "warning"],
    ]
    assert "error: context down: " in r.err
