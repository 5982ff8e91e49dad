"""Job lifecycle: cancel, stop, savepoints, disposal, rescaling, datasets, applications."""

from __future__ import annotations

from flinkctl.client.base import Base


class LifecycleEndpoints(Base):
    """Job lifecycle: cancel, stop, savepoints, disposal, rescaling, datasets, applications."""
