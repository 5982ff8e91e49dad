"""FlinkClient: one method per REST endpoint, typed errors, no typer or rich."""

from flinkctl.client.checkpoints import CheckpointEndpoints
from flinkctl.client.cluster import ClusterEndpoints
from flinkctl.client.jars import JarEndpoints
from flinkctl.client.jobs import JobEndpoints
from flinkctl.client.lifecycle import LifecycleEndpoints
from flinkctl.client.vertices import VertexEndpoints


class FlinkClient(
    ClusterEndpoints,
    JobEndpoints,
    VertexEndpoints,
    CheckpointEndpoints,
    JarEndpoints,
    LifecycleEndpoints,
):
    """A client for one Flink JobManager REST API (see flinkctl.config.Context)."""


__all__ = ["FlinkClient"]
