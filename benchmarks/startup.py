#!/usr/bin/env python3
"""Start-up cost: `flinkctl --version` and `flinkctl cluster overview -o json` vs `python -c pass`.

The overview is served by a local HTTP server replaying a recorded response, so the figure is
flinkctl's own cost plus one loopback round-trip. Prints medians and ratios to the baseline.

    python benchmarks/startup.py [--runs 20]
"""

import argparse
import json
import sys

from _serve import recorded, serve
from _timing import FLINKCTL, median_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    exe = FLINKCTL
    _, url = serve(json.dumps(recorded("overview")).encode())
    cases = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("flinkctl --version", [exe, "--version"]),
        (
            "flinkctl cluster overview -o json",
            [exe, "--url", url, "cluster", "overview", "-o", "json"],
        ),
        ("flinkctl cluster overview (table)", [exe, "--url", url, "cluster", "overview"]),
        ("flinkctl jobs --help", [exe, "jobs", "--help"]),
    ]
    base = None
    print(f"{'command':40} {'median':>9} {'ratio':>7}")
    for label, argv in cases:
        t, _ = median_run(argv, args.runs)
        base = base or t
        print(f"{label:40} {t * 1000:7.1f}ms {t / base:6.1f}x")


if __name__ == "__main__":
    main()
