"""Wall time of one shell-completion request, as a ratio to `python -c pass`.

Each TAB runs flinkctl once, so this is the latency a user feels. Run with the project's Python:

    python benchmarks/completion.py [-n RUNS]
"""

import argparse
import os
import socket
import sys
import tempfile
from pathlib import Path

from _timing import FLINKCTL, median_run


def timed(argv: list[str], env: dict[str, str], runs: int) -> float:
    """Median wall time in ms over RUNS (after one warm-up run)."""
    return median_run(argv, runs, env)[0] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=20)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp, socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        config = Path(tmp) / "config.yaml"
        config.write_text("contexts:\n  prod: {url: 'http://localhost:8081'}\n")
        env = {**os.environ, "FLINKCTL_CONFIG": str(config), "_FLINKCTL_COMPLETE": "complete_bash"}
        cases = {
            "flinkctl jo<TAB>": "flinkctl jo",
            "flinkctl config use-context <TAB>": "flinkctl config use-context ",
            "flinkctl tm show <TAB> (refused)": (
                f"flinkctl --url http://127.0.0.1:{closed.getsockname()[1]} tm show "
            ),
        }
        base = timed([sys.executable, "-c", "pass"], dict(os.environ), runs)
        print(f"{'python -c pass':40} {base:7.1f} ms   1.0x")
        for name, line in cases.items():
            ms = timed([FLINKCTL], {**env, "_TYPER_COMPLETE_ARGS": line}, runs)
            print(f"{name:40} {ms:7.1f} ms {ms / base:5.1f}x")


if __name__ == "__main__":
    main()
