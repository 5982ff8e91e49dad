"""The benchmarks' stand-in JobManager: a loopback HTTP server answering with recorded bodies.

from _serve import recorded, serve
server, url = serve(json.dumps(recorded("overview")).encode())
"""

import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def recorded(name: str, version: str = "2.3.0") -> Any:
    """The REST body recorded from a real cluster as tests/fixtures/flink-VERSION/NAME.json."""
    return json.loads((FIXTURES / f"flink-{version}" / f"{name}.json").read_text())["body"]


def serve(
    answer: bytes | Callable[[str], bytes], latency: float = 0.0
) -> tuple[ThreadingHTTPServer, str]:
    """A server answering every GET with ANSWER (or ANSWER(path)) after LATENCY seconds.

    HTTP/1.1 keep-alive and no Nagle delay, as against a real JobManager. Returns the server
    (call shutdown() when done) and its URL.
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            time.sleep(latency)
            body = answer(self.path) if callable(answer) else answer
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"
