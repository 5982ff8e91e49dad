#!/usr/bin/env python3
"""Benchmark `flinkctl checkpoints list` over a long checkpoint history.

A recorded GET /jobs/:jobid/checkpoints body (tests/fixtures/flink-<version>/checkpoints.json)
gets its first history entry replicated N times (ids renumbered), is served by a local HTTP
server, and the real CLI renders it in-process in each output format, piped and on a (forced)
terminal. Prints the best of R runs per case, in milliseconds.

    benchmarks/checkpoints.py                    # 10,000 entries, 2.3.0 recording
    benchmarks/checkpoints.py --entries 50000 --version 1.20.5
"""

import argparse
import json
import os

from _serve import FIXTURES, recorded, serve
from _timing import in_process


def long_history(version: str, entries: int) -> tuple[str, bytes]:
    """(job id, the recorded checkpoints body with ENTRIES history entries) as JSON bytes."""
    job_id = json.loads((FIXTURES / f"flink-{version}" / "ids.json").read_text())["jobid"]
    body = recorded("checkpoints", version)
    entry = body["history"][0]
    body["history"] = [dict(entry, id=entry["id"] + entries - i) for i in range(entries)]
    return job_id, json.dumps(body).encode()


def run_cli(argv: list[str], tty: bool) -> float:
    """Seconds one in-process `flinkctl ARGV` takes, stdout discarded, on a (forced) terminal
    with TTY."""
    os.environ["FLINKCTL_FORCE_TTY"] = "1" if tty else "0"
    os.environ["COLUMNS"] = "200"
    return in_process(argv)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--version", default="2.3.0", help="which recording to replicate")
    parser.add_argument("--runs", type=int, default=5, help="best of this many runs")
    args = parser.parse_args()

    job_id, payload = long_history(args.version, args.entries)
    server, url = serve(payload)
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
