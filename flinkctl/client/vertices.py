"""Vertex, subtask and per-vertex endpoints under /jobs/:jobid/vertices/..."""

from __future__ import annotations

from flinkctl.client.base import Base


class VertexEndpoints(Base):
    """Vertex, subtask and per-vertex endpoints under /jobs/:jobid/vertices/..."""
