#!/usr/bin/env python3
"""Large results: `flinkctl jobs list` over 10,000 jobs, piped and as json.

A loopback http.server serves /jobs/overview with the RECORDED demo job entry
(tests/fixtures/flink-2.3.0/jobs-overview.json) replicated under 10,000 ids. Reports the median
wall time of the real `flinkctl` process (start-up, request and rendering, stdout a pipe) per
output format, `flinkctl --version` as the start-up baseline, and the in-process rendering
time alone.

    python benchmarks/large.py [--jobs 10000] [--runs 5] [--only terminal]

Measured on the 2-core development machine (10,000 jobs, 4.5 MB of JSON):

    process                                wall    output
    flinkctl --version (start-up)        0.145s    0.00MB
    jobs list | (table, piped)           0.407s    0.90MB
    jobs list -o wide |                  0.402s    1.20MB
    jobs list -o json |                  0.506s    6.23MB
    jobs list -o name --sort name |      0.334s    0.33MB
    jobs list -s RUNNING -o yaml |       1.606s    1.10MB
    rendering only (in-process)            wall
      table                              0.066s
      wide                               0.083s
      json                               0.166s
      name                               0.003s

YAML was the slow one: PyYAML represents every scalar in Python (2,500 jobs in 1.6 s). flinkctl
now writes plain data itself, byte for byte as PyYAML would (output/yamltext.py): in one loaded
run (load average ~9) `-s RUNNING -o yaml` took 2.77 s before and 0.89 s after.
"""

import argparse
import json
import os
import statistics
import time

from _serve import recorded, serve
from _timing import FLINKCTL, median_run

TERMINAL = {"FLINKCTL_FORCE_TTY": "1", "COLUMNS": "120"}  # laid out as on a terminal


def overview(jobs: int) -> dict:
    """The recorded overview with its first job entry replicated JOBS times."""
    body = recorded("jobs-overview")
    entry = body["jobs"][0]
    states = ("RUNNING", "FINISHED", "CANCELED", "FAILED")
    return {
        **body,
        "jobs": [
            {
                **entry,
                "jid": f"{i:032x}",
                "name": f"{entry['name']}-{i}",
                "state": states[i % 4],
                "start-time": entry["start-time"] - i * 1000,
            }
            for i in range(jobs)
        ],
    }


def render_seconds(body: dict, fmt: str, runs: int) -> float:
    from flinkctl.output.jobs import JOBS
    from flinkctl.output.render import Settings, render
    from flinkctl.output.streams import IO

    terminal = os.environ.get("FLINKCTL_FORCE_TTY") == "1"
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        render(body, JOBS, Settings(format=fmt), IO.strings(out_is_terminal=terminal))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="", help="run the cases whose label contains this")
    args = parser.parse_args()
    exe = FLINKCTL
    body = overview(args.jobs)
    raw = json.dumps(body).encode()
    exceptions = json.dumps(recorded("job-exceptions")).encode()  # -o wide: one per job
    _, url = serve(lambda path: raw if path.startswith("/jobs/overview") else exceptions)
    print(f"{args.jobs:,} jobs, {len(raw) / 1e6:.1f} MB of JSON; median of {args.runs} runs")
    cases = [
        ("flinkctl --version (start-up)", [exe, "--version"]),
        ("jobs list | (table, piped)", [exe, "--url", url, "jobs", "list"]),
        ("jobs list (table, terminal 120)", [exe, "--url", url, "jobs", "list"], TERMINAL),
        ("jobs list -o wide |", [exe, "--url", url, "jobs", "list", "-o", "wide"]),
        ("jobs list -o json |", [exe, "--url", url, "jobs", "list", "-o", "json"]),
        (
            "jobs list -o name --sort name |",
            [exe, "--url", url, "jobs", "list", "-o", "name", "--sort", "name"],
        ),
        (
            "jobs list -s RUNNING -o yaml |",
            [exe, "--url", url, "jobs", "list", "-s", "RUNNING", "-o", "yaml"],
        ),
    ]
    print(f"{'process':34} {'wall':>8} {'output':>9}")
    for label, argv, *env in (c for c in cases if args.only in c[0]):
        seconds, size = median_run(argv, args.runs, {**os.environ, **env[0]} if env else None)
        print(f"{label:34} {seconds:7.3f}s {size / 1e6:7.2f}MB")
    print(f"{'rendering only (in-process)':34} {'wall':>8}")
    for fmt in ("table", "wide", "json", "name"):
        print(f"{'  ' + fmt:34} {render_seconds(body, fmt, args.runs):7.3f}s")


if __name__ == "__main__":
    main()
