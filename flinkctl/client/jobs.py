"""Job endpoints: overview, details, and the job-level read endpoints."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flinkctl.client.base import Base
from flinkctl.errors import NotFoundError, UnsupportedError

LOAD_METRICS = ["busyTimeMsPerSecond", "backPressuredTimeMsPerSecond"]


class JobEndpoints(Base):
    """/jobs/..."""

    def jobs_overview(self) -> dict:
        """GET /jobs/overview."""
        return self.get("/jobs/overview")

    def job(self, job_id: str) -> dict:
        """GET /jobs/:jobid."""
        return self.get(f"/jobs/{job_id}")

    def job_status(self, job_id: str) -> dict:
        """GET /jobs/:jobid/status; `{"status": state}` from GET /jobs/:jobid where it's missing."""
        try:
            return self.get(f"/jobs/{job_id}/status")
        except NotFoundError:
            return {"status": self.job(job_id)["state"]}

    def job_plan(self, job_id: str) -> dict:
        """GET /jobs/:jobid/plan."""
        return self.get(f"/jobs/{job_id}/plan")

    def job_config(self, job_id: str) -> dict:
        """GET /jobs/:jobid/config."""
        return self.get(f"/jobs/{job_id}/config")

    def job_jobmanager_config(self, job_id: str) -> list[dict]:
        """GET /jobs/:jobid/jobmanager/config."""
        return self.get(f"/jobs/{job_id}/jobmanager/config")

    def job_exceptions(self, job_id: str, max_exceptions: int | None = None) -> dict:
        """GET /jobs/:jobid/exceptions[?maxExceptions=N]."""
        return self.get(f"/jobs/{job_id}/exceptions", maxExceptions=max_exceptions)

    def job_execution_result(self, job_id: str) -> dict:
        """GET /jobs/:jobid/execution-result: status IN_PROGRESS, or COMPLETED with the result."""
        return self.get(f"/jobs/{job_id}/execution-result")

    def job_accumulators(self, job_id: str, include_serialized: bool = False) -> dict:
        """GET /jobs/:jobid/accumulators[?includeSerializedValue=true]."""
        flag = "true" if include_serialized else None
        return self.get(f"/jobs/{job_id}/accumulators", includeSerializedValue=flag)

    def job_rescales(self, job_id: str, what: str = "overview") -> Any:
        """GET /jobs/:jobid/rescales/WHAT: overview, history, summary or config (Flink 2.3+)."""
        return self._rescales(job_id, what)

    def job_rescale(self, job_id: str, rescale_id: str) -> dict:
        """GET /jobs/:jobid/rescales/details/:rescaleuuid (Flink 2.3+)."""
        return self._rescales(job_id, f"details/{quote(rescale_id, safe='')}")

    def _rescales(self, job_id: str, sub: str) -> Any:
        """A rescales endpoint; a job without a rescale history is UnsupportedError."""
        self.require("2.3", "rescale history")
        try:
            return self.get(f"/jobs/{job_id}/rescales/{sub}")
        except NotFoundError as exc:
            if not any("Adaptive" in m for m in exc.flink):
                raise
            raise UnsupportedError(
                f"job {job_id} has no rescale history: it does not run the adaptive scheduler "
                "with a rescale history",
                hint="set jobmanager.scheduler: adaptive and "
                "web.adaptive-scheduler.rescale-history.size > 0 on the cluster",
                status=exc.status,
                flink=exc.flink,
            ) from exc

    def job_log_url(self, job_id: str, tm_id: str | None = None) -> dict:
        """GET /jobs/:jobid/jobmanager/log-url, or /jobs/:jobid/taskmanagers/:tmid/log-url."""
        if tm_id:
            return self.get(f"/jobs/{job_id}/taskmanagers/{quote(tm_id, safe='')}/log-url")
        return self.get(f"/jobs/{job_id}/jobmanager/log-url")

    def vertex_loads(self, job: dict) -> dict[str, dict[str, float | None]]:
        """Busy and backpressured ratios (max over subtasks, 0..1) per vertex id of JOB's details.

        One GET .../vertices/:vertexid/subtasks/metrics per vertex, issued concurrently; a
        ratio the version or the vertex does not report is None.
        """
        job_id = job["jid"]

        def load(vertex: dict) -> dict[str, float | None]:
            path = f"/jobs/{job_id}/vertices/{vertex['id']}/subtasks/metrics"
            got = {m["id"]: m.get("max") for m in self.metrics(path, get=LOAD_METRICS, agg=["max"])}
            per_second = [got.get(name) for name in LOAD_METRICS]
            busy, backpressured = (_ratio(ms) for ms in per_second)
            return {"busy": busy, "backpressured": backpressured}

        vertices = job.get("vertices") or []
        return dict(zip((v["id"] for v in vertices), self.fan_out(load, vertices), strict=True))


def _ratio(ms_per_second: Any) -> float | None:
    """Milliseconds per second -> 0..1; None when not reported."""
    return ms_per_second / 1000 if isinstance(ms_per_second, (int, float)) else None
