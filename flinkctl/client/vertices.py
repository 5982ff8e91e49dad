"""Vertex, subtask and per-vertex endpoints under /jobs/:jobid/vertices/..."""

from __future__ import annotations

from flinkctl.client.base import Base
from flinkctl.client.poller import Poller
from flinkctl.errors import OperationFailed, UnsupportedError, WaitTimeout

FLAMEGRAPH_TYPES = ("on_cpu", "off_cpu", "full")
# VertexFlameGraph's endTimestamp markers (the body has no data then)
FLAMEGRAPH_TERMINATED, FLAMEGRAPH_DISABLED, FLAMEGRAPH_WAITING = -1, -2, -3


def vertex_path(job_id: str, vertex_id: str) -> str:
    """/jobs/JOB/vertices/VERTEX: the prefix of every per-vertex endpoint."""
    return f"/jobs/{job_id}/vertices/{vertex_id}"


def subtask_path(job_id: str, vertex_id: str, index: int) -> str:
    """/jobs/JOB/vertices/VERTEX/subtasks/INDEX."""
    return f"{vertex_path(job_id, vertex_id)}/subtasks/{index}"


def backpressure_sampling(body: dict) -> bool:
    """Whether a backpressure body says sampling has not produced a result yet."""
    return body.get("status") == "deprecated"


class VertexEndpoints(Base):
    """Vertex, subtask and per-vertex endpoints under /jobs/:jobid/vertices/..."""

    def vertex(self, job_id: str, vertex_id: str) -> dict:
        """GET /jobs/:jobid/vertices/:vertexid (the vertex with one row per subtask)."""
        return self.get(vertex_path(job_id, vertex_id))

    def backpressure(self, job_id: str, vertex_id: str, wait: float = 0.0) -> dict:
        """GET .../backpressure; while Flink is still sampling (status "deprecated"),
        ask again for up to WAIT seconds. The last body is returned either way."""
        path = f"{vertex_path(job_id, vertex_id)}/backpressure"
        return Poller.within(wait).last(
            lambda: self.get(path), lambda b: not backpressure_sampling(b)
        )

    def vertex_accumulators(self, job_id: str, vertex_id: str) -> dict:
        """GET .../accumulators (user accumulators aggregated over the subtasks)."""
        return self.get(f"{vertex_path(job_id, vertex_id)}/accumulators")

    def subtasks_accumulators(self, job_id: str, vertex_id: str) -> dict:
        """GET .../subtasks/accumulators (user accumulators of every subtask)."""
        return self.get(f"{vertex_path(job_id, vertex_id)}/subtasks/accumulators")

    def subtask_times(self, job_id: str, vertex_id: str) -> dict:
        """GET .../subtasktimes (when each subtask entered each state)."""
        return self.get(f"{vertex_path(job_id, vertex_id)}/subtasktimes")

    def vertex_taskmanagers(self, job_id: str, vertex_id: str) -> dict:
        """GET .../taskmanagers (the vertex's subtasks aggregated per task manager)."""
        return self.get(f"{vertex_path(job_id, vertex_id)}/taskmanagers")

    def watermarks(self, job_id: str, vertex_id: str) -> list[dict]:
        """GET .../watermarks (each subtask's current input watermark)."""
        return self.get(f"{vertex_path(job_id, vertex_id)}/watermarks")

    def jm_operator_metrics_path(self, job_id: str, vertex_id: str) -> str:
        """The path of .../jm-operator-metrics, after checking the cluster has it (1.20+)."""
        self.require("1.20", "jm-operator-metrics")
        return f"{vertex_path(job_id, vertex_id)}/jm-operator-metrics"

    def flamegraph(
        self,
        job_id: str,
        vertex_id: str,
        kind: str = "on_cpu",
        subtask: int | None = None,
        wait: float = 0.0,
    ) -> dict:
        """GET .../flamegraph?type=KIND[&subtaskindex=N]; while Flink is still sampling,
        ask again for up to WAIT seconds. Raises when flame graphs are disabled, the
        vertex no longer runs, or sampling outlasts WAIT."""
        path = f"{vertex_path(job_id, vertex_id)}/flamegraph"

        def fetch() -> dict:
            return self.get(path, type=kind.upper(), subtaskindex=subtask)

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

    def subtask(self, job_id: str, vertex_id: str, index: int, attempt: int | None = None) -> dict:
        """GET .../subtasks/:index (current attempt) or .../subtasks/:index/attempts/:attempt."""
        path = subtask_path(job_id, vertex_id, index)
        return self.get(path if attempt is None else f"{path}/attempts/{attempt}")

    def subtask_accumulators(self, job_id: str, vertex_id: str, index: int, attempt: int) -> dict:
        """GET .../subtasks/:index/attempts/:attempt/accumulators."""
        return self.get(f"{subtask_path(job_id, vertex_id, index)}/attempts/{attempt}/accumulators")
