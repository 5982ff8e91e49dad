"""flinkctl: operate Apache Flink clusters through the JobManager's REST API."""

__version__ = "0.1.0"
