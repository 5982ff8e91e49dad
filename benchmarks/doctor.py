#!/usr/bin/env python3
"""Doctor: wall time of `flinkctl doctor JOB --sample 0 -o json` on a 50-vertex job at 20 ms.

`doctor --sample 0` reads the job (GET /jobs/:jobid, its numRestarts and exception history),
then fans out: the plan, the checkpoint config and statistics and every vertex's details in one
batch; one reading of every vertex (its per-subtask metrics, then its watermarks) and of its
TaskManagers' GC and heap in the next; then the latest checkpoint and every vertex's subtask
details of it. A threaded http.server on 127.0.0.1, in a process of its own, adds LATENCY to
every request and serves a chain of VERTICES vertices built from the RECORDED demo job
(tests/fixtures/flink-2.3.0): its source vertex, then its sink vertex replicated, each fed by
the one before (the recorded plan node with `inputs[0].id` changed); recorded vertex details,
watermarks, checkpoint config, statistics and details (its `tasks` entry replicated per
vertex), exception history and metric entries, with other ids and values put in the recorded
shapes. The vertices before the middle one (50 vertices: the source and sink copies 1 to 24)
are backpressured and the middle one (copy 25) is busy, so that the verdict (the root named,
the 25 vertices it holds up) shows that every vertex was read.

The real `flinkctl` process runs end to end (start-up included, stdout a pipe), in turns with
the same command on the same interpreter with the client's pool cut to one
(`Base.max_workers = 1`): the same requests, made one at a time (checked: the server counts
them, and refuses to go on if the two differ or a request is one it does not know).
`flinkctl --version` runs in the same rounds: the start-up floor. The server exits when the
benchmark closes its stdin, and after --deadline seconds in any case.

    python benchmarks/doctor.py [--vertices 50] [--latency 0.02] [--runs 5]

Measured on the 2-core development machine (Flink 2.3.0 bodies, parallelism 1 as recorded),
three runs of `--runs 5` (each a median of 5 rounds), one of them:

    50 vertices, 210 requests a run, latency 20 ms per request, median of 5
    process                              wall      cpu
    flinkctl --version (start-up)      0.071s   0.069s
    doctor, pool of 16                 0.616s   0.351s
    doctor, one at a time              4.659s   0.383s
    one at a time / pooled: 7.6x
    floor of one at a time: 210 x 20 ms = 4.2s

Pooled: 0.627s, 0.616s, 0.621s (target: 1.5 s); one at a time: 4.72s, 4.66s, 4.63s (7.5x).
The pooled floor is about 20 round-trips (400 ms): three reads of the job before the fan-out,
four pool-fulls of the first batch, four of the reading (two requests each: metrics, then
watermarks), the checkpoint and four pool-fulls of its subtask details; the rest is start-up,
imports and CPU (0.35 s).
"""

import argparse
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from _serve import recorded
from _timing import FLINKCTL, side_by_side

AGE_MS = 900_000  # the job as if asked 15 minutes after it started RUNNING: old enough to judge
BUSY, BACKPRESSURED = "busyTimeMsPerSecond", "backPressuredTimeMsPerSecond"
RECORDS_IN, RECORDS_OUT = "numRecordsInPerSecond", "numRecordsOutPerSecond"


def ids() -> dict[str, str]:
    """The ids the recorded bodies were recorded with (tests/fixtures/flink-2.3.0/ids.json)."""
    from _serve import FIXTURES

    return json.loads((FIXTURES / "flink-2.3.0" / "ids.json").read_text())


def chain(vertices: int) -> tuple[list[dict], dict]:
    """The recorded job's vertices turned into a chain of VERTICES: its source vertex, then
    its sink vertex replicated (ids and names changed); and the recorded plan to match."""
    job, plan = recorded("job"), recorded("job-plan")
    source, sink = job["vertices"]
    nodes = {n["id"]: n for n in plan["plan"]["nodes"]}
    sink_node, source_node = nodes[sink["id"]], nodes[source["id"]]
    found, plan_nodes = [source], [source_node]
    for i in range(1, vertices):
        vid = f"{i:032x}"
        found.append({**sink, "id": vid, "name": f"{sink['name']} #{i}"})
        node = copy.deepcopy(sink_node)
        node["id"] = vid
        node["inputs"][0]["id"] = found[i - 1]["id"]
        plan_nodes.append(node)
    return found, {"plan": {**plan["plan"], "nodes": plan_nodes}}


def load(index: int, bottleneck: int) -> dict[str, float]:
    """Vertex INDEX's subtask-0 metrics: the source and the copies before the bottleneck
    backpressured, the bottleneck busy, the copies after it idle; 95 records a second (the
    recorded throttle's rate) through all of them."""
    if index == bottleneck:
        busy, pressed = 950, 0
    elif index < bottleneck:
        busy, pressed = 80, 900
    else:
        busy, pressed = 9, 0
    return {BUSY: busy, BACKPRESSURED: pressed, RECORDS_IN: 0 if index == 0 else 95,
            RECORDS_OUT: 95}  # fmt: skip


def answers(vertices: int) -> tuple[str, dict[str, Any], dict[str, dict[str, float]]]:
    """The job id; every path doctor asks for, with its recorded (mutated) body; and each
    vertex metrics path with the values it serves (in the recorded entry shape, per `get=`)."""
    known = ids()
    jid, cid, tmid = known["jobid"], known["checkpointid"], known["tmid"]
    job = recorded("job")
    job_vertices, plan = chain(vertices)
    job.update(vertices=job_vertices, plan=plan["plan"], now=job["timestamps"]["RUNNING"] + AGE_MS)
    stats = recorded("checkpoints")
    stats["latest"]["completed"]["id"] = int(cid)  # the checkpoint with recorded details
    checkpoint = recorded("checkpoint")
    task = checkpoint["tasks"][known["vertexid"]]
    checkpoint["tasks"] = {v["id"]: task for v in job_vertices}
    checkpoint["num_subtasks"] = checkpoint["num_acknowledged_subtasks"] = vertices
    marks = recorded("vertex-watermarks")  # the recorded lag behind the recorded `now`
    lag = recorded("job")["now"] - int(marks[0]["value"])
    marks[0]["value"] = str(job["now"] - lag)
    tm_entry = recorded("taskmanager-metrics-cpu")[0]
    tm = [{**tm_entry, "id": k, "value": str(v)} for k, v in (
        ("Status.JVM.GarbageCollector.All.TimeMsPerSecond", 2),
        ("Status.JVM.Memory.Heap.Used", 200_000_000),
        ("Status.JVM.Memory.Heap.Max", 1_000_000_000),
    )]  # fmt: skip
    base = f"/jobs/{jid}"
    found: dict[str, Any] = {
        base: job,
        f"{base}/metrics": recorded("job-metrics-values"),
        f"{base}/exceptions": recorded("job-exceptions"),
        f"{base}/plan": plan,
        f"{base}/checkpoints/config": recorded("checkpoints-config"),
        f"{base}/checkpoints": stats,
        f"{base}/checkpoints/details/{cid}": checkpoint,
        f"/taskmanagers/{tmid}/metrics": tm,
    }
    metrics = {}
    vertex = recorded("vertex")
    for index, v in enumerate(job_vertices):
        path = f"{base}/vertices/{v['id']}"
        found[path] = {**vertex, "id": v["id"], "name": v["name"]}
        found[f"{path}/watermarks"] = marks
        found[f"{base}/checkpoints/details/{cid}/subtasks/{v['id']}"] = recorded(
            "checkpoint-vertex"
        )
        metrics[f"{path}/metrics"] = {
            f"0.{name}": x for name, x in load(index, vertices // 2).items()
        }
    return jid, found, metrics


SERVER = """
import json, os, sys, threading
from urllib.parse import parse_qs, unquote, urlsplit
sys.path.insert(0, sys.argv[4])
from _serve import recorded, serve
from doctor import answers
jid, found, metrics = answers(int(sys.argv[1]))
bodies = {path: json.dumps(body).encode() for path, body in found.items()}
entry = recorded("vertex-metrics-records")[0]
seen, unknown, lock = [0], [], threading.Lock()

def answer(target):
    url = urlsplit(target)
    path = unquote(url.path)  # a TaskManager id's ':' comes as %3A
    with lock:
        seen[0] += 1
    if path in metrics:
        values = metrics[path]
        wanted = parse_qs(url.query).get("get", [""])[0].split(",")
        body = [{**entry, "id": w, "value": str(values[w])} for w in wanted if w in values]
        return json.dumps(body).encode()
    if path in bodies:
        return bodies[path]
    with lock:
        unknown.append(target)
    return b"{}"

server, url = serve(answer, float(sys.argv[2]))
threading.Timer(float(sys.argv[3]), os._exit, (0,)).start()  # stops by itself in any case
print(url, jid, flush=True)
for line in sys.stdin:  # each line: how many requests since the last line, and the unknown
    with lock:
        print(json.dumps({"requests": seen[0], "unknown": unknown}), flush=True)
        seen[0] = 0
        unknown.clear()
os._exit(0)  # stdin closed: the benchmark is done with it
"""


def served(vertices: int, latency: float, deadline: float) -> tuple[subprocess.Popen, str, str]:
    """A server process (its own interpreter: the client measured does not share its CPU time
    and lock) answering for a chain of VERTICES vertices; its URL and the job's id."""
    here = str(Path(__file__).resolve().parent)
    argv = [sys.executable, "-c", SERVER, str(vertices), str(latency), str(deadline), here]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    url, jid = proc.stdout.readline().split()  # type: ignore[union-attr]
    return proc, url, jid


def counted(server: subprocess.Popen) -> dict[str, Any]:
    """The requests the server answered since the last call, and those it did not know."""
    server.stdin.write("\n")  # type: ignore[union-attr]
    server.stdin.flush()  # type: ignore[union-attr]
    return json.loads(server.stdout.readline())  # type: ignore[union-attr]


# the same flinkctl, on the interpreter the benchmark runs on, with the pool cut to one
ONE_AT_A_TIME = """
import sys
from flinkctl.client.base import Base
Base.max_workers = 1
sys.argv[0] = "flinkctl"
from flinkctl.cli import entry
entry()
"""


def checked(argv: list[str], server: subprocess.Popen, vertices: int, timeout: float) -> int:
    """Run ARGV once (the warm-up): it exits 0 and names the bottleneck; the requests it made."""
    counted(server)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if proc.returncode:
        raise SystemExit(f"{argv[-5:]} exited {proc.returncode}: {proc.stderr}")
    report = json.loads(proc.stdout)
    top = report["findings"][0]
    if len(report["vertices"]) != vertices or top["rule"] != "backpressure":
        raise SystemExit(f"unexpected report: {len(report['vertices'])} vertices, {top}")
    if len(top["evidence"].get("holds-up", [])) != vertices // 2:
        raise SystemExit(f"the bottleneck holds up {len(top['evidence']['holds-up'])}")
    seen = counted(server)
    if seen["unknown"]:
        raise SystemExit(f"requests the server does not know: {seen['unknown'][:5]}")
    return seen["requests"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vertices", type=int, default=50)
    parser.add_argument(
        "--latency", type=float, default=0.02, help="seconds added to every request"
    )
    parser.add_argument("--runs", type=int, default=5, help="rounds (median)")
    parser.add_argument(
        "--deadline", type=float, default=300.0, help="the server exits after these seconds"
    )
    args = parser.parse_args()
    if not 2 <= args.vertices <= 500 or not 1 <= args.runs <= 50:
        parser.error("--vertices 2..500, --runs 1..50")
    from flinkctl.client.base import Base

    server, url, jid = served(args.vertices, args.latency, args.deadline)
    try:
        doctor = ["--url", url, "doctor", jid, "--sample", "0", "-o", "json"]
        pooled = [FLINKCTL, *doctor]
        sequential = [sys.executable, "-c", ONE_AT_A_TIME, *doctor]
        requests = checked(pooled, server, args.vertices, args.deadline)
        if checked(sequential, server, args.vertices, args.deadline) != requests:
            raise SystemExit("the two runs did not make the same requests")
        cases = [
            ("flinkctl --version (start-up)", [FLINKCTL, "--version"]),
            (f"doctor, pool of {Base.max_workers}", pooled),
            ("doctor, one at a time", sequential),
        ]
        wall, cpu = side_by_side([argv for _, argv in cases], args.runs)
    finally:
        server.stdin.close()  # type: ignore[union-attr]
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    print(
        f"{args.vertices} vertices, {requests} requests a run, latency "
        f"{args.latency * 1000:.0f} ms per request, median of {args.runs}"
    )
    print(f"{'process':<32} {'wall':>8} {'cpu':>8}")
    for (label, _), w, c in zip(cases, wall, cpu, strict=True):
        print(f"{label:<32} {w:>7.3f}s {c:>7.3f}s")
    print(f"one at a time / pooled: {wall[2] / wall[1]:.1f}x")
    print(f"floor of one at a time: {requests} x {args.latency * 1000:.0f} ms = "
          f"{requests * args.latency:.2f}s")  # fmt: skip


if __name__ == "__main__":
    main()
