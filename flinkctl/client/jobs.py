"""Job endpoints: overview, details, and the job-level read endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from flinkctl.client.base import Base, T, joined
from flinkctl.errors import FlinkctlError, NotFoundError, UnsupportedError
from flinkctl.flink import (
    ConfigEntry,
    JobDetails,
    JobExceptions,
    JobsOverview,
    JobStatus,
    Json,
    Metric,
)


class JobEndpoints(Base):
    """/jobs/..."""

    def jobs_overview(self) -> JobsOverview:
        """GET /jobs/overview."""
        return self._get(JobsOverview, "/jobs/overview")

    def job(self, job_id: str) -> JobDetails:
        """GET /jobs/:jobid."""
        return self._get(JobDetails, f"/jobs/{job_id}")

    def job_status(self, job_id: str) -> JobStatus:
        """GET /jobs/:jobid/status; `{"status": state}` from GET /jobs/:jobid where it's missing."""
        try:
            return self._get(JobStatus, f"/jobs/{job_id}/status")
        except (NotFoundError, UnsupportedError):  # Flink 1.15 has no /status
            return {"status": self.job(job_id)["state"]}

    def job_plan(self, job_id: str) -> Json:
        """GET /jobs/:jobid/plan."""
        return self._get(Json, f"/jobs/{job_id}/plan")

    def job_config(self, job_id: str) -> Json:
        """GET /jobs/:jobid/config."""
        return self._get(Json, f"/jobs/{job_id}/config")

    def job_jobmanager_config(self, job_id: str) -> list[ConfigEntry]:
        """GET /jobs/:jobid/jobmanager/config, once `job_status` has found the job: Flink answers
        the configuration for any id, a job it does not know too."""
        self.job_status(job_id)
        return self._get(list[ConfigEntry], f"/jobs/{job_id}/jobmanager/config")

    def job_exceptions(self, job_id: str, max_exceptions: int | None = None) -> JobExceptions:
        """GET /jobs/:jobid/exceptions[?maxExceptions=N]."""
        path = f"/jobs/{job_id}/exceptions"
        return self._get(JobExceptions, path, maxExceptions=max_exceptions)

    def jobs_exceptions(self, job_ids: Sequence[str]) -> dict[str, JobExceptions | None]:
        """GET /jobs/:jobid/exceptions of each job, concurrently; None where it failed."""

        def fetch(job_id: str) -> JobExceptions | None:
            try:
                return self.job_exceptions(job_id)
            except FlinkctlError:
                return None

        return dict(zip(job_ids, self.fan_out(fetch, job_ids), strict=True))

    def job_execution_result(self, job_id: str) -> Json:
        """GET /jobs/:jobid/execution-result: status IN_PROGRESS, or COMPLETED with the result."""
        return self._get(Json, f"/jobs/{job_id}/execution-result")

    def job_accumulators(self, job_id: str, include_serialized: bool = False) -> Json:
        """GET /jobs/:jobid/accumulators[?includeSerializedValue=true]."""
        flag = "true" if include_serialized else None
        return self._get(Json, f"/jobs/{job_id}/accumulators", includeSerializedValue=flag)

    def job_metrics(self, job_id: str, get: Sequence[str] | None = None) -> list[Metric]:
        """GET /jobs/:jobid/metrics[?get=...]."""
        return self._metrics(f"/jobs/{job_id}/metrics", get)

    def jobs_metrics(
        self,
        get: Sequence[str] | None = None,
        agg: Sequence[str] | None = None,
        jobs: Sequence[str] | None = None,
    ) -> list[Metric]:
        """GET /jobs/metrics[?get=...&agg=...&jobs=...]: aggregated over jobs (all, or JOBS)."""
        return self._metrics("/jobs/metrics", get, agg=joined(agg), jobs=joined(jobs))

    def job_rescales(self, job_id: str, what: str = "overview") -> Json | list[Json]:
        """GET /jobs/:jobid/rescales/WHAT: overview, history (an array), summary or config
        (Flink 2.3+)."""
        if what == "history":
            return self._rescales(list[Json], job_id, what)
        return self._rescales(Json, job_id, what)

    def job_rescale(self, job_id: str, rescale_id: str) -> Json:
        """GET /jobs/:jobid/rescales/details/:rescaleuuid (Flink 2.3+)."""
        return self._rescales(Json, job_id, f"details/{quote(rescale_id, safe='')}")

    def _rescales(self, shape: type[T], job_id: str, sub: str) -> T:
        """A rescales endpoint; a job without a rescale history is UnsupportedError."""
        self.require("2.3", "rescale history")
        try:
            return self._get(shape, f"/jobs/{job_id}/rescales/{sub}")
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

    def job_log_url(self, job_id: str, tm_id: str | None = None) -> Json:
        """GET /jobs/:jobid/jobmanager/log-url, or /jobs/:jobid/taskmanagers/:tmid/log-url."""
        if tm_id:
            return self._get(Json, f"/jobs/{job_id}/taskmanagers/{quote(tm_id, safe='')}/log-url")
        return self._get(Json, f"/jobs/{job_id}/jobmanager/log-url")
