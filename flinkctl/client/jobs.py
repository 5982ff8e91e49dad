"""Job endpoints: overview, details, and the job-level read endpoints."""

from __future__ import annotations

from flinkctl.client.base import Base


class JobEndpoints(Base):
    """/jobs/..."""

    def jobs_overview(self) -> dict:
        """GET /jobs/overview."""
        return self.get("/jobs/overview")

    def job(self, job_id: str) -> dict:
        """GET /jobs/:jobid."""
        return self.get(f"/jobs/{job_id}")
