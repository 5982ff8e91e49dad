"""A fault-injecting HTTP proxy for e2e tests: 127.0.0.1, in a thread, in front of a real cluster.

Every request is forwarded to the cluster's REST port unless a rule says otherwise. A rule
picks the Nth request (1-based, counted from when the rule was added) matching a METHOD and a
path regex (`re.search` on the path without its query) and, for it and the TIMES-1 matching
requests after it (TIMES=None: every one from the Nth on), does one of:

- ``drop``:  forward it, read the cluster's answer, then close the connection without a byte of
  it: the request took effect, its answer is lost.
- ``503``:   answer 503 Service Unavailable without forwarding: nothing happened.
- ``delay``: forward it, then hold the answer for DELAY seconds before sending it (beyond the
  client's read timeout: the request took effect, the client gave up).

Thread-safe; it records what it saw (method, path, what it did, status) and lets a test wait
for a request to come (`wait`), e.g. to send a signal at a known step.

    with FaultProxy("http://127.0.0.1:8081") as proxy:
        proxy.add("POST", r"^/jars/[^/]+/run$", "drop")
        ...  # flinkctl --url proxy.url deploy ...
        assert proxy.fired("POST", r"/run$") == 1
"""

from __future__ import annotations

import http.client
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

ACTIONS = ("drop", "503", "delay")
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "host",
}


@dataclass
class Rule:
    """For the NTH request matching METHOD and PATH (and TIMES-1 more), do ACTION."""

    method: str
    path: str
    action: str
    nth: int = 1
    times: int | None = 1
    delay: float = 0.0
    matched: int = 0  # matching requests seen since the rule was added
    fired: int = 0  # of them, how many it acted on

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}: one of {ACTIONS}")
        if self.nth < 1:
            raise ValueError("nth counts from 1")
        self._pattern = re.compile(self.path)

    def matches(self, method: str, path: str) -> bool:
        return method == self.method.upper() and self._pattern.search(path) is not None

    def take(self) -> bool:
        """Count one matching request; whether the rule acts on it."""
        self.matched += 1
        last = None if self.times is None else self.nth + self.times - 1
        if self.matched >= self.nth and (last is None or self.matched <= last):
            self.fired += 1
            return True
        return False


@dataclass
class Seen:
    """One request as the proxy saw it."""

    method: str
    path: str  # with its query
    action: str  # forward | drop | 503 | delay
    status: int | None = None  # the cluster's answer (None: not forwarded, or no answer)
    at: float = field(default_factory=time.monotonic)


class FaultProxy:
    """The proxy (see the module docstring). `start()` or `with`; `url` is where to point
    flinkctl; `stop()` closes it (held answers are abandoned)."""

    def __init__(self, target: str, *, upstream_timeout: float = 300.0) -> None:
        parts = urlsplit(target)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"an http:// URL of the cluster, not {target!r}")
        self.target = (parts.hostname, parts.port or 80)
        self.upstream_timeout = upstream_timeout
        self.rules: list[Rule] = []
        self.seen: list[Seen] = []
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life ------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the proxy first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- rules -----------------------------------------------------------------------------

    def add(
        self,
        method: str,
        path: str,
        action: str,
        *,
        nth: int = 1,
        times: int | None = 1,
        delay: float = 0.0,
    ) -> Rule:
        """A rule (see the module docstring); rules are tried in the order added, the first
        that acts on a request wins (every matching rule counts it)."""
        rule = Rule(method.upper(), path, action, nth, times, delay)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule (what was seen stays)."""
        with self._lock:
            self.rules.clear()

    # -- what it saw -----------------------------------------------------------------------

    def requests(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        pattern = re.compile(path) if path else None
        with self._lock:
            return [
                s
                for s in self.seen
                if (method is None or s.method == method.upper())
                and (pattern is None or pattern.search(s.path.split("?", 1)[0]))
            ]

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """How many requests matching METHOD and PATH came (whatever was done with them)."""
        return len(self.requests(method, path))

    def fired(self, method: str | None = None, path: str | None = None) -> int:
        """How many of them a rule acted on."""
        return sum(1 for s in self.requests(method, path) if s.action != "forward")

    def wait(
        self, method: str, path: str, *, n: int = 1, timeout: float = 120.0, since: int = 0
    ) -> Seen:
        """Block until the Nth request matching METHOD and PATH (among those after the first
        SINCE seen: `since=proxy.mark()`) has come; that request. AssertionError on timeout."""
        pattern = re.compile(path)
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                hits = [
                    s
                    for s in self.seen[since:]
                    if s.method == method.upper() and pattern.search(s.path.split("?", 1)[0])
                ]
                if len(hits) >= n:
                    return hits[n - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no {method} {path} (#{n}) within {timeout:g} s; saw "
                        f"{[f'{s.method} {s.path}' for s in self.seen[since:]][-15:]}"
                    )
                self._lock.wait(min(left, 0.5))

    def mark(self) -> int:
        """A position in what was seen, for `wait(since=...)`."""
        with self._lock:
            return len(self.seen)

    # -- inside the handler threads ----------------------------------------------------------

    def _decide(self, method: str, path: str) -> tuple[Seen, Rule | None]:
        bare = path.split("?", 1)[0]
        with self._lock:
            chosen = None
            for rule in self.rules:
                if rule.matches(method, bare) and rule.take() and chosen is None:
                    chosen = rule
            seen = Seen(method, path, chosen.action if chosen else "forward")
            self.seen.append(seen)
            self._lock.notify_all()
        return seen, chosen

    def _answered(self, seen: Seen, status: int | None) -> None:
        with self._lock:
            seen.status = status
            self._lock.notify_all()


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the test reads `proxy.seen`

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        owner = self.owner
        self.close_connection = True  # one request per connection: a drop loses just this one
        body = self._body()
        seen, rule = owner._decide(self.command, self.path)
        if rule is not None and rule.action == "503":
            owner._answered(seen, None)
            self._send(503, [("Content-Type", "application/json")],
                       b'{"errors": ["fault proxy: 503 Service Unavailable"]}')  # fmt: skip
            return
        try:
            status, headers, answer = self._forward(body)
        except OSError as exc:
            owner._answered(seen, None)
            self._send(502, [("Content-Type", "application/json")],
                       f'{{"errors": ["fault proxy: {type(exc).__name__}"]}}'.encode())  # fmt: skip
            return
        owner._answered(seen, status)
        if rule is not None and rule.action == "drop":
            self._abort()
            return
        if rule is not None and rule.action == "delay":
            owner._stopping.wait(rule.delay)
        self._send(status, headers, answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        host, port = self.owner.target
        conn = http.client.HTTPConnection(host, port, timeout=self.owner.upstream_timeout)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Host"] = f"{host}:{port}"
            if body or self.command in ("POST", "PUT", "PATCH"):
                headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            answer = resp.read()
            kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
            return resp.status, kept, answer
        finally:
            conn.close()

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        try:
            self.send_response_only(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            pass  # the client gave up (a delayed answer): nothing to tell it

    def _abort(self) -> None:
        """Close the connection with nothing written (RST where the platform allows)."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
