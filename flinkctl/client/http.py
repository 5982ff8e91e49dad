"""The HTTP layer: one httpx.Client per invocation, retries, request logging, error mapping."""

from __future__ import annotations

import contextlib
import random
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flinkctl import __version__
from flinkctl.config import Context, redact_url
from flinkctl.errors import (
    AuthError,
    FlinkctlError,
    FlinkctlWarning,
    NoFlinkApiError,
    NotFoundError,
    RequestError,
    ServerError,
    UnreachableError,
    UnsupportedError,
    UsageError,
)
from flinkctl.flink import TRANSIENT_STATUSES, error_summary, is_unknown_path, obj

if TYPE_CHECKING:
    import ssl

    import httpx

IDEMPOTENT = ("GET", "HEAD", "OPTIONS")


def _stderr_log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Http:
    """A thin wrapper over httpx.Client bound to one context.

    Requests that are safe to repeat are retried on refused or reset connections and on
    502/503/504 within the context's retry budget (`retry-budget`, seconds; 0: never), with
    exponential backoff and jitter: a JobManager restarting behind its gateway is ridden out.
    Shell completion uses a budget of 0 and fleet commands over many contexts a short one (set
    `ctx.retry_budget`, or `budget=` per request).
    """

    backoff = 0.2  # seconds before the first retry; doubles up to max_delay, with jitter
    max_delay = 2.0

    def __init__(
        self,
        ctx: Context,
        *,
        verbose: bool = False,
        log: Callable[[str], None] = _stderr_log,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.ctx = ctx
        self.verbose = verbose
        self.log = log
        self.transport = transport  # None: the network (tests give a MockTransport)
        self._client: httpx.Client | None = None
        self._brief: float | None = None  # see `brief`

    @contextlib.contextmanager
    def brief(self, timeout: float) -> Iterator[None]:
        """Requests in the block are tried once, for at most TIMEOUT seconds each: what a
        report printed after a signal asks (CI kills a process soon after its SIGTERM)."""
        saved, self._brief = self._brief, timeout
        try:
            yield
        finally:
            self._brief = saved

    @property
    def client(self) -> httpx.Client:
        """The httpx.Client, built on first use (httpx is imported lazily)."""
        if self._client is None:
            self._client = self._build()
        return self._client

    def _build(self) -> httpx.Client:
        import httpx

        from flinkctl.client.auth import auth_headers

        headers = {"User-Agent": f"flinkctl/{__version__}", "Accept": "application/json"}
        headers.update(self.ctx.headers)
        headers.update(auth_headers(self.ctx.auth))
        try:
            return httpx.Client(
                base_url=self.ctx.url + "/",
                headers=headers,
                verify=self._verify(),
                timeout=httpx.Timeout(self.ctx.timeout, connect=self.ctx.connect_timeout),
                transport=self.transport,
            )
        except (httpx.InvalidURL, ValueError) as exc:  # a Context made in code, not checked
            raise UsageError(f"invalid URL {self.url!r}: {exc}") from None

    def _verify(self) -> ssl.SSLContext | bool:
        """httpx's `verify`: the context's CA and client certificate, or False (plain HTTP, or
        `insecure-skip-verify`, which draws a warning)."""
        import ssl

        tls = self.ctx.tls
        if not self.ctx.url.startswith("https://"):
            return False  # plain HTTP: skip building an SSL context (redirects are not followed)
        if tls.insecure_skip_verify:
            warnings.warn(
                f"context {self.ctx.name!r}: TLS certificate verification is off "
                "(tls.insecure-skip-verify); anyone between here and the cluster can read and "
                "change the traffic",
                FlinkctlWarning,
                stacklevel=2,
            )
            if not tls.cert_file:
                return False
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            try:
                context = ssl.create_default_context(cafile=tls.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise _tls_file_error("ca-file", tls.ca_file, exc) from None
        if tls.cert_file:
            try:
                context.load_cert_chain(tls.cert_file, tls.key_file)
            except (OSError, ssl.SSLError) as exc:
                raise _tls_file_error("cert-file", tls.cert_file, exc) from None
        return context

    @property
    def url(self) -> str:
        """The context's URL without a password in it, for messages and logs."""
        return redact_url(self.ctx.url)

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
        budget: float | None = None,
        **kwargs: Any,  # passed on to httpx.Client.request (params, json, files, ...)
    ) -> Any:  # the decoded JSON body, whose shape the endpoint method states
        """Send a request; return the decoded JSON body (or the response with raw=True).

        GET-like requests, and others when RETRY says repeating them is harmless, are retried
        on connection errors and 502/503/504 for BUDGET seconds (default: the context's retry
        budget); a connection that could not be opened is retried for any method, as nothing
        was sent. An error status raises a typed error, unless CHECK is false (with RAW: the
        response as it is, for recording fixtures). An answer that is not Flink's REST API
        (an HTML page, a path no Flink knows) raises NoFlinkApiError.
        """
        import httpx

        retry = method in IDEMPOTENT if retry is None else retry
        connect = self.ctx.connect_timeout
        if self._brief is not None:  # one try, within the brief time, connecting included
            retry, budget = False, 0.0
            timeout = min(timeout or self._brief, self._brief)
            connect = min(connect, timeout)
        if timeout is not None:
            kwargs["timeout"] = httpx.Timeout(timeout, connect=connect)
        first = time.monotonic()
        deadline = first + (self.ctx.retry_budget if budget is None else budget)
        url = path.lstrip("/")
        attempt = 0
        while True:
            start = time.monotonic()
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                self._trace(method, url, f"{type(exc).__name__}", start)
                unsent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                if (retry or unsent) and _transient(exc) and self._again(attempt, deadline):
                    attempt += 1
                    continue
                raise self._unreachable(exc) from exc
            self._trace(method, url, str(response.status_code), start)
            if (
                retry
                and response.status_code in TRANSIENT_STATUSES
                and self._again(attempt, deadline, response.headers.get("retry-after"))
            ):
                attempt += 1
                continue
            break
        if not check:
            return response if raw else _json_or_none(response)
        if response.status_code == 404 and not _flink_error(response):
            raise self._no_flink_api(response, "answers with a body that is not Flink's")
        if response.status_code in (400, 404) and is_unknown_path(flink_messages(response)):
            raise self._missing_endpoint(response)
        if response.status_code in TRANSIENT_STATUSES and (retry or not _flink_error(response)):
            # retried to no avail, or a gateway's page for a request that is not repeated
            raise self._still_transient(response, attempt + 1, time.monotonic() - first)
        if response.status_code >= 400:
            raise error_for(response)
        if response.is_redirect:
            raise RequestError(
                f"{self.url} redirects to {redact_url(response.headers.get('location', ''))}",
                hint="use the URL it redirects to (--url, or flinkctl config set-context)",
                status=response.status_code,
            )
        if raw:
            return response
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            html = "html" in response.headers.get("content-type", "") or (
                response.text.lstrip()[:1] == "<"
            )
            raise self._no_flink_api(
                response, "answers with an HTML page" if html else "answers with a body not JSON"
            ) from None

    def _again(self, attempt: int, deadline: float, retry_after: str | None = None) -> bool:
        """Sleep before another attempt and say True, or say False if the budget is spent.

        The pause doubles from `backoff` up to `max_delay`, half of it random (jitter, so many
        clients do not come back at once); a Retry-After of a few seconds lengthens it.
        """
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        delay = min(self.max_delay, self.backoff * 2**attempt)
        delay = delay / 2 + random.uniform(0, delay / 2)
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, min(float(retry_after), self.max_delay * 5))
        time.sleep(min(delay, left))
        return True

    def _trace(self, method: str, url: str, status: str, start: float) -> None:
        if self.verbose:
            ms = (time.monotonic() - start) * 1000
            self.log(f"{method} {self.url}/{url} -> {status} ({ms:.0f} ms)")

    def _unreachable(self, exc: Exception) -> FlinkctlError:
        import httpx

        timeouts: dict[type[Exception], str] = {
            httpx.ConnectTimeout: "connection timed out",
            httpx.ReadTimeout: "no answer in time",
            httpx.WriteTimeout: "request timed out",
            httpx.PoolTimeout: "request timed out",
        }
        what = timeouts.get(type(exc))
        if isinstance(exc, httpx.LocalProtocolError):  # its text may quote a header: a secret
            what = "the request could not be sent (an invalid header?)"
        detail = what or (str(exc).splitlines() or [type(exc).__name__])[0]
        detail = detail.replace(self.ctx.url, self.url)
        if isinstance(exc, httpx.UnsupportedProtocol):
            return UsageError(f"invalid URL {self.url}: {detail}")
        tls = _tls_failure(exc, bool(self.ctx.tls.cert_file))
        if tls:
            return UnreachableError(f"cannot reach {self.url}: {tls[0]}", hint=tls[1])
        return UnreachableError(
            f"cannot reach {self.url}: {detail}",
            hint=UnreachableError.GENERIC_HINT,
        )

    def _still_transient(
        self, response: httpx.Response, attempts: int, seconds: float
    ) -> UnreachableError:
        """A 502/503/504 that outlasted the retry budget: the cluster is not reachable now."""
        messages = flink_messages(response) if _flink_error(response) else []
        said = f" ({summary(messages)})" if messages else ""
        tries = f" after {attempts} attempts in {seconds:.1f}s" if attempts > 1 else ""
        return UnreachableError(
            f"cannot reach {self.url}: {response.request.method} {self._path(response)} answers "
            f"{response.status_code} {response.reason_phrase}{said}{tries}",
            hint=(
                "the JobManager may be restarting, or a gateway cannot reach it; try again "
                "later, or give the context a longer retry-budget"
                if response.request.method in IDEMPOTENT or attempts > 1
                else "a gateway answered for Flink, which may have got the request all the "
                "same: look (e.g. flinkctl jobs list) before you repeat it"
            ),
            status=response.status_code,
            flink=messages,
        )

    def _missing_endpoint(self, response: httpx.Response) -> FlinkctlError:
        """Flink's 404 for a path it has no handler for: either this Flink version lacks the
        endpoint (GET /config answers as Flink does) or the URL is not Flink's REST API."""
        where = f"{response.request.method} {self._path(response)}"
        body = None
        if self._path(response) != "/config":
            try:
                body = self.request("GET", "/config", check=False, budget=0)
            except FlinkctlError:
                body = None
        version = body.get("flink-version") if isinstance(body, dict) else None
        if not isinstance(version, str):
            return self._no_flink_api(response, "knows no such path")
        features = body.get("features") if isinstance(body, dict) else None
        # web.submit.enable: false: Flink registers no /jars handlers
        if self._path(response).startswith("/jars") and obj(features).get("web-submit") is False:
            return UnsupportedError(
                f"this cluster (Flink {version}) takes no jars over REST ({where}): "
                "web.submit.enable is false",
                hint="submit with bin/flink run, or start the cluster with web.submit.enable: true",
                status=response.status_code,
                flink=flink_messages(response),
            )
        return UnsupportedError(
            f"this cluster (Flink {version}) has no endpoint {where}",
            hint="a newer Flink may have it; see flinkctl --version -v",
            status=404,
            flink=flink_messages(response),
        )

    def _no_flink_api(self, response: httpx.Response, what: str) -> NoFlinkApiError:
        """NoFlinkApiError: the URL answers, but not as Flink's REST API."""
        where = f"{response.request.method} {self._path(response)}"
        prefix = urlsplit(self.ctx.url).path
        hint = (
            f"check the URL and its path prefix {prefix!r}: it must lead to a JobManager's REST "
            "endpoint (rest.port, 8081 by default), through any gateway"
            if prefix
            else "check the URL: it must lead to a JobManager's REST endpoint (rest.port, 8081 "
            "by default); behind a gateway, add its path prefix (https://host/flink)"
        )
        return NoFlinkApiError(
            f"no Flink REST API at {self.url}: {where} {what} ({response.status_code})",
            hint=hint,
            status=response.status_code,
            flink=flink_messages(response),
        )

    def _path(self, response: httpx.Response) -> str:
        """The request's path below the context's URL (its path prefix left out)."""
        path = response.request.url.path
        prefix = urlsplit(self.ctx.url).path.rstrip("/")
        return path[len(prefix) :] if prefix and path.startswith(prefix + "/") else path


def _transient(exc: Exception) -> bool:
    """Whether a transport error may pass: not a TLS failure, an unknown host or a bad URL."""
    import socket
    import ssl

    import httpx

    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError)):
        return False
    if _cause(exc, ssl.SSLError):
        return False
    dns = _cause(exc, socket.gaierror)
    return not (isinstance(dns, socket.gaierror) and dns.errno != socket.EAI_AGAIN)


def _tls_failure(exc: BaseException, has_cert: bool) -> tuple[str, str] | None:
    """(what failed, a hint) when EXC comes from TLS: an untrusted certificate, a host name the
    certificate does not name, a client certificate the server wants; else None."""
    import ssl

    cause = _cause(exc, ssl.SSLError)
    if isinstance(cause, ssl.SSLCertVerificationError):
        reason = cause.verify_message or cause.reason or "failed"
        if "hostname" in reason.lower() or "ip address mismatch" in reason.lower():
            hint = "use a host name (or IP address) the server's certificate is valid for"
        else:
            hint = "set the context's tls.ca-file to the CA that signed the server's certificate"
        return (
            f"TLS certificate verification failed: {reason}",
            hint + " (flinkctl config set-context NAME --ca-file FILE); "
            "tls.insecure-skip-verify skips the check, for tests only",
        )
    if not isinstance(cause, ssl.SSLError):
        return None
    reason = (cause.reason or str(cause)).replace("_", " ").lower()
    if "certificate required" in reason or ("alert" in reason and not has_cert):
        hint = "the server asks for a client certificate: set tls.cert-file and tls.key-file"
    elif "wrong version number" in reason or "record layer failure" in reason:
        hint = "the server may not speak TLS: try http:// instead of https://"
    else:
        hint = "check the URL's scheme and the context's tls settings (flinkctl config view)"
    return f"TLS handshake failed: {reason}", hint


def _tls_file_error(key: str, path: str | None, exc: Exception) -> UsageError:
    """A CA file or client certificate that cannot be loaded (missing, not PEM, key mismatch)."""
    import ssl

    reason = (exc.reason if isinstance(exc, ssl.SSLError) else None) or str(exc)
    return UsageError(f"tls {key} {path}: cannot load it: {reason}")


def _cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of KIND in EXC's chain of causes and contexts."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, kind):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def _json_or_none(response: httpx.Response) -> Any:
    """The decoded JSON body; None when it is empty or not JSON."""
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _flink_error(response: httpx.Response) -> bool:
    """Whether an error answer has the shape of Flink's: `{"errors": [...]}` as JSON."""
    body = _json_or_none(response)
    return isinstance(body, dict) and isinstance(body.get("errors"), list)


HTML_TITLE = r"(?i)<title>([^<]+)</title>"


def flink_messages(response: httpx.Response) -> list[str]:
    """Flink's `{"errors": [...]}` list, else an HTML page's title, else the body's first line."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        title = re.search(HTML_TITLE, text)  # a gateway's error page: its title, not "<html>"
        if title:
            return [" ".join(title[1].split())[:300]]
        return [text.splitlines()[0][:300]] if text else []
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return [str(e) for e in body["errors"]]
    return []


def summary(messages: list[str], *, deepest: bool = True) -> str:
    """Flink's error messages on one line: the first meaningful line of each, and (with
    DEEPEST) its deepest "Caused by"."""
    return "; ".join(filter(None, (error_summary(m, deepest=deepest) for m in messages)))


NOT_FOUND = (
    r"(?<![\w$])(?:[\w$]+\.)*(?:NotFoundException|FlinkJobNotFoundException|"
    r"UnknownTaskExecutorException)\b"
)


def error_for(response: httpx.Response) -> FlinkctlError:
    """Map an HTTP error response to a typed exception."""
    status = response.status_code
    messages = flink_messages(response)
    not_found = status == 404 or any(re.search(NOT_FOUND, m) for m in messages)
    # a "not found" says all there is to say; another failure adds its deepest cause
    said = summary(messages, deepest=not not_found) or response.reason_phrase or "error"
    where = f"{response.request.method} {response.request.url.path}"
    if status in (401, 403):
        return AuthError(
            f"{where}: {status} {response.reason_phrase}",
            hint="check the context's auth settings (flinkctl config view)",
            status=status,
            flink=messages,
        )
    if not_found:
        message = said if messages else f"{where}: not found"
        return NotFoundError(message, status=status, flink=messages)
    who = "Flink" if _flink_error(response) or not response.content else "the server"
    if status < 500:
        return RequestError(f"{who} refused {where}: {said}", status=status, flink=messages)
    return ServerError(f"{who} failed {where}: {said}", status=status, flink=messages)
