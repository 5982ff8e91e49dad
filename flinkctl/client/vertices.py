"""Vertex, subtask and per-vertex endpoints under /jobs/:jobid/vertices/..."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from flinkctl.client.base import Base, joined
from flinkctl.client.poller import Poller
from flinkctl.errors import OperationFailed, UnexpectedAnswer, UnsupportedError, WaitTimeout
from flinkctl.flink import JobDetails, Json, Metric, VertexDetails, number, objects

# the per-subtask ratios of a vertex's load, in milliseconds per second
LOAD_METRICS = ["busyTimeMsPerSecond", "backPressuredTimeMsPerSecond"]

FLAMEGRAPH_TYPES = ("on_cpu", "off_cpu", "full")
# VertexFlameGraph's endTimestamp markers (the body has no data then)
FLAMEGRAPH_TERMINATED, FLAMEGRAPH_DISABLED, FLAMEGRAPH_WAITING = -1, -2, -3


def vertex_path(job_id: str, vertex_id: str) -> str:
    """/jobs/JOB/vertices/VERTEX: the prefix of every per-vertex endpoint."""
    return f"/jobs/{job_id}/vertices/{quote(vertex_id, safe='')}"


def subtask_path(job_id: str, vertex_id: str, index: int) -> str:
    """/jobs/JOB/vertices/VERTEX/subtasks/INDEX."""
    return f"{vertex_path(job_id, vertex_id)}/subtasks/{index}"


def backpressure_sampling(body: Json) -> bool:
    """Whether a backpressure body says sampling has not produced a result yet."""
    return body.get("status") == "deprecated"


class VertexEndpoints(Base):
    """Vertex, subtask and per-vertex endpoints under /jobs/:jobid/vertices/..."""

    def vertex(self, job_id: str, vertex_id: str) -> VertexDetails:
        """GET /jobs/:jobid/vertices/:vertexid (the vertex with one row per subtask)."""
        return self._get(VertexDetails, vertex_path(job_id, vertex_id))

    def backpressure(self, job_id: str, vertex_id: str, wait: float = 0.0) -> Json:
        """GET .../backpressure; while Flink is still sampling (status "deprecated"),
        ask again for up to WAIT seconds. The last body is returned either way."""
        path = f"{vertex_path(job_id, vertex_id)}/backpressure"
        return Poller.within(wait).last(
            lambda: self._get(Json, path), lambda b: not backpressure_sampling(b)
        )

    def vertex_accumulators(self, job_id: str, vertex_id: str) -> Json:
        """GET .../accumulators (user accumulators aggregated over the subtasks)."""
        return self._get(Json, f"{vertex_path(job_id, vertex_id)}/accumulators")

    def subtasks_accumulators(self, job_id: str, vertex_id: str) -> Json:
        """GET .../subtasks/accumulators (user accumulators of every subtask)."""
        return self._get(Json, f"{vertex_path(job_id, vertex_id)}/subtasks/accumulators")

    def subtask_times(self, job_id: str, vertex_id: str) -> Json:
        """GET .../subtasktimes (when each subtask entered each state)."""
        return self._get(Json, f"{vertex_path(job_id, vertex_id)}/subtasktimes")

    def vertex_taskmanagers(self, job_id: str, vertex_id: str) -> Json:
        """GET .../taskmanagers (the vertex's subtasks aggregated per task manager)."""
        return self._get(Json, f"{vertex_path(job_id, vertex_id)}/taskmanagers")

    def watermarks(self, job_id: str, vertex_id: str) -> list[Metric]:
        """GET .../watermarks (each subtask's current input watermark, as metrics)."""
        return self._get(list[Metric], f"{vertex_path(job_id, vertex_id)}/watermarks")

    def vertex_metrics(
        self, job_id: str, vertex_id: str, get: Sequence[str] | None = None
    ) -> list[Metric]:
        """GET .../metrics[?get=...]: ids are prefixed with the subtask index (0.numRecordsIn)."""
        return self._metrics(f"{vertex_path(job_id, vertex_id)}/metrics", get)

    def subtasks_metrics(
        self,
        job_id: str,
        vertex_id: str,
        get: Sequence[str] | None = None,
        agg: Sequence[str] | None = None,
        subtasks: str | None = None,
    ) -> list[Metric]:
        """GET .../subtasks/metrics[?get=...&agg=...&subtasks=...]: aggregated over subtasks
        (all, or SUBTASKS such as '0,2' or '0-3')."""
        path = f"{vertex_path(job_id, vertex_id)}/subtasks/metrics"
        return self._metrics(path, get, agg=joined(agg), subtasks=subtasks or None)

    def subtask_metrics(
        self, job_id: str, vertex_id: str, index: int, get: Sequence[str] | None = None
    ) -> list[Metric]:
        """GET .../subtasks/:subtaskindex/metrics[?get=...]."""
        return self._metrics(f"{subtask_path(job_id, vertex_id, index)}/metrics", get)

    def jm_operator_metrics(
        self, job_id: str, vertex_id: str, get: Sequence[str] | None = None
    ) -> list[Metric]:
        """GET .../jm-operator-metrics[?get=...] (Flink 1.20+): the operator coordinators'."""
        self.require("1.20", "jm-operator-metrics")
        return self._metrics(f"{vertex_path(job_id, vertex_id)}/jm-operator-metrics", get)

    def vertex_loads(self, job_id: str, job: JobDetails) -> dict[str, dict[str, float | None]]:
        """Busy and backpressured ratios (max over subtasks, 0..1) per vertex id of job
        JOB_ID's details JOB.

        One GET .../vertices/:vertexid/subtasks/metrics per vertex, issued concurrently; a
        ratio the version or the vertex does not report is None.
        """

        def load(vertex_id: str) -> dict[str, float | None]:
            metrics = self.subtasks_metrics(job_id, vertex_id, get=LOAD_METRICS, agg=["max"])
            got = {str(m.get("id")): m.get("max") for m in objects(metrics)}
            busy, backpressured = (_ratio(got.get(name)) for name in LOAD_METRICS)
            return {"busy": busy, "backpressured": backpressured}

        found = (v.get("id") for v in objects(job.get("vertices")))
        ids = list(dict.fromkeys(i for i in found if isinstance(i, str)))
        return dict(zip(ids, self.fan_out(load, ids), strict=True))

    def flamegraph(
        self,
        job_id: str,
        vertex_id: str,
        kind: str = "on_cpu",
        subtask: int | None = None,
        wait: float = 0.0,
    ) -> Json:
        """GET .../flamegraph?type=KIND[&subtaskindex=N]; while Flink is still sampling,
        ask again for up to WAIT seconds. Raises when flame graphs are disabled, the
        vertex no longer runs, or sampling outlasts WAIT."""
        path = f"{vertex_path(job_id, vertex_id)}/flamegraph"

        def fetch() -> Json:
            return self._get(Json, path, type=kind.upper(), subtaskindex=subtask)

        body = Poller.within(wait).last(
            fetch, lambda b: b.get("endTimestamp") != FLAMEGRAPH_WAITING
        )
        marker = body.get("endTimestamp")
        if marker == FLAMEGRAPH_DISABLED:
            raise UnsupportedError(
                "flame graphs are disabled on this cluster",
                hint="set rest.flamegraph.enabled: true in the cluster's configuration",
            )
        if marker == FLAMEGRAPH_TERMINATED:
            raise OperationFailed(f"vertex {vertex_id} is not running; nothing to sample")
        if marker == FLAMEGRAPH_WAITING:
            raise WaitTimeout(
                f"flame graph sampling did not finish within {wait:.0f}s",
                hint="run the command again (the JobManager keeps sampling) or raise --timeout",
            )
        return body

    def subtask(self, job_id: str, vertex_id: str, index: int, attempt: int | None = None) -> Json:
        """GET .../subtasks/:index (current attempt) or .../subtasks/:index/attempts/:attempt."""
        path = subtask_path(job_id, vertex_id, index)
        return self._get(Json, path if attempt is None else f"{path}/attempts/{attempt}")

    def subtask_accumulators(
        self, job_id: str, vertex_id: str, index: int, attempt: int | None = None
    ) -> Json:
        """GET .../subtasks/:index/attempts/:attempt/accumulators (by default of the current
        attempt, from GET .../subtasks/:index)."""
        path = subtask_path(job_id, vertex_id, index)
        if attempt is None:
            current = self.subtask(job_id, vertex_id, index).get("attempt")
            if isinstance(current, bool) or not isinstance(current, int):
                raise UnexpectedAnswer("GET", path, f"no 'attempt' number: {current!r}")
            attempt = current
        return self._get(Json, f"{path}/attempts/{attempt}/accumulators")


def _ratio(ms_per_second: object) -> float | None:
    """Milliseconds per second -> 0..1; None when not reported."""
    value = number(ms_per_second)
    return None if value is None else value / 1000
