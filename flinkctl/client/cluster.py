"""Cluster, JobManager and TaskManager endpoints, and the metrics endpoints of every level."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from flinkctl.client.base import Base, joined
from flinkctl.errors import NotFoundError, ServerError
from flinkctl.flink import (
    ClusterOverview,
    ConfigEntry,
    Json,
    LogList,
    Metric,
    TaskManager,
    TaskManagers,
)


def _tm(tm_id: str) -> str:
    return f"/taskmanagers/{quote(tm_id, safe='')}"


# Flink's 500 when a task manager cannot hand over a log file (no such file, or no log file
# at all when it logs to the console only)
NOT_TRANSFERRED = "Failed to transfer file"


class ClusterEndpoints(Base):
    """GET /overview, GET /config, DELETE /cluster, /jobmanager/..., /taskmanagers/..."""

    def overview(self) -> ClusterOverview:
        """GET /overview."""
        return self._get(ClusterOverview, "/overview")

    def shutdown_cluster(self) -> None:
        """DELETE /cluster."""
        self.http.request("DELETE", "/cluster", retry=False)

    # -- jobmanager --------------------------------------------------------------------------

    def jobmanager_config(self) -> list[ConfigEntry]:
        """GET /jobmanager/config."""
        return self._get(list[ConfigEntry], "/jobmanager/config")

    def jobmanager_environment(self) -> Json:
        """GET /jobmanager/environment (Flink 1.16+)."""
        self.require("1.16", "jobmanager environment")
        return self._get(Json, "/jobmanager/environment")

    def jobmanager_metrics(self, get: Sequence[str] | None = None) -> list[Metric]:
        """GET /jobmanager/metrics[?get=...]."""
        return self._metrics("/jobmanager/metrics", get)

    def jobmanager_logs(self) -> LogList:
        """GET /jobmanager/logs: the JobManager's log files."""
        return self._get(LogList, "/jobmanager/logs")

    def jobmanager_log(self, name: str | None = None) -> str:
        """GET /jobmanager/logs/:filename as text; without NAME, GET /jobmanager/log (the main
        log, which Flink serves though its OpenAPI spec omits it)."""
        if name is None:
            return self._text("/jobmanager/log")
        return self._text(f"/jobmanager/logs/{quote(name, safe='')}")

    def jobmanager_thread_dump(self) -> Json:
        """GET /jobmanager/thread-dump."""
        return self._get(Json, "/jobmanager/thread-dump")

    # -- taskmanagers ------------------------------------------------------------------------

    def taskmanagers(self) -> TaskManagers:
        """GET /taskmanagers."""
        return self._get(TaskManagers, "/taskmanagers")

    def taskmanager(self, tm_id: str) -> TaskManager:
        """GET /taskmanagers/:taskmanagerid."""
        return self._get(TaskManager, _tm(tm_id))

    def taskmanagers_metrics(
        self, get: Sequence[str] | None = None, agg: Sequence[str] | None = None
    ) -> list[Metric]:
        """GET /taskmanagers/metrics[?get=...&agg=...]: aggregated over all task managers."""
        return self._metrics("/taskmanagers/metrics", get, agg=joined(agg))

    def taskmanager_metrics(self, tm_id: str, get: Sequence[str] | None = None) -> list[Metric]:
        """GET /taskmanagers/:taskmanagerid/metrics[?get=...]."""
        return self._metrics(f"{_tm(tm_id)}/metrics", get)

    def taskmanager_logs(self, tm_id: str) -> LogList:
        """GET /taskmanagers/:taskmanagerid/logs: the task manager's log files."""
        return self._get(LogList, f"{_tm(tm_id)}/logs")

    def taskmanager_log(self, tm_id: str, name: str | None = None) -> str:
        """GET /taskmanagers/:taskmanagerid/logs/:filename as text; without NAME, GET
        /taskmanagers/:taskmanagerid/log (the main log; not in Flink's OpenAPI spec either).

        Flink answers 500 "Failed to transfer file" for a file the task manager cannot send;
        that is a NotFoundError here.
        """
        path = f"{_tm(tm_id)}/log" if name is None else f"{_tm(tm_id)}/logs/{quote(name, safe='')}"
        try:
            return self._text(path)
        except ServerError as exc:
            if not any(NOT_TRANSFERRED in m for m in [exc.message, *exc.flink]):
                raise
            what = "its main log" if name is None else f"log file {name!r}"
            raise NotFoundError(
                f"task manager {tm_id} cannot send {what}", status=exc.status, flink=exc.flink
            ) from exc

    def taskmanager_thread_dump(self, tm_id: str) -> Json:
        """GET /taskmanagers/:taskmanagerid/thread-dump."""
        return self._get(Json, f"{_tm(tm_id)}/thread-dump")
