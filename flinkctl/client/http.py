"""The HTTP layer: one httpx.Client per invocation, retries, request logging, error mapping."""

from __future__ import annotations

import random
import re
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flinkctl import __version__
from flinkctl.config import Context
from flinkctl.errors import (
    AuthError,
    FlinkctlError,
    NotFoundError,
    RequestError,
    ServerError,
    UnreachableError,
)
from flinkctl.flink import TRANSIENT_STATUSES, error_summary

if TYPE_CHECKING:
    import ssl

    import httpx

IDEMPOTENT = ("GET", "HEAD", "OPTIONS")


def _stderr_log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Http:
    """A thin wrapper over httpx.Client bound to one context."""

    retries = 3  # extra attempts for requests that are safe to repeat
    backoff = 0.2  # seconds before the first retry; doubles, capped at 2 s, with jitter

    def __init__(
        self,
        ctx: Context,
        *,
        verbose: bool = False,
        retries: int | None = None,
        log: Callable[[str], None] = _stderr_log,
    ) -> None:
        self.ctx = ctx
        self.verbose = verbose
        if retries is not None:
            self.retries = retries
        self.log = log
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        """The httpx.Client, built on first use (httpx is imported lazily)."""
        if self._client is None:
            self._client = self._build()
        return self._client

    def _build(self) -> httpx.Client:
        import httpx

        from flinkctl.client.auth import auth_headers

        tls = self.ctx.tls
        verify: ssl.SSLContext | bool = True
        if not self.ctx.url.startswith("https://"):
            verify = False  # plain HTTP: skip building an SSL context (redirects are not followed)
        elif tls.get("insecure-skip-verify"):
            verify = False
        elif tls.get("ca-file") or tls.get("cert-file"):
            import ssl

            verify = ssl.create_default_context(cafile=tls.get("ca-file"))
            if tls.get("cert-file"):
                verify.load_cert_chain(tls["cert-file"], tls.get("key-file"))
        headers = {"User-Agent": f"flinkctl/{__version__}", "Accept": "application/json"}
        headers.update(self.ctx.headers)
        headers.update(auth_headers(self.ctx.auth))
        return httpx.Client(
            base_url=self.ctx.url + "/",
            headers=headers,
            verify=verify,
            timeout=httpx.Timeout(self.ctx.timeout, connect=self.ctx.connect_timeout),
        )

    def close(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        retry: bool | None = None,
        raw: bool = False,
        check: bool = True,
        timeout: float | None = None,
        **kwargs: Any,  # passed on to httpx.Client.request (params, json, files, ...)
    ) -> Any:  # the decoded JSON body, whose shape the endpoint method states
        """Send a request; return the decoded JSON body (or the response with raw=True).

        GET-like requests retry on connection errors and 502/503/504 with exponential
        backoff and jitter; other methods only when the caller says repeating is harmless.
        An error status raises a typed error, unless CHECK is false (with RAW: the response
        as it is, for recording fixtures).
        """
        import httpx

        retry = method in IDEMPOTENT if retry is None else retry
        attempts = 1 + (self.retries if retry else 0)
        url = path.lstrip("/")
        if timeout is not None:
            kwargs["timeout"] = httpx.Timeout(timeout, connect=self.ctx.connect_timeout)
        for attempt in range(attempts):
            start = time.monotonic()
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                self._trace(method, url, f"{type(exc).__name__}", start)
                if attempt + 1 < attempts and not isinstance(exc, httpx.UnsupportedProtocol):
                    self._sleep(attempt)
                    continue
                raise self._unreachable(exc) from exc
            self._trace(method, url, str(response.status_code), start)
            if response.status_code in TRANSIENT_STATUSES and attempt + 1 < attempts:
                self._sleep(attempt)
                continue
            if response.status_code >= 400 and check:
                raise error_for(response)
            if response.is_redirect:
                raise RequestError(
                    f"{self.ctx.url} redirects to {response.headers.get('location')}",
                    hint="use the URL it redirects to (--url, or flinkctl config set-context)",
                    status=response.status_code,
                )
            if raw:
                return response
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise ServerError(
                    f"{method} {response.request.url} returned a body that is not JSON",
                    status=response.status_code,
                    hint="is --url pointing at a Flink JobManager's REST port?",
                ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _sleep(self, attempt: int) -> None:
        delay = min(2.0, self.backoff * 2**attempt)
        time.sleep(delay / 2 + random.uniform(0, delay / 2))

    def _trace(self, method: str, url: str, status: str, start: float) -> None:
        if self.verbose:
            ms = (time.monotonic() - start) * 1000
            base = re.sub(r"//[^/@]*@", "//", self.ctx.url)  # no user:password@ in the log
            self.log(f"{method} {base}/{url} -> {status} ({ms:.0f} ms)")

    def _unreachable(self, exc: Exception) -> FlinkctlError:
        import httpx

        timeouts: dict[type[Exception], str] = {
            httpx.ConnectTimeout: "connection timed out",
            httpx.ReadTimeout: "no answer in time",
            httpx.WriteTimeout: "request timed out",
            httpx.PoolTimeout: "request timed out",
        }
        what = timeouts.get(type(exc))
        detail = what or (str(exc).splitlines() or [type(exc).__name__])[0]
        if isinstance(exc, httpx.UnsupportedProtocol):
            return RequestError(f"invalid URL {self.ctx.url}: {exc}")
        return UnreachableError(
            f"cannot reach {self.ctx.url}: {detail}",
            hint="is the cluster running? check --url / --context",
        )


def flink_messages(response: httpx.Response) -> list[str]:
    """Flink's `{"errors": [...]}` list, or the body's first line."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return [text.splitlines()[0][:300]] if text else []
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return [str(e) for e in body["errors"]]
    return []


NOT_FOUND = re.compile(
    r"(?<![\w$])(?:[\w$]+\.)*(?:NotFoundException|FlinkJobNotFoundException|"
    r"UnknownTaskExecutorException)\b"
)


def error_for(response: httpx.Response) -> FlinkctlError:
    """Map an HTTP error response to a typed exception."""
    status = response.status_code
    messages = flink_messages(response)
    summary = "; ".join(filter(None, map(error_summary, messages)))
    summary = summary or response.reason_phrase or "error"
    where = f"{response.request.method} {response.request.url.path}"
    if status in (401, 403):
        return AuthError(
            f"{where}: {status} {response.reason_phrase}",
            hint="check the context's auth settings (flinkctl config view)",
            status=status,
            flink=messages,
        )
    if status == 404 or any(NOT_FOUND.search(m) for m in messages):
        message = summary if messages else f"{where}: not found"
        return NotFoundError(message, status=status, flink=messages)
    if status < 500:
        return RequestError(f"Flink refused {where}: {summary}", status=status, flink=messages)
    return ServerError(f"Flink failed {where}: {summary}", status=status, flink=messages)
