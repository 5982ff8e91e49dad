"""The client core shared by every endpoint group: requests, version gates, fan-out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flinkctl.client.http import Http
from flinkctl.config import Context
from flinkctl.errors import UnsupportedError

T = TypeVar("T")
R = TypeVar("R")


def parse_version(text: str) -> tuple[int, ...]:
    """'1.20.1' -> (1, 20, 1); '2.3-SNAPSHOT' -> (2, 3)."""
    parts = []
    for piece in text.split("-")[0].split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


class Base:
    """Holds the Http transport; endpoint groups are mixins over it."""

    max_workers = 8

    def __init__(self, ctx: Context, **http_options: Any) -> None:
        self.ctx = ctx
        self.http = Http(ctx, **http_options)
        self._dashboard: dict | None = None

    def close(self) -> None:
        """Release connections."""
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, **params: Any) -> Any:
        """GET a path; None-valued params are dropped."""
        clean = {k: v for k, v in params.items() if v is not None}
        return self.http.request("GET", path, params=clean or None)

    def dashboard_config(self) -> dict:
        """GET /config, fetched once per invocation."""
        if self._dashboard is None:
            self._dashboard = self.get("/config")
        return self._dashboard

    def flink_version(self) -> tuple[int, ...]:
        """The cluster's Flink version as a tuple (from GET /config)."""
        return parse_version(str(self.dashboard_config().get("flink-version", "")))

    def require(self, minimum: str, feature: str) -> None:
        """Raise UnsupportedError unless the cluster runs Flink MINIMUM or newer."""
        have = self.flink_version()
        if have and have < parse_version(minimum):
            raise UnsupportedError(
                f"{feature} needs Flink {minimum} or newer "
                f"(this cluster runs {self.dashboard_config().get('flink-version')})"
            )

    def fan_out(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Apply FN to every item concurrently with a bounded pool; keep the order."""
        items = list(items)
        if len(items) <= 1:
            return [fn(i) for i in items]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(items))) as pool:
            return list(pool.map(fn, items))
