"""One poller for every wait: Flink's asynchronous operations, job states, sampling, start-up.

Savepoint trigger, stop-with-savepoint, savepoint disposal, checkpoint trigger and
dataset deletion answer `{"request-id": ...}`; their status endpoint answers
`{"status": {"id": "IN_PROGRESS" | "COMPLETED"}, "operation": {...}}`, where a completed
operation carries `location` / `checkpointId` on success or `failure-cause` / `failureCause`.
No typer or rich here: progress goes to a callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from flinkctl.errors import OperationFailed, ServerError, UnreachableError, WaitTimeout
from flinkctl.flink import TRANSIENT_STATUSES, Json, OperationStatus, failure_trace, trace_summary

T = TypeVar("T")
Tick = Callable[[float, object], None]


def new_trigger_id() -> str:
    """A client-generated trigger id (32 hex), so a retried trigger request is idempotent."""
    import secrets

    return secrets.token_hex(16)


class Poller:
    """Poll with backoff (~100 ms growing to ~2 s) for up to TIMEOUT seconds (0: forever).

    One poller for every wait: asynchronous operations and job states (`until`, `operation`,
    which ride through transient failures and raise WaitTimeout), sampling endpoints (`last`),
    and loops with checks of their own (`rounds`). Ctrl-C (KeyboardInterrupt) is never caught:
    the caller decides what stopping means. ON_TICK(elapsed_seconds, last_body) is called
    after every poll that is not done.
    """

    initial = 0.1  # seconds between the first two polls, unless given (the tests shorten it)

    def __init__(
        self,
        timeout: float = 600.0,
        *,
        on_tick: Tick | None = None,
        initial: float | None = None,
        maximum: float = 2.0,
        factor: float = 1.5,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.timeout = timeout
        self.forever = not timeout
        self.on_tick = on_tick
        if initial is not None:
            self.initial = initial
        self.maximum, self.factor = maximum, factor
        self.sleep = sleep or time.sleep
        self.clock = clock or time.monotonic
        self.started = self.clock()

    @classmethod
    def within(
        cls,
        seconds: float,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> Poller:
        """A poller that gives up after SECONDS, where 0 means a single poll (not forever)."""
        poller = cls(seconds, sleep=sleep, clock=clock)
        poller.forever = False
        return poller

    @property
    def elapsed(self) -> float:
        """Seconds since this poller was created."""
        return self.clock() - self.started

    def rounds(self) -> Iterator[float]:
        """Yield (elapsed seconds) once per poll, sleeping with backoff in between; stop when
        the timeout is up. The first round comes at once and the last at the deadline."""
        delay = self.initial
        while True:
            yield self.elapsed
            pause = delay
            if not self.forever:
                left = self.timeout - self.elapsed
                if left <= 0:
                    return
                pause = min(delay, left)
            self.sleep(pause)
            delay = min(self.maximum, delay * self.factor)

    def last(self, fetch: Callable[[], T], done: Callable[[T], bool]) -> T:
        """Call FETCH until DONE(body) or the timeout is up; the last body either way."""
        for _ in self.rounds():
            body = fetch()
            if done(body):
                break
            if self.on_tick:
                self.on_tick(self.elapsed, body)
        return body

    def until(
        self, fetch: Callable[[], T], done: Callable[[T], bool], *, what: str = "operation"
    ) -> T:
        """Call FETCH until DONE(body) is true; return that body, or raise WaitTimeout.

        Connection errors and 502/503/504 answers during the wait are ridden through (the HTTP
        layer already retried them); anything else, e.g. a 404 because the job is gone,
        propagates.
        """
        body: T | None = None
        for _ in self.rounds():
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
        raise WaitTimeout(
            f"{what} still in progress after {self.timeout:g}s; it may still complete"
        )

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
