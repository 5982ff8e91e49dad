"""FlinkClient: one method per REST endpoint, typed errors, no typer or rich."""

from flinkctl.client.cluster import ClusterEndpoints


class FlinkClient(ClusterEndpoints):
    """A client for one Flink JobManager REST API (see flinkctl.config.Context)."""


__all__ = ["FlinkClient"]
