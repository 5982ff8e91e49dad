"""`flinkctl local`: provision and run a real standalone Flink cluster on this machine.

A library (no typer, no rich): `distribution` fetches and caches Flink; `cluster` brings a
cluster up and down over `state` (its directory and cluster.json), `flinkconf` (its Flink
configuration), `processes` (its JobManager and TaskManager), `logs` and `ports`; `tls`
makes the certificates of `up --tls`; `demo` submits the bundled demo job.
"""

DEFAULT_FLINK_VERSION = "2.3.0"
READY_TIMEOUT = 90.0  # seconds `local up` waits for the cluster (and the demo job) to be ready
