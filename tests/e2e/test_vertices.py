"""vertices / subtasks / checkpoints commands against the real demo job (see conftest.py)."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest

from .conftest import eventually


def run_json(local_flink, *args: str):
    code, out, err = local_flink.run(*args, "-o", "json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def demo(local_flink):
    """(job id, source vertex, sink vertex) of the running demo job, once checkpoints exist."""
    jid = local_flink.demo_job_id
    job = run_json(local_flink, "vertices", "list", jid)
    source, sink = job["vertices"][0], job["vertices"][-1]
    eventually(
        lambda: run_json(local_flink, "checkpoints", "list", jid)["counts"],
        lambda counts: counts["completed"] >= 2,
        what="two completed checkpoints",
    )
    eventually(
        lambda: run_json(local_flink, "subtasks", "metrics", jid, sink["id"], "0"),
        what="the sink's subtask metrics",
    )
    return jid, source, sink


def test_vertices_list_and_show(local_flink, demo):
    jid, source, sink = demo
    code, out, err = local_flink.run("vertices", "list", "flinkctl-demo")
    assert code == 0, err
    assert source["name"] in out and sink["name"] in out
    code, out, err = local_flink.run("vertices", "list", "flinkctl-demo", "-o", "name")
    assert out.split() == [source["id"], sink["id"]]
    shown = run_json(local_flink, "vertices", "show", jid, sink["name"])
    assert shown["id"] == sink["id"]
    assert [s["subtask"] for s in shown["subtasks"]] == list(range(sink["parallelism"]))
    code, out, err = local_flink.run("vertices", "show", jid, sink["id"][:6], "-o", "wide")
    assert code == 0, err
    assert "TASK MANAGER" in out and "RUNNING" in out


def test_backpressure_of_one_and_of_every_vertex(local_flink, demo):
    jid, source, sink = demo
    body = run_json(local_flink, "vertices", "backpressure", jid, sink["id"])
    assert body["status"] == "ok"
    assert {s["backpressureLevel"] for s in body["subtasks"]} <= {"ok", "low", "high"}
    every = run_json(local_flink, "vertices", "backpressure", "flinkctl-demo")
    assert every["jid"] == jid
    assert [v["id"] for v in every["vertices"]] == [source["id"], sink["id"]]
    code, out, err = local_flink.run("vertices", "backpressure", "flinkctl-demo")
    assert code == 0, err
    assert out.splitlines()[0].split("\t")[:3] == ["VERTEX", "SUBTASK", "LEVEL"]


def test_backpressure_watch_streams_json_lines_until_interrupted(local_flink, demo):
    jid, _, sink = demo
    args = [local_flink.exe, "vertices", "backpressure", jid, sink["id"], "-w", "0.5", "-o", "json"]
    proc = subprocess.Popen(
        args, env=local_flink.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        lines = [proc.stdout.readline() for _ in range(2)]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 130, proc.stderr.read()
    assert all(json.loads(line)["status"] == "ok" for line in lines)


def test_vertex_metrics(local_flink, demo):
    jid, _, sink = demo
    names = run_json(local_flink, "vertices", "metrics", jid, sink["id"])
    assert {"id": "0.numRecordsIn"} in names
    values = run_json(
        local_flink, "vertices", "metrics", jid, sink["id"], "--get", "0.numRecordsIn*"
    )
    assert {m["id"] for m in values} == {"0.numRecordsIn", "0.numRecordsInPerSecond"}
    agg = run_json(
        local_flink,
        "vertices",
        "metrics",
        jid,
        sink["id"],
        "--get",
        "numRecordsIn",
        "--agg",
        "min,max",
    )
    assert agg[0]["id"] == "numRecordsIn" and agg[0]["max"] >= agg[0]["min"] > 0
    code, out, err = local_flink.run(
        "vertices", "metrics", jid, sink["id"], "--get", "numRecordsIn", "--subtasks", "0"
    )
    assert code == 0, err
    assert out.splitlines()[0] == "METRIC\tMIN\tMAX\tAVG\tSUM\tSKEW"


def test_jm_operator_metrics_of_the_source_coordinator(local_flink, demo):
    jid, source, _ = demo
    names = eventually(
        lambda: run_json(local_flink, "vertices", "jm-operator-metrics", jid, source["id"]),
        what="the source coordinator's metrics",
    )
    assert any(m["id"].endswith("unassignedSplits") for m in names)
    values = run_json(
        local_flink,
        "vertices",
        "jm-operator-metrics",
        jid,
        source["id"],
        "--get",
        "*unassignedSplits",
    )
    assert [m["value"] for m in values] == ["0"]


def test_accumulators(local_flink, demo):
    jid, _, sink = demo
    assert run_json(local_flink, "vertices", "accumulators", jid, sink["id"]) == {
        "id": sink["id"],
        "user-accumulators": [],
    }
    per_subtask = run_json(local_flink, "vertices", "accumulators", jid, sink["id"], "--subtasks")
    assert [s["subtask"] for s in per_subtask["subtasks"]] == list(range(sink["parallelism"]))
    code, out, _ = local_flink.run("vertices", "accumulators", jid, sink["id"], "--subtasks")
    assert (code, out) == (0, "SUBTASK\tNAME\tTYPE\tVALUE\n")


def test_subtask_times_and_taskmanagers(local_flink, demo):
    jid, _, sink = demo
    times = run_json(local_flink, "vertices", "subtask-times", jid, sink["id"])
    assert (
        times["subtasks"][0]["timestamps"]["RUNNING"]
        >= times["subtasks"][0]["timestamps"]["CREATED"]
        > 0
    )
    code, out, err = local_flink.run("vertices", "subtask-times", jid, sink["id"])
    assert code == 0, err
    assert "RUNNING +" in out.splitlines()[0]
    tms = run_json(local_flink, "vertices", "taskmanagers", jid, sink["id"])
    tm_ids = {t["id"] for t in run_json(local_flink, "taskmanagers", "list")["taskmanagers"]}
    assert {t["taskmanager-id"] for t in tms["taskmanagers"]} <= tm_ids
    code, out, err = local_flink.run("vertices", "taskmanagers", jid, sink["id"], "-o", "name")
    assert set(out.split()) <= tm_ids


def test_watermarks_lag_behind_now(local_flink, demo):
    jid, source, sink = demo
    marks = eventually(
        lambda: run_json(local_flink, "vertices", "watermarks", jid, sink["id"]),
        what="the sink's watermarks",
    )
    assert [m["id"] for m in marks] == ["0.currentInputWatermark"]
    code, out, err = local_flink.run("vertices", "watermarks", jid, sink["id"])
    assert code == 0, err
    subtask, watermark, lag = out.splitlines()[1].split("\t")
    assert subtask == "0" and watermark != "-" and lag != "-"
    assert run_json(local_flink, "vertices", "watermarks", jid, source["id"]) == []


def test_flamegraph_call_tree_and_json(local_flink, demo):
    jid, source, _ = demo
    code, out, err = local_flink.run(
        "vertices", "flamegraph", jid, source["id"], "--type", "full", timeout=90
    )
    assert code == 0, err
    first, *frames = out.splitlines()
    assert " samples at " in first
    assert frames and frames[0].split()[0] == "100.0%"
    assert any("Thread.sleep" in f for f in frames)  # the demo job's throttle
    body = run_json(local_flink, "vertices", "flamegraph", jid, source["id"], "--type", "off_cpu")
    assert body["endTimestamp"] > 0 and body["data"]["name"] == "root"


def test_subtask_show_metrics_accumulators(local_flink, demo):
    jid, _, sink = demo
    current = run_json(local_flink, "subtasks", "show", jid, sink["id"], "0")
    assert (current["subtask"], current["status"]) == (0, "RUNNING")
    same = run_json(
        local_flink, "subtasks", "show", jid, sink["id"], "0", "--attempt", str(current["attempt"])
    )
    assert same["attempt"] == current["attempt"]
    code, out, err = local_flink.run("subtasks", "show", jid, sink["id"], "0")
    assert code == 0, err
    assert "Status:        RUNNING" in out and "TIME SPENT" in out
    code, out, err = local_flink.run("subtasks", "show", jid, sink["id"], str(sink["parallelism"]))
    assert (code, out) == (3, "")
    values = run_json(
        local_flink, "subtasks", "metrics", jid, sink["id"], "0", "--get", "numRecords*"
    )
    assert {"numRecordsIn", "numRecordsOut"} <= {m["id"] for m in values}
    acc = run_json(local_flink, "subtasks", "accumulators", jid, sink["id"], "0")
    assert (acc["subtask"], acc["attempt"], acc["user-accumulators"]) == (0, current["attempt"], [])


def test_checkpoints_list_show_config(local_flink, demo):
    jid, source, sink = demo
    stats = run_json(local_flink, "checkpoints", "list", jid)
    newest = max(c["id"] for c in stats["history"])
    code, out, err = local_flink.run("checkpoints", "list", "flinkctl-demo")
    assert code == 0, err
    assert out.startswith("Counts:") and "\nID\tSTATUS\tTYPE\tSAVEPOINT" in out
    detail = run_json(local_flink, "checkpoints", "show", jid, "latest")
    assert detail["id"] >= newest
    assert set(detail["tasks"]) == {source["id"], sink["id"]}
    code, out, err = local_flink.run("checkpoints", "show", jid, str(detail["id"]))
    assert code == 0, err
    assert source["name"] in out and sink["name"] in out
    vertex = run_json(
        local_flink, "checkpoints", "show", jid, str(detail["id"]), "--vertex", sink["name"]
    )
    assert vertex["id"] == detail["id"] and len(vertex["subtasks"]) == sink["parallelism"]
    code, out, err = local_flink.run(
        "checkpoints", "show", jid, "latest", "--vertex", sink["id"][:6]
    )
    assert code == 0, err
    assert "SYNC\tASYNC" in out
    config = run_json(local_flink, "checkpoints", "config", jid)
    assert config["interval"] == 3000  # the demo job checkpoints every 3 s
    code, out, err = local_flink.run("checkpoints", "config", jid)
    assert "Interval:           3.0s" in out.splitlines()


def test_checkpoints_list_watch(local_flink, demo):
    jid = demo[0]
    args = [local_flink.exe, "checkpoints", "list", jid, "--watch", "0.5", "-o", "json"]
    proc = subprocess.Popen(
        args, env=local_flink.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        documents = [json.loads(proc.stdout.readline()) for _ in range(2)]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 130, proc.stderr.read()
    assert all(d["counts"]["completed"] >= 2 for d in documents)
