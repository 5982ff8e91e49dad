"""Checkpoint statistics, configuration and triggering under /jobs/:jobid/checkpoints..."""

from __future__ import annotations

from functools import partial

from flinkctl.client.base import Base
from flinkctl.flink import CheckpointStats, Json, OperationStatus, Triggered


class CheckpointEndpoints(Base):
    """Checkpoint statistics, configuration and triggering under /jobs/:jobid/checkpoints..."""

    def checkpoint_stats(self, job_id: str) -> CheckpointStats:
        """GET /jobs/:jobid/checkpoints (counts, summary, latest and history)."""
        return self._get(CheckpointStats, f"/jobs/{job_id}/checkpoints")

    def checkpoint_config(self, job_id: str) -> Json:
        """GET /jobs/:jobid/checkpoints/config."""
        return self._get(Json, f"/jobs/{job_id}/checkpoints/config")

    def checkpoint(self, job_id: str, checkpoint: int) -> Json:
        """GET /jobs/:jobid/checkpoints/details/:checkpointid (with per-vertex statistics)."""
        return self._get(Json, f"/jobs/{job_id}/checkpoints/details/{checkpoint}")

    def checkpoint_vertex(self, job_id: str, checkpoint: int, vertex_id: str) -> Json:
        """GET /jobs/:jobid/checkpoints/details/:checkpointid/subtasks/:vertexid."""
        path = f"/jobs/{job_id}/checkpoints/details/{checkpoint}/subtasks/{vertex_id}"
        return self._get(Json, path)

    def trigger_checkpoint(
        self, job_id: str, trigger_id: str, checkpoint_type: str | None = None
    ) -> Triggered:
        """POST /jobs/:jobid/checkpoints (Flink 1.17+); poll with checkpoint_trigger_status.
        Retried safely: it carries its own triggerId."""
        self.require("1.17", "triggering a checkpoint")
        body: Json = {"triggerId": trigger_id}
        if checkpoint_type:
            body["checkpointType"] = checkpoint_type
        status = partial(self.checkpoint_trigger_status, job_id)
        return self._trigger(f"/jobs/{job_id}/checkpoints", body, status)

    def checkpoint_trigger_status(self, job_id: str, trigger_id: str) -> OperationStatus:
        """GET /jobs/:jobid/checkpoints/:triggerid."""
        return self._get(OperationStatus, f"/jobs/{job_id}/checkpoints/{trigger_id}")
