"""`flinkctl local`: provision and run a real standalone Flink cluster on this machine.

A library (no typer, no rich): `distribution` fetches and caches Flink, `cluster` runs it,
`demo` submits the bundled demo job.
"""

DEFAULT_FLINK_VERSION = "2.3.0"
