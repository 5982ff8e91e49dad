"""The in-process test tier: Flink's recorded answers served through `httpx.MockTransport`.

`Server` stands where pytest-httpserver's server stands for the tests of read-only commands:
the same `expect_request` / `expect_oneshot_request` / `expect_ordered_request` ...
`respond_with_json` / `respond_with_data` (so `Recorded.expect` and `Recorded.serve` work on it
unchanged), the same `log` of (request, response) and the same unmet-expectation bookkeeping
(`conftest.unmet_expectations`), but no socket and no server thread: the CLI runs with an
Invocation whose client's transport is `Server.transport`, and whose streams are StringIOs.

A module opts in with `pytestmark = pytest.mark.inprocess`: conftest's `httpserver` is then a
`Server` and its `cli` runs over it. Transport, TLS, timeout and fault tests keep the real
server (pytest-httpserver, FaultServer).
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx

URL = "http://flink.test"


class Args(dict):
    """A request's query arguments (the first value of each), as werkzeug's `to_dict()`."""

    def to_dict(self) -> dict[str, str]:
        return dict(self)


@dataclass
class Request:
    """What a test reads of a logged request: method, path, query arguments and body."""

    method: str
    path: str
    query_string: bytes
    body: bytes

    @property
    def args(self) -> Args:
        return Args(parse_qsl(self.query_string.decode(), keep_blank_values=True)[::-1])

    @property
    def json(self) -> Any:
        return jsonlib.loads(self.body) if self.body else None


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str

    def build(self) -> httpx.Response:
        return httpx.Response(
            self.status, content=self.body, headers={"Content-Type": self.content_type}
        )


@dataclass
class Matcher:
    """Which requests a handler answers (pytest-httpserver's RequestMatcher, the parts the
    tests use): a path (or a compiled pattern), a method, a query string (None: any; "": none;
    a dict of arguments; an object with `match(bytes)`) and a JSON body."""

    uri: str | re.Pattern
    method: str = "__ALL"
    query_string: Any = None
    json: Any = ...
    headers: dict[str, str] | None = None

    def match(self, request: Request, headers: httpx.Headers) -> bool:
        if isinstance(self.uri, re.Pattern):
            if not self.uri.fullmatch(request.path):
                return False
        elif self.uri != request.path:
            return False
        if self.method != "__ALL" and self.method != request.method:
            return False
        if self.headers and any(headers.get(k) != v for k, v in self.headers.items()):
            return False
        if not self._query(request):
            return False
        if self.json is not ...:
            try:
                return request.json == self.json
            except ValueError:
                return False
        return True

    def _query(self, request: Request) -> bool:
        q = self.query_string
        if q is None:
            return True
        if isinstance(q, str | bytes):
            return request.query_string == (q.encode() if isinstance(q, str) else q)
        if isinstance(q, dict):
            return request.args.to_dict() == q
        return q.match(request.query_string)

    def __repr__(self) -> str:
        return (
            f"<Matcher uri={self.uri!r} method={self.method!r} "
            f"query_string={self.query_string!r} json={self.json!r}>"
        )


@dataclass
class Handler:
    matcher: Matcher
    response: Response | Callable[[Request], Response] | None = None

    def respond_with_json(
        self, obj: Any, status: int = 200, headers: Any = None, content_type: str | None = None
    ) -> None:
        body = jsonlib.dumps(obj, indent=4).encode()
        self.response = Response(status, body, content_type or "application/json")

    def respond_with_data(
        self,
        data: str | bytes = "",
        status: int = 200,
        headers: Any = None,
        mimetype: str | None = None,
        content_type: str | None = None,
    ) -> None:
        body = data.encode() if isinstance(data, str) else data
        kind = content_type or (mimetype and f"{mimetype}; charset=utf-8")
        self.response = Response(status, body, kind or "text/plain; charset=utf-8")


@dataclass
class Server:
    """A stand-in for pytest-httpserver's HTTPServer, answering through `transport`."""

    handlers: list[Handler] = field(default_factory=list)
    oneshot_handlers: list[Handler] = field(default_factory=list)
    ordered_handlers: list[Handler] = field(default_factory=list)
    log: list[tuple[Request, httpx.Response]] = field(default_factory=list)
    assertions: list[str] = field(default_factory=list)
    handler_errors: list[Exception] = field(default_factory=list)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._answer)

    def url_for(self, suffix: str) -> str:
        return URL + ("" if suffix.startswith("/") or not suffix else "/") + suffix

    def _handler(self, uri: str | re.Pattern, method: str = "__ALL", **matchers: Any) -> Handler:
        known = {"query_string", "json", "headers"}
        assert set(matchers) <= known, f"unsupported matchers: {set(matchers) - known}"
        return Handler(Matcher(uri, method, **matchers))

    def expect_request(self, uri: str | re.Pattern, **matchers: Any) -> Handler:
        handler = self._handler(uri, **matchers)
        self.handlers.append(handler)
        return handler

    def expect_oneshot_request(self, uri: str | re.Pattern, **matchers: Any) -> Handler:
        handler = self._handler(uri, **matchers)
        self.oneshot_handlers.append(handler)
        return handler

    def expect_ordered_request(self, uri: str | re.Pattern, **matchers: Any) -> Handler:
        handler = self._handler(uri, **matchers)
        self.ordered_handlers.append(handler)
        return handler

    def clear(self) -> None:
        self.handlers.clear()
        self.oneshot_handlers.clear()
        self.ordered_handlers.clear()
        self.log.clear()
        self.clear_assertions()
        self.clear_handler_errors()

    def clear_assertions(self) -> None:
        self.assertions.clear()

    def clear_handler_errors(self) -> None:
        self.handler_errors.clear()

    def _answer(self, sent: httpx.Request) -> httpx.Response:
        """As pytest-httpserver dispatches: the next ordered handler, else the first one-shot,
        else the first permanent one that matches; none: 500 and an assertion."""
        request = Request(sent.method, sent.url.path, sent.url.query, sent.read())
        handler = self._pick(request, sent.headers)
        if handler is None or handler.response is None:
            self.assertions.append(f"No handler found for request {request!r}")
            response = httpx.Response(500, text="No handler found for this request")
        else:
            answer = handler.response
            try:
                built = answer(request) if callable(answer) else answer
                response = built.build()
            except Exception as exc:  # as the server's handler errors
                self.handler_errors.append(exc)
                response = httpx.Response(500, text=repr(exc))
        self.log.append((request, response))
        return response

    def _pick(self, request: Request, headers: httpx.Headers) -> Handler | None:
        if self.ordered_handlers:
            if self.ordered_handlers[0].matcher.match(request, headers):
                return self.ordered_handlers.pop(0)
            if any(h.matcher.match(request, headers) for h in self.ordered_handlers[1:]):
                self.assertions.append(f"ordered request out of order: {request!r}")
                return None
        for i, handler in enumerate(self.oneshot_handlers):
            if handler.matcher.match(request, headers):
                return self.oneshot_handlers.pop(i)
        return next((h for h in self.handlers if h.matcher.match(request, headers)), None)
