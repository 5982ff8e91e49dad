"""FlinkClient: one method per REST endpoint, typed errors, no typer or rich."""

from flinkctl.client.cluster import ClusterEndpoints
from flinkctl.client.jobs import JobEndpoints


class FlinkClient(ClusterEndpoints, JobEndpoints):
    """A client for one Flink JobManager REST API (see flinkctl.config.Context)."""


__all__ = ["FlinkClient"]
