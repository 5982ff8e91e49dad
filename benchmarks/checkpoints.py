#!/usr/bin/env python3
"""Benchmark `flinkctl checkpoints list` over a long checkpoint history.

A recorded GET /jobs/:jobid/checkpoints body (tests/fixtures/flink-<version>/checkpoints.json)
gets its first history entry replicated N times (ids renumbered), is served by a local HTTP
server, and the real CLI renders it in-process in each output format, piped and on a (forced)
terminal. Prints the best of R runs per case, in milliseconds.

    benchmarks/checkpoints.py                    # 10,000 entries, 2.3.0 recording
    benchmarks/checkpoints.py --entries 50000 --version 1.20.5
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def long_history(version: str, entries: int) -> tuple[str, bytes]:
    """(job id, the recorded checkpoints body with ENTRIES history entries) as JSON bytes."""
    record = json.loads((FIXTURES / f"flink-{version}" / "checkpoints.json").read_text())
    job_id = json.loads((FIXTURES / f"flink-{version}" / "ids.json").read_text())["jobid"]
    body = record["body"]
    entry = body["history"][0]
    body["history"] = [dict(entry, id=entry["id"] + entries - i) for i in range(entries)]
    return job_id, json.dumps(body).encode()


def serve(payload: bytes) -> ThreadingHTTPServer:
    """A local server answering every GET with PAYLOAD."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_cli(argv: list[str], tty: bool) -> float:
    """Seconds one in-process `flinkctl ARGV` takes, stdout discarded."""
    from flinkctl.cli import main as main_module
    from flinkctl.cli.errors import run
    from flinkctl.cli.state import state
    from flinkctl.output.render import settings

    settings.__init__()
    state.__init__()
    os.environ["FLINKCTL_FORCE_TTY"] = "1" if tty else "0"
    os.environ["COLUMNS"] = "200"
    sink = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(sink):
        code = run(main_module.app, argv)
    elapsed = time.perf_counter() - start
    if code != 0:
        sys.exit(f"flinkctl {' '.join(argv)} exited {code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--version", default="2.3.0", help="which recording to replicate")
    parser.add_argument("--runs", type=int, default=5, help="best of this many runs")
    args = parser.parse_args()

    job_id, payload = long_history(args.version, args.entries)
    server = serve(payload)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    print(
        f"checkpoints list: {args.entries:,} history entries ({len(payload) / 1e6:.1f} MB of JSON), "
        f"Flink {args.version} recording, best of {args.runs}"
    )
    for fmt, tty in (
        ("table", False),
        ("table", True),
        ("wide", False),
        ("wide", True),
        ("name", False),
        ("json", False),
        ("yaml", False),
    ):
        argv = ["--url", url, "checkpoints", "list", job_id, "-o", fmt]
        best = min(run_cli(argv, tty) for _ in range(args.runs))
        where = "terminal" if tty else "piped"
        print(f"  -o {fmt:<5} {where:<8} {best * 1000:8.0f} ms")
    server.shutdown()


if __name__ == "__main__":
    main()
