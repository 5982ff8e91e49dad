"""Cluster, JobManager and TaskManager endpoints."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flinkctl.client.base import Base


class ClusterEndpoints(Base):
    """GET /overview, GET /config, DELETE /cluster, /jobmanager/..., /taskmanagers/..."""

    def overview(self) -> dict:
        """GET /overview."""
        return self.get("/overview")

    def shutdown_cluster(self) -> None:
        """DELETE /cluster."""
        self.http.request("DELETE", "/cluster", retry=False)

    def metrics(self, path: str, get: list[str] | None = None, **params: Any) -> list[dict]:
        """GET a metrics endpoint: names without GET, values (or aggregates) with it."""
        joined = {k: ",".join(v) if isinstance(v, list) else v for k, v in params.items()}
        return self.get(path, get=",".join(get) if get else None, **joined)

    def jobmanager_config(self) -> list[dict]:
        """GET /jobmanager/config."""
        return self.get("/jobmanager/config")

    def jobmanager_environment(self) -> dict:
        """GET /jobmanager/environment (Flink 1.16+)."""
        self.require("1.16", "jobmanager environment")
        return self.get("/jobmanager/environment")

    def log_list(self, prefix: str) -> dict:
        """GET PREFIX/logs: the log files of the JobManager or one TaskManager."""
        return self.get(f"{prefix}/logs")

    def log_file(self, prefix: str, name: str) -> str:
        """GET PREFIX/logs/NAME as text."""
        path = f"{prefix}/logs/{quote(name, safe='')}"
        return self.http.request("GET", path, raw=True).text

    def thread_dump(self, prefix: str) -> dict:
        """GET PREFIX/thread-dump."""
        return self.get(f"{prefix}/thread-dump")

    def taskmanagers(self) -> dict:
        """GET /taskmanagers."""
        return self.get("/taskmanagers")

    def taskmanager(self, tm_id: str) -> dict:
        """GET /taskmanagers/:id."""
        return self.get(f"/taskmanagers/{quote(tm_id, safe='')}")
