"""Jar endpoints: /jars, upload, plan, run."""

from __future__ import annotations

from flinkctl.client.base import Base


class JarEndpoints(Base):
    """Jar endpoints: /jars, upload, plan, run."""
