"""Checkpoint statistics, configuration and triggering under /jobs/:jobid/checkpoints..."""

from __future__ import annotations

from flinkctl.client.base import Base


class CheckpointEndpoints(Base):
    """Checkpoint statistics, configuration and triggering under /jobs/:jobid/checkpoints..."""
