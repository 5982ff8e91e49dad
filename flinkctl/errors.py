"""Exception types and the exit-code table (one source for code, README and man page)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Process exit codes; documented in the README and the man page."""

    OK = 0
    FAILED = 1
    USAGE = 2
    NOT_FOUND = 3
    AUTH = 4
    UNREACHABLE = 5
    ROLLED_BACK = 6
    STALE = 7
    TIMEOUT = 8
    SUPERSEDED = 9
    INTERRUPTED = 130
    TERMINATED = 143


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success (also an empty result)",
    ExitCode.FAILED: "Flink refused or failed the request, or an operation (savepoint, stop) failed",
    ExitCode.USAGE: "usage error or bad input caught before any request "
    "(unknown flag, malformed id, missing file)",
    ExitCode.NOT_FOUND: "not found (job, jar, vertex, task manager, trigger, context)",
    ExitCode.AUTH: "authentication or authorisation refused (401/403)",
    ExitCode.UNREACHABLE: "cannot reach the cluster "
    "(connection refused, DNS, TLS handshake, request timeout, no Flink REST API at the URL)",
    ExitCode.ROLLED_BACK: "a deploy failed and the previous revision runs again, healthy",
    ExitCode.STALE: "a check found something: `savepoint check --max-age`, `doctor --fail-on`",
    ExitCode.TIMEOUT: "--wait timed out; the operation may still complete (print how to resume)",
    ExitCode.SUPERSEDED: "a deploy or rollback was superseded: another one of the same name "
    "started a newer revision, which the report names",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C, or SIGHUP as a closed terminal sends; a process "
    "that ignores SIGHUP, as under nohup, goes on)",
    ExitCode.TERMINATED: "terminated (SIGTERM, as CI sends on cancel): a command stops as on "
    "Ctrl-C; deploy and rollback print their report first",
}


# When one run has several outcomes (many jobs, many contexts), it exits with the worst one's
# code, worst first: an interruption or termination, a command line or config that cannot work,
# credentials refused, a cluster out of reach, a failed operation, a wait that ran out, a deploy
# superseded by another, a rollback, something not found, a check that found something, success.
SEVERITY: tuple[ExitCode, ...] = (
    ExitCode.INTERRUPTED,
    ExitCode.TERMINATED,
    ExitCode.USAGE,
    ExitCode.AUTH,
    ExitCode.UNREACHABLE,
    ExitCode.FAILED,
    ExitCode.TIMEOUT,
    ExitCode.SUPERSEDED,
    ExitCode.ROLLED_BACK,
    ExitCode.NOT_FOUND,
    ExitCode.STALE,
    ExitCode.OK,
)


def worst(codes: Iterable[int]) -> ExitCode:
    """The most severe of CODES by SEVERITY (OK when there are none)."""
    found = {ExitCode(c) for c in codes}
    return next((c for c in SEVERITY if c in found), ExitCode.OK)


class FlinkctlError(Exception):
    """Base error: a one-line message, an optional hint, and an exit code.

    A subclass names its `kind` (the `error.kind` of `-o json`) and, unless it fails with exit
    1, its `code` as class keywords: `class AuthError(FlinkctlError, kind="auth", code=...)`.
    """

    code: ExitCode = ExitCode.FAILED
    kind: str = "error"

    def __init_subclass__(cls, *, kind: str | None = None, code: ExitCode | None = None) -> None:
        super().__init_subclass__()
        if kind is not None:
            cls.kind = kind
        if code is not None:
            cls.code = code

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        flink: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status
        self.flink = flink or []

    def to_json(self) -> dict[str, Any]:
        """The `{"error": {...}}` object written to stderr with `-o json`."""
        err: dict[str, Any] = {"code": int(self.code), "kind": self.kind, "message": self.message}
        if self.status is not None:
            err["status"] = self.status
        if self.flink:
            err["flink"] = self.flink
        if self.hint:
            err["hint"] = self.hint
        return {"error": err}


class UsageError(FlinkctlError, kind="usage", code=ExitCode.USAGE):
    """Bad input caught before any request."""


class ConfigError(UsageError, kind="config"):
    """The config file is malformed or inconsistent."""


class NotFoundError(FlinkctlError, kind="not-found", code=ExitCode.NOT_FOUND):
    """A job, jar, vertex, task manager, context or endpoint does not exist."""


class AuthError(FlinkctlError, kind="auth", code=ExitCode.AUTH):
    """401/403 from the cluster or a proxy in front of it."""


class UnreachableError(FlinkctlError, kind="unreachable", code=ExitCode.UNREACHABLE):
    """Connection refused, DNS failure, TLS handshake failure or request timeout."""

    GENERIC_HINT = "is the cluster running? check --url / --context"

    def after_contact(self, hint: str) -> None:
        """Say HINT when the cluster had answered just before (an upload, then a lost run):
        instead of the generic hint, or after a specific one (a gateway's)."""
        self.hint = "; ".join(h for h in (self.hint, hint) if h and h != self.GENERIC_HINT)


class NoFlinkApiError(UnreachableError, kind="no-flink-api"):
    """The URL answers, but not as Flink's REST API: a login page, a wrong path prefix, another
    server. Not NotFoundError: exit 3 means a Flink object does not exist."""


class RequestError(FlinkctlError, kind="bad-request"):
    """Flink refused the request (4xx other than 401/403/404)."""


class ServerError(FlinkctlError, kind="server"):
    """Flink failed the request (5xx)."""


class UnexpectedAnswer(FlinkctlError, kind="unexpected-answer"):
    """Flink's answer lacks what the command needs, or holds it as another type."""

    def __init__(self, method: str, path: str, problem: str) -> None:
        super().__init__(f"unexpected answer from Flink at {method} {path}: {problem}")


class OperationFailed(FlinkctlError, kind="operation-failed"):
    """An asynchronous operation (savepoint, stop, ...) or a job failed."""


class UnsupportedError(FlinkctlError, kind="unsupported"):
    """The cluster's Flink version lacks the endpoint ("needs Flink X or newer")."""


class RescaleUnsupported(UnsupportedError):
    """The job cannot be rescaled in place: no adaptive scheduler, or only the legacy endpoint,
    which Flink disabled."""


class FlinkctlWarning(UserWarning):
    """Something worth telling on stderr that does not stop the command (`warnings.warn`)."""


class WaitTimeout(FlinkctlError, kind="timeout", code=ExitCode.TIMEOUT):
    """`--wait` ran out of time; the operation may still complete."""


class StaleError(FlinkctlError, kind="stale", code=ExitCode.STALE):
    """A check found something stale (`savepoint check --max-age`)."""


class FindingsError(FlinkctlError, kind="findings", code=ExitCode.STALE):
    """`doctor` found something at or above --fail-on (exit 7, as `savepoint check`)."""
