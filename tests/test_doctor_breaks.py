"""`flinkctl doctor`'s rules on inputs a real cluster can send and tests/test_doctor.py does not:
each test a reproduction of a misleading finding, over recorded bodies (mutated) as there.

- a subtask whose input reached the end (Flink's MAX_WATERMARK, Long.MAX_VALUE: a finished
  split or bounded input) makes its siblings "lag by 106751970373d";
- an exception history at its size limit (web.exception-history-size, 16 by default) is read as
  the count of recent restarts;
- metric values out of their range (Infinity, negative, a busy time over 1000 ms/s) are judged
  as loads ("backpressured inf%") and reach -o json as `Infinity`, which is not JSON;
- the slow-checkpoint summary names its dominant phase twice ("mostly start-delay start-delay").
"""

from __future__ import annotations

import copy
import json

import pytest

from flinkctl.workflows import doctor as dr

BUSY, BP = dr.BUSY, dr.BACKPRESSURED
MAX_WATERMARK = 2**63 - 1  # Long.MAX_VALUE: Watermark.MAX_WATERMARK, the end of the input


def vertices(flink, parallelism: int = 1) -> list[dr.VertexReadings]:
    """The recorded job's vertices (source first, then the sink), at PARALLELISM."""
    return [dr.VertexReadings.of({**v, "parallelism": parallelism})
            for v in flink.body("job")["vertices"]]  # fmt: skip


def metrics(flink, per_subtask: dict[int, dict[str, object]]) -> dict:
    """One reading, parsed from a body of recorded entries with these ids and values."""
    template = flink.body("vertex-metrics-records")[0]
    body = [{**template, "id": f"{i}.{name}", "value": value}
            for i, values in per_subtask.items() for name, value in values.items()]  # fmt: skip
    return dr.per_subtask(body)


def marks(flink, values: dict[int, int]) -> dict:
    mark = flink.body("vertex-watermarks")[0]
    return dr.per_subtask([{**mark, "id": f"{i}.currentInputWatermark", "value": str(v)}
                           for i, v in values.items()])  # fmt: skip


def strict(data) -> str:
    """DATA as JSON, refusing NaN and Infinity (not JSON: jq and JSON.parse reject them)."""
    return json.dumps(data, allow_nan=False)


# -- watermarks -------------------------------------------------------------------------------


def test_a_subtask_at_the_end_of_its_input_does_not_make_its_siblings_lag(flink):
    """Subtask 0's input is finished (MAX_WATERMARK), subtask 1's advances in real time.

    Seen: "subtask 1 ...: input watermark lags the vertex's newest by 106751970373d23h"."""
    (vertex,) = vertices(flink, 2)[1:]
    t = int(flink.body("vertex-watermarks")[0]["value"])
    vertex.watermarks = [marks(flink, {0: MAX_WATERMARK, 1: t}),
                         marks(flink, {0: MAX_WATERMARK, 1: t + 10_000})]  # fmt: skip
    found = dr.watermarks([vertex])
    assert not found, [f.summary for f in found]


def test_the_end_of_the_input_is_no_watermark_lag_of_the_vertex(flink):
    """Every subtask at MAX_WATERMARK: the vertex's watermark lag is not negative."""
    (vertex,) = vertices(flink, 2)[1:]
    vertex.watermarks = [marks(flink, {0: MAX_WATERMARK, 1: MAX_WATERMARK})]
    t = int(flink.body("vertex-watermarks")[0]["value"])
    lag = dr.load(vertex, now_ms=t).watermark_lag_ms
    assert lag is None or lag >= 0, lag


# -- restarts ---------------------------------------------------------------------------------


def test_a_full_exception_history_is_not_the_count_of_recent_restarts(flink):
    """A crash loop restarting every 6 s for 15 minutes: numRestarts 150, and Flink keeps the
    newest 16 failures (web.exception-history-size), all within the last 10 minutes.

    Seen: "150 restart(s) since the start, 16 in the last 10m00s": some 100 restarted in the
    last 10 minutes, and the history, being full, cannot say how many."""
    exceptions = copy.deepcopy(flink.body("deploy-exceptions-restarting"))
    entries = exceptions["exceptionHistory"]["entries"]
    at = entries[0]["timestamp"]
    entries[:] = [{**entries[0], "timestamp": at - n * 6000} for n in range(16)]
    (found,) = dr.restarts("RUNNING", exceptions, 150, at + 1000)
    assert found.severity == "critical"
    assert ", 16 in the last 10m00s" not in found.summary, found.summary  # as if exactly 16


# -- metric values out of range ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["Infinity", "1e400", "-Infinity", "-5000", "99999"])
def test_a_metric_out_of_its_range_is_not_judged(flink, value):
    """Busy and backpressured time are ms per second (0..1000) and rates are not negative.

    Seen with "Infinity": two warnings "backpressured inf% (> 50%)"; with "99999":
    "backpressured 10000%"; with "-5000": busy -500% taken as a load."""
    source, sink = vertices(flink)
    reading = {0: {BUSY: value, BP: value, dr.RECORDS_IN: value, dr.RECORDS_OUT: value}}
    source.metrics.append(metrics(flink, reading))
    sink.metrics.append(metrics(flink, reading))
    loads = [dr.load(source), dr.load(sink)]
    for load in loads:
        for share in (load.busy_max, load.busy_avg, load.backpressured_max):
            assert share is None or 0 <= share <= 1, (value, share)
        for rate in (load.total("records_in"), load.total("records_out")):
            assert rate is None or 0 <= rate < float("inf"), (value, rate)
    found = dr.backpressure_roots(loads, flink.body("job-plan"))
    assert not found, [f.summary for f in found]


def test_the_report_of_an_infinite_metric_is_json(flink):
    """Report.to_json() is what -o json prints. Seen: `"busy-max": Infinity` in the output."""
    seen = dr.Observed(job=flink.body("job"), plan=flink.body("job-plan"),
                       vertices=vertices(flink), readings=1)  # fmt: skip
    for vertex in seen.vertices:
        vertex.metrics.append(metrics(flink, {0: {BUSY: "Infinity", BP: "0",
                                                  dr.RECORDS_IN: "Infinity"}}))  # fmt: skip
    seen.taskmanagers = {"tm-1": [{dr.GC_TIME: float("inf"), dr.HEAP_USED: 1.0,
                                   dr.HEAP_MAX: float("inf")}]}  # fmt: skip
    report = dr.diagnose(seen).to_json()
    strict(report)


# -- wording ----------------------------------------------------------------------------------


def test_the_slow_checkpoint_summary_names_its_dominant_phase_once(flink):
    """Seen: "checkpoint 4 took 1m06s (>= 1.5s); slowest subtask 1m06s, mostly start-delay
    start-delay 1m06s, alignment 0ms, sync 0ms, async 0ms"."""
    checkpoint = {**flink.body("checkpoint"), "end_to_end_duration": 66_000}
    details = copy.deepcopy(flink.body("checkpoint-vertex"))
    details["subtasks"][0].update(end_to_end_duration=66_000, start_delay=66_000)
    sink = vertices(flink)[1]
    (slow,) = dr.slow_checkpoint(flink.body("checkpoints-config"), checkpoint,
                                 {sink.id: details}, {sink.id: sink.name})  # fmt: skip
    assert slow.evidence["dominant-phase"] == "start-delay"
    assert "start-delay start-delay" not in slow.summary, slow.summary
