#!/usr/bin/env python3
"""Start-up cost: `flinkctl --version` and `flinkctl cluster overview -o json` vs `python -c pass`.

The overview is served by a local HTTP server replaying a recorded response, so the figure is
flinkctl's own cost plus one loopback round-trip. Prints medians and ratios to the baseline.

    python benchmarks/startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURE = Path(__file__).parent.parent / "tests/fixtures/flink-2.3.0/overview.json"


def serve() -> str:
    """Serve the recorded /overview on a free loopback port; return the URL."""
    body = json.dumps(json.loads(FIXTURE.read_text())["body"]).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def median_seconds(argv: list[str], runs: int) -> float:
    """Median wall time of RUNS runs of ARGV (after one warm-up)."""
    subprocess.run(argv, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    exe = shutil.which("flinkctl") or sys.exit("flinkctl is not on PATH")
    url = serve()
    cases = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("flinkctl --version", [exe, "--version"]),
        ("flinkctl cluster overview -o json", [exe, "--url", url, "cluster", "overview", "-o", "json"]),
        ("flinkctl cluster overview (table)", [exe, "--url", url, "cluster", "overview"]),
        ("flinkctl jobs --help", [exe, "jobs", "--help"]),
    ]
    base = None
    print(f"{'command':40} {'median':>9} {'ratio':>7}")
    for label, argv in cases:
        t = median_seconds(argv, args.runs)
        base = base or t
        print(f"{label:40} {t * 1000:7.1f}ms {t / base:6.1f}x")


if __name__ == "__main__":
    main()
