#!/usr/bin/env python3
"""Fan-out: wall time of `flinkctl jobs show` as the job grows from 1 to 200 vertices.

`jobs show` sends GET /jobs/:jobid, then one GET .../vertices/:vertexid/subtasks/metrics per
vertex through the client's bounded pool (FlinkClient.fan_out). A threaded http.server on
127.0.0.1, in a process of its own, adds LATENCY to every request and serves a synthetic job built by replicating the
RECORDED sink vertex of the demo job (tests/fixtures/flink-2.3.0/job.json) and its recorded
busy/backpressure metrics. Each size runs the whole command in-process (output discarded),
in turns with the pool and with a pool of --pool (default 1: the sequential baseline).

    python benchmarks/fanout.py [--latency 0.02] [--runs 3] [--sizes 200 --pool 8]

Measured on the 2-core development machine (20 ms latency, pool of 8):

    vertices requests    pooled  sequential  speed-up
           1        2    0.092s      0.090s      1.0x
          10       11    0.119s      0.285s      2.4x
          25       26    0.160s      0.618s      3.9x
          50       51    0.228s      1.166s      5.1x
         100      101    0.363s      2.254s      6.2x
         200      201    0.643s      4.520s      7.0x

With the pool of 16 and the server in its own process (load average ~9 on the 2 cores):

    vertices requests    pooled  sequential  speed-up
          50       51    0.278s      1.272s      4.6x
         100      101    0.356s      2.672s      7.5x
         200      201    0.612s      5.417s      8.9x

(`--sizes 200 --pool 8` in the same conditions: 0.515s with 16, 0.794s with 8.)
Pooled time grows by about one latency per pool-full of vertices (200 vertices, pool of 8: 25
rounds of 20 ms plus rendering), sequential by one latency per vertex.
"""

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from _serve import recorded
from _timing import in_process

SIZES = (1, 10, 25, 50, 100, 200)


def synthetic_job(vertices: int) -> dict:
    """The recorded demo job with its recorded sink vertex replicated VERTICES times."""
    job = recorded("job")
    sink = job["vertices"][-1]
    copies = [{**sink, "id": f"{i:032x}", "name": f"{sink['name']} #{i}"} for i in range(vertices)]
    return {**job, "vertices": copies}


SERVER = """
import json, sys
sys.path.insert(0, sys.argv[3])
from _serve import recorded, serve
from fanout import synthetic_job
job = json.dumps(synthetic_job(int(sys.argv[1]))).encode()
metrics = json.dumps(recorded("job-busy-sink")).encode()
server, url = serve(lambda path: metrics if "/vertices/" in path else job, float(sys.argv[2]))
print(url, flush=True)
sys.stdin.read()  # until the benchmark is done with it
"""


def served(vertices: int, latency: float) -> tuple[subprocess.Popen, str]:
    """A server process (its own interpreter: the client measured does not share its CPU time
    and lock) answering for a synthetic job of VERTICES vertices; and its URL."""
    here = str(Path(__file__).resolve().parent)
    argv = [sys.executable, "-c", SERVER, str(vertices), str(latency), here]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()  # type: ignore[union-attr]


def run_show(url: str, job_id: str, workers: int) -> float:
    """Wall seconds of one in-process `flinkctl jobs show JOB` with a pool of WORKERS."""
    from flinkctl.client.base import Base

    Base.max_workers = workers
    return in_process(["--url", url, "jobs", "show", job_id])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--latency", type=float, default=0.02, help="seconds added to every request"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per size (median)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="vertex counts")
    parser.add_argument(
        "--pool", type=int, default=1, help="the pool to compare with (1: sequential)"
    )
    args = parser.parse_args()
    from flinkctl.client.base import Base

    pool = Base.max_workers
    print(
        f"latency {args.latency * 1000:.0f} ms per request, pool of {pool}, median of {args.runs}"
    )
    other = "sequential" if args.pool == 1 else f"pool of {args.pool}"
    print(f"{'vertices':>8} {'requests':>8} {'pooled':>9} {other:>11} {'speed-up':>9}")
    try:
        for size in map(int, args.sizes.split(",")):
            server, url = served(size, args.latency)
            jid = synthetic_job(size)["jid"]
            run_show(url, jid, pool)  # warm-up: imports, connections
            pooled_runs, other_runs = [], []
            for _ in range(args.runs):  # in turns, so that the machine's load weighs on both
                pooled_runs.append(run_show(url, jid, pool))
                other_runs.append(run_show(url, jid, args.pool))
            pooled, sequential = statistics.median(pooled_runs), statistics.median(other_runs)
            speedup = sequential / pooled
            print(f"{size:>8} {size + 1:>8} {pooled:>8.3f}s {sequential:>10.3f}s {speedup:>8.1f}x")
            server.stdin.close()  # type: ignore[union-attr]
            server.wait()
    finally:
        Base.max_workers = pool


if __name__ == "__main__":
    main()
