"""The client core shared by every endpoint group: requests, version gates, fan-out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast, get_origin

from flinkctl.client.http import Http
from flinkctl.config import Context
from flinkctl.errors import (
    FlinkctlError,
    NoFlinkApiError,
    UnexpectedAnswer,
    UnreachableError,
    UnsupportedError,
)
from flinkctl.flink import (
    DashboardConfig,
    Json,
    Metric,
    OperationStatus,
    Triggered,
)

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
R = TypeVar("R")
B = TypeVar("B", bound="Base")


def parse_version(text: str) -> tuple[int, ...]:
    """'1.20.1' -> (1, 20, 1); '2.3-SNAPSHOT' -> (2, 3)."""
    parts = []
    for piece in text.split("-")[0].split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


def joined(values: Sequence[str] | None) -> str | None:
    """A comma-separated query parameter ('a,b'); None (left out) when there are no values."""
    return ",".join(values) if values else None


def expect(shape: type[T], body: Any, method: str, path: str) -> T:
    """BODY if it is the JSON object (or, for a list SHAPE, array) SHAPE says; else
    UnexpectedAnswer. Fields inside are read defensively where they are used."""
    want = list if get_origin(shape) is list else dict
    if not isinstance(body, want):
        wanted = "an array" if want is list else "an object"
        got = "nothing" if body is None else f"a JSON {_json_type(body)}"
        raise UnexpectedAnswer(method, path, f"expected {wanted}, got {got}")
    return cast(T, body)


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean"}
    return names.get(type(value), "number")


class Base:
    """Holds the Http transport; endpoint groups are mixins over it."""

    max_workers = 16  # requests in flight at once in `fan_out` (200 vertices: 13 round-trips)

    def __init__(
        self, ctx: Context, *, verbose: bool = False, transport: httpx.BaseTransport | None = None
    ) -> None:
        """VERBOSE: log each request to stderr (`-v`). TRANSPORT: httpx's, instead of the
        network (a deterministic simulation serves a fake Flink through httpx.MockTransport)."""
        self.ctx = ctx
        self.http = Http(ctx, verbose=verbose, transport=transport)
        self._dashboard: DashboardConfig | None = None

    def close(self) -> None:
        """Release connections."""
        self.http.close()

    def __enter__(self: B) -> B:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, shape: type[T], path: str, **params: object) -> T:
        """GET PATH; its JSON body, as SHAPE says Flink sends it. None-valued params are dropped."""
        clean = {k: v for k, v in params.items() if v is not None}
        return expect(shape, self.http.request("GET", path, params=clean or None), "GET", path)

    def _send(
        self,
        shape: type[T],
        method: str,
        path: str,
        *,
        retry: bool = False,
        **kwargs: Any,  # passed on to httpx.Client.request (json, data, files, params)
    ) -> T:
        """A request that changes state (retried only with RETRY); its JSON body as SHAPE."""
        body: T = self.http.request(method, path, retry=retry, **kwargs)
        return body

    def _trigger(
        self, path: str, body: Json, status: Callable[[str], OperationStatus]
    ) -> Triggered:
        """POST an asynchronous operation whose BODY carries a client-chosen `triggerId`.

        Flink registers an operation once per job and trigger id, so the request is retried
        like a GET. When every answer is lost (the gateway dropped it after Flink accepted the
        request), STATUS(trigger id) asks Flink before giving up: an operation it knows goes on
        and is followed as usual; otherwise the original error stands.
        """
        trigger_id = str(body["triggerId"])
        try:
            return self._send(Triggered, "POST", path, json=body, retry=True)
        except UnreachableError as lost:  # refused, reset, timed out, 502/503/504 throughout
            if isinstance(lost, NoFlinkApiError):
                raise
            try:
                status(trigger_id)
            except FlinkctlError:
                raise lost from None
            return {"request-id": trigger_id}

    def _text(self, path: str) -> str:
        """GET PATH as text (log files)."""
        text: str = self.http.request("GET", path, raw=True).text
        return text

    def _metrics(self, path: str, get: Sequence[str] | None, **params: str | None) -> list[Metric]:
        """A metrics endpoint: the metric ids without GET, their values (or aggregates) with it."""
        return self._get(list[Metric], path, get=joined(get), **params)

    def dashboard_config(self) -> DashboardConfig:
        """GET /config, fetched once per invocation."""
        if self._dashboard is None:
            self._dashboard = self._get(DashboardConfig, "/config")
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
        return bounded_map(fn, items, self.max_workers)


def bounded_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """FN over ITEMS in at most WORKERS threads, in their order; Ctrl-C does not wait for the
    calls under way."""
    items = list(items)
    if len(items) <= 1:
        return [fn(i) for i in items]
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=min(workers, len(items)))
    interrupted = False
    try:
        return list(pool.map(fn, items))
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        pool.shutdown(wait=not interrupted, cancel_futures=True)
