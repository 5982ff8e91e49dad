#!/usr/bin/env python3
"""Start-up cost: `flinkctl jobs list -o json` against its floors, side by side in one run.

A local HTTP server replays the recorded GET /jobs/overview, so every figure is a process's own
cost plus one loopback round-trip. The floors: a bare-Python script making the same request with
urllib, and one that imports typer and httpx and makes it with httpx, with and without loading
the CA bundle (flinkctl loads none for http://): the latter is what flinkctl cannot go below
while it stays on Typer and httpx. The commands run in turns, one of each per round, and the
medians of wall and CPU time are printed with their ratios to the urllib script. FLINKCTL_EXE
picks the flinkctl measured (e.g. a non-editable install, as users install it); --compare EXE
runs another build's `jobs list -o json` and `--version` in the same rounds.

    python benchmarks/startup.py [--runs 20]
"""

import argparse
import json
import sys
from pathlib import Path

from _serve import recorded, serve
from _timing import FLINKCTL, side_by_side

URLLIB = """
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/jobs/overview") as r:
    print(json.dumps(json.load(r), indent=2))
"""
TYPER_HTTPX = """
import json, sys, typer, httpx
print(json.dumps(httpx.get(sys.argv[1] + "/jobs/overview").json(), indent=2))
"""
# httpx.get loads the CA bundle even for http://; flinkctl builds no SSL context for http://
TYPER_HTTPX_NO_CA = TYPER_HTTPX.replace("httpx.get(", "httpx.Client(verify=False).get(")
FLOOR = "  the same, no CA bundle (floor)"
JOBS_JSON = "flinkctl jobs list -o json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--compare", metavar="EXE", help="another flinkctl build to run alongside")
    args = parser.parse_args()
    exe = FLINKCTL
    _, url = serve(json.dumps(recorded("jobs-overview")).encode())
    other = [args.compare] if args.compare else []
    # the floors run on flinkctl's own interpreter (its site-packages, its start-up)
    beside = Path(exe).with_name("python")
    python = str(beside) if beside.exists() else sys.executable
    cases = [
        ("urllib script (baseline)", [python, "-c", URLLIB, url]),
        ("python -c pass", [python, "-c", "pass"]),
        ("import typer, httpx + request", [python, "-c", TYPER_HTTPX, url]),
        (FLOOR, [python, "-c", TYPER_HTTPX_NO_CA, url]),
        (JOBS_JSON, [exe, "--url", url, "jobs", "list", "-o", "json"]),
        *[
            ("  the --compare build", [o, "--url", url, "jobs", "list", "-o", "json"])
            for o in other
        ],
        ("flinkctl jobs list (table)", [exe, "--url", url, "jobs", "list"]),
        ("flinkctl --version", [exe, "--version"]),
        *[("  the --compare build", [o, "--version"]) for o in other],
        ("flinkctl jobs --help", [exe, "jobs", "--help"]),
    ]
    wall, cpu = side_by_side([argv for _, argv in cases], args.runs)
    print(f"{'command':40} {'wall':>9} {'ratio':>6} {'cpu':>9} {'ratio':>6}")
    for (label, _), t, c in zip(cases, wall, cpu, strict=True):
        print(
            f"{label:40} {t * 1000:7.1f}ms {t / wall[0]:5.2f}x {c * 1000:7.1f}ms {c / cpu[0]:5.2f}x"
        )
    labels = [label for label, _ in cases]
    for name, medians in (("wall", wall), ("cpu", cpu)):
        floor = medians[labels.index(FLOOR)]
        own = medians[labels.index(JOBS_JSON)] - floor
        print(
            f"flinkctl's own cost above the floor ({name}): {own * 1000:.1f}ms ({own / floor:+.0%})"
        )


if __name__ == "__main__":
    main()
