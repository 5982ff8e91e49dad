"""One poller for Flink's asynchronous operations and for waiting on job states.

Savepoint trigger, stop-with-savepoint, savepoint disposal, checkpoint trigger, rescaling and
dataset deletion answer `{"request-id": ...}`; their status endpoint answers
`{"status": {"id": "IN_PROGRESS" | "COMPLETED"}, "operation": {...}}`, where a completed
operation carries `location` / `checkpointId` on success or `failure-cause` / `failureCause`.
No typer or rich here: progress goes to a callback.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import TypeVar

from flinkctl.errors import OperationFailed, ServerError, UnreachableError, WaitTimeout
from flinkctl.flink import TRANSIENT_STATUSES, Json, OperationStatus, failure_trace, trace_summary

T = TypeVar("T")
Tick = Callable[[float, object], None]


def new_trigger_id() -> str:
    """A client-generated trigger id (32 hex), so a retried trigger request is idempotent."""
    return secrets.token_hex(16)


class Poller:
    """Poll with backoff (~100 ms growing to ~2 s) until done or TIMEOUT seconds (0: forever).

    Connection errors and 502/503/504 answers during the wait are ridden through (the HTTP
    layer already retried them); anything else, e.g. a 404 because the job is gone, propagates.
    ON_TICK(elapsed_seconds, last_body) is called after every poll.
    """

    def __init__(
        self,
        timeout: float = 600.0,
        *,
        on_tick: Tick | None = None,
        initial: float = 0.1,
        maximum: float = 2.0,
        factor: float = 1.5,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.timeout = timeout
        self.on_tick = on_tick
        self.initial, self.maximum, self.factor = initial, maximum, factor
        self.sleep = sleep or time.sleep
        self.clock = clock or time.monotonic
        self.started = self.clock()

    @property
    def elapsed(self) -> float:
        """Seconds since this poller was created."""
        return self.clock() - self.started

    def until(
        self, fetch: Callable[[], T], done: Callable[[T], bool], *, what: str = "operation"
    ) -> T:
        """Call FETCH until DONE(body) is true; return that body."""
        delay = self.initial
        body: T | None = None
        while True:
            try:
                body = fetch()
            except (ServerError, UnreachableError) as exc:
                if isinstance(exc, ServerError) and exc.status not in TRANSIENT_STATUSES:
                    raise
            else:
                if done(body):
                    return body
            if self.on_tick:
                self.on_tick(self.elapsed, body)
            pause = delay
            if self.timeout:
                left = self.timeout - self.elapsed
                if left <= 0:
                    raise WaitTimeout(
                        f"{what} still in progress after {self.timeout:g}s; it may still complete"
                    )
                pause = min(delay, left)
            self.sleep(pause)
            delay = min(self.maximum, delay * self.factor)

    def operation(self, fetch: Callable[[], OperationStatus], *, what: str = "operation") -> Json:
        """Poll an asynchronous-operation status until COMPLETED; return its `operation`.

        A failure cause raises OperationFailed with the cause's first line and its deepest
        cause, on one line (the full Java trace in `.flink`, shown with --debug).
        """
        body = self.until(
            fetch, lambda b: (b.get("status") or {}).get("id") == "COMPLETED", what=what
        )
        operation = body.get("operation") or {}
        trace = failure_trace(operation)
        if trace:
            raise OperationFailed(f"{what} failed: {trace_summary(trace)}", flink=[trace])
        return operation
