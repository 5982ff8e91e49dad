"""Checkpoint statistics, configuration and triggering under /jobs/:jobid/checkpoints..."""

from __future__ import annotations

from flinkctl.client.base import Base
from flinkctl.errors import NotFoundError, UsageError

LATEST = "latest"


def checkpoint_id(stats: dict | None, value: str) -> int:
    """A checkpoint id from VALUE: a number, or `latest`, the newest checkpoint in STATS.

    STATS is the body of GET /jobs/:jobid/checkpoints, needed only for `latest` (which means
    the newest checkpoint of any status in the history, falling back to the latest
    completed one). A malformed VALUE is a UsageError; `latest` with no checkpoint NotFound.
    """
    if value.isdigit():
        return int(value)
    if value.lower() != LATEST:
        raise UsageError(f"checkpoint {value!r} is neither a checkpoint id nor {LATEST!r}")
    if stats is None:
        raise UsageError(f"checkpoint {LATEST!r} needs the job's checkpoint statistics")
    ids = [c["id"] for c in stats.get("history") or [] if isinstance(c.get("id"), int)]
    completed = ((stats.get("latest") or {}).get("completed") or {}).get("id")
    if completed is not None:
        ids.append(completed)
    if not ids:
        raise NotFoundError("the job has no checkpoint yet")
    return max(ids)


class CheckpointEndpoints(Base):
    """Checkpoint statistics, configuration and triggering under /jobs/:jobid/checkpoints..."""

    def checkpoint_stats(self, job_id: str) -> dict:
        """GET /jobs/:jobid/checkpoints (counts, summary, latest and history)."""
        return self.get(f"/jobs/{job_id}/checkpoints")

    def checkpoint_config(self, job_id: str) -> dict:
        """GET /jobs/:jobid/checkpoints/config."""
        return self.get(f"/jobs/{job_id}/checkpoints/config")

    def checkpoint(self, job_id: str, checkpoint: int) -> dict:
        """GET /jobs/:jobid/checkpoints/details/:checkpointid (with per-vertex statistics)."""
        return self.get(f"/jobs/{job_id}/checkpoints/details/{checkpoint}")

    def checkpoint_vertex(self, job_id: str, checkpoint: int, vertex_id: str) -> dict:
        """GET /jobs/:jobid/checkpoints/details/:checkpointid/subtasks/:vertexid."""
        return self.get(f"/jobs/{job_id}/checkpoints/details/{checkpoint}/subtasks/{vertex_id}")

    def trigger_checkpoint(
        self, job_id: str, trigger_id: str, checkpoint_type: str | None = None
    ) -> dict:
        """POST /jobs/:jobid/checkpoints (Flink 1.17+); poll with checkpoint_trigger_status."""
        self.require("1.17", "triggering a checkpoint")
        body: dict = {"triggerId": trigger_id}
        if checkpoint_type:
            body["checkpointType"] = checkpoint_type
        return self.http.request("POST", f"/jobs/{job_id}/checkpoints", json=body, retry=False)

    def checkpoint_trigger_status(self, job_id: str, trigger_id: str) -> dict:
        """GET /jobs/:jobid/checkpoints/:triggerid."""
        return self.get(f"/jobs/{job_id}/checkpoints/{trigger_id}")
