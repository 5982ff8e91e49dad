"""One poller for every wait: Flink's asynchronous operations, job states, sampling, start-up.

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
from collections.abc import Callable, Iterator
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
    """Poll with backoff (~100 ms growing to ~2 s) for up to TIMEOUT seconds (0: forever).

    One poller for every wait: asynchronous operations and job states (`until`, `operation`,
    which ride through transient failures and raise WaitTimeout), sampling endpoints (`last`),
    and loops with checks of their own (`rounds`). Ctrl-C (KeyboardInterrupt) is never caught:
    the caller decides what stopping means. ON_TICK(elapsed_seconds, last_body) is called
    after every poll that is not done.
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
        self.forever = not timeout
        self.on_tick = on_tick
        self.initial, self.maximum, self.factor = initial, maximum, factor
        self.sleep = sleep or time.sleep
        self.clock = clock or time.monotonic
        self.started = self.clock()

    @classmethod
    def within(cls, seconds: float, **options: Any) -> Poller:
        """A poller that gives up after SECONDS, where 0 means a single poll (not forever)."""
        poller = cls(seconds, **options)
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
        body: Any = None
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
