"""How the benchmarks measure: a real `flinkctl` process, or the CLI run in-process."""

import io
import os
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

# the flinkctl measured: $FLINKCTL_EXE (e.g. to compare two builds), else the one next to the
# Python running the benchmark, else the one on PATH
_BESIDE = Path(sys.executable).with_name("flinkctl")
FLINKCTL = os.environ.get("FLINKCTL_EXE") or (
    str(_BESIDE) if _BESIDE.exists() else shutil.which("flinkctl") or "flinkctl"
)


def median_run(argv: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Median wall seconds of RUNS runs of ARGV, stdout a pipe (after a warm-up run); and the
    bytes it printed."""
    size = len(subprocess.run(argv, env=env, check=True, capture_output=True).stdout)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), size


def side_by_side(argvs: list[list[str]], runs: int) -> tuple[list[float], list[float]]:
    """Median wall seconds and median CPU seconds (user + system) of each of ARGVS, run in
    turns (one of each per round, after a warm-up round) so that a machine's changing load
    weighs on all of them alike. CPU time wanders less than wall time on a shared machine."""
    wall: list[list[float]] = [[] for _ in argvs]
    cpu: list[list[float]] = [[] for _ in argvs]
    for round_ in range(runs + 1):
        for argv, walls, cpus in zip(argvs, wall, cpu, strict=True):
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            if status:
                raise subprocess.CalledProcessError(os.waitstatus_to_exitcode(status), argv)
            if round_:
                walls.append(time.perf_counter() - start)
                cpus.append(usage.ru_utime + usage.ru_stime)
    return [statistics.median(s) for s in wall], [statistics.median(s) for s in cpu]


def in_process(argv: list[str]) -> float:
    """Wall seconds of one in-process `flinkctl ARGV` (fresh options, stdout discarded)."""
    from flinkctl.cli import main as main_module
    from flinkctl.cli.common.failures import run

    start = time.perf_counter()
    with redirect_stdout(io.StringIO()):
        code = run(main_module.app, argv)
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"flinkctl {' '.join(argv)} exited {code}")
    return elapsed
