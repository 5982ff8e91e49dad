"""One poller for Flink's asynchronous operations and for waiting on job states.

Savepoint trigger, stop-with-savepoint, savepoint disposal, checkpoint trigger, rescaling and
dataset deletion answer `{"request-id": ...}`; their status endpoint answers
`{"status": {"id": "IN_PROGRESS" | "COMPLETED"}, "operation": {...}}`, where a completed
operation carries `location` / `checkpointId` on success or `failure-cause` / `failureCause`.
No typer or rich here: progress goes to a callback.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flinkctl.errors import OperationFailed, ServerError, UnreachableError, WaitTimeout

T = TypeVar("T")
Tick = Callable[[float, Any], None]
TRANSIENT_STATUSES = (502, 503, 504)


def new_trigger_id() -> str:
    """A client-generated trigger id (32 hex), so a retried trigger request is idempotent."""
    return secrets.token_hex(16)


def failure_cause(operation: dict | None) -> dict | None:
    """The `failure-cause` (savepoints, disposal, datasets) or `failureCause` (checkpoints)."""
    operation = operation or {}
    return operation.get("failure-cause") or operation.get("failureCause")


def cause_lines(cause: dict) -> list[str]:
    """The full stringified Java stack trace of a serialized throwable."""
    trace = str(cause.get("stack-trace") or cause.get("class") or "unknown cause")
    return [trace.rstrip()]


JAVA_CLASS = re.compile(r"(?:[\w$]+\.)+([\w$]*(?:Exception|Error|Throwable)[\w$]*): ")


def summary(trace: str) -> str:
    """A Java trace's first line without wrapper exceptions: 'x.A: y.B: msg' -> 'B: msg'."""
    line = next((ln.strip() for ln in str(trace).splitlines() if ln.strip()), "")
    match = JAVA_CLASS.match(line)
    while match and JAVA_CLASS.match(line[match.end() :]):
        line = line[match.end() :]
        match = JAVA_CLASS.match(line)
    return f"{match.group(1)}: {line[match.end() :]}" if match else line


def describe(trace: str) -> str:
    """One line for a Java trace: its summary and, if different, its deepest cause's."""
    prefix = "Caused by: "
    causes = [
        ln.strip()[len(prefix) :] for ln in str(trace).splitlines() if ln.strip().startswith(prefix)
    ]
    parts = [summary(trace), *(summary(c) for c in causes[-1:])]
    return "; caused by: ".join(dict.fromkeys(p for p in parts if p))


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
        body: Any = None
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

    def operation(self, fetch: Callable[[], dict], *, what: str = "operation") -> dict:
        """Poll an asynchronous-operation status until COMPLETED; return its `operation`.

        A failure cause raises OperationFailed with the cause's first line and its deepest
        cause, on one line (the full Java trace in `.flink`, shown with --debug).
        """
        body = self.until(
            fetch, lambda b: (b.get("status") or {}).get("id") == "COMPLETED", what=what
        )
        operation = body.get("operation") or {}
        cause = failure_cause(operation)
        if cause:
            lines = cause_lines(cause)
            raise OperationFailed(f"{what} failed: {describe(lines[0])}", flink=lines)
        return operation
