"""cluster / jobmanager / taskmanagers / config commands against the real cluster.

`-o json` must equal the REST body; values that move by themselves between two requests
(metrics, heartbeats, log sizes) are compared by their keys and ids.
"""

from __future__ import annotations

import json

import httpx
import pytest


def rest(local_flink, path: str):
    return httpx.get(f"{local_flink.url}{path}", timeout=10).json()


def cli_json(local_flink, *args: str):
    code, out, err = local_flink.run(*args, "-o", "json")
    assert code == 0, err
    return json.loads(out)


def cli_table(local_flink, *args: str) -> str:
    code, out, err = local_flink.run(*args)
    assert code == 0, err
    assert out.strip() and err == ""
    return out


@pytest.mark.parametrize(
    "args, path",
    [
        (("cluster", "overview"), "/overview"),
        (("cluster", "config"), "/config"),
        (("jobmanager", "config"), "/jobmanager/config"),
        (("jobmanager", "environment"), "/jobmanager/environment"),
        (("jobmanager", "metrics"), "/jobmanager/metrics"),
    ],
)
def test_json_equals_the_rest_body(local_flink, args, path):
    assert cli_json(local_flink, *args) == rest(local_flink, path)
    cli_table(local_flink, *args)


def test_overview_table(local_flink):
    out = cli_table(local_flink, "cluster", "overview")
    assert f"Flink version:   {local_flink.version}" in out
    assert "TaskManagers:    1" in out


def test_taskmanagers(local_flink):
    body = cli_json(local_flink, "tm", "list")
    tm = body["taskmanagers"][0]
    assert [t["id"] for t in body["taskmanagers"]] == [
        t["id"] for t in rest(local_flink, "/taskmanagers")["taskmanagers"]
    ]
    assert cli_table(local_flink, "tm", "list", "-o", "name").strip() == tm["id"]
    show = cli_json(local_flink, "tm", "show", tm["id"][:8])
    assert show["id"] == tm["id"] and set(show) == set(
        rest(local_flink, f"/taskmanagers/{tm['id']}")
    )
    out = cli_table(local_flink, "tm", "show", tm["id"][:8])
    assert "Total process" in out and "JVM heap" in out
    dump = cli_table(local_flink, "tm", "thread-dump", tm["id"][:8])
    assert '"main"' in dump or "Thread" in dump


def test_metrics_values(local_flink):
    out = cli_table(local_flink, "jm", "metrics", "--get", "Status.JVM.Memory.Heap.*")
    assert "Status.JVM.Memory.Heap.Used" in out
    agg = cli_json(local_flink, "tm", "metrics", "--get", "Status.JVM.CPU.Load", "--agg", "min,max")
    assert agg[0]["id"] == "Status.JVM.CPU.Load" and {"min", "max"} <= set(agg[0])
    tm = rest(local_flink, "/taskmanagers")["taskmanagers"][0]["id"]
    names = cli_table(local_flink, "tm", "metrics", tm, "-o", "name").split()
    assert "Status.JVM.CPU.Load" in names


def test_logs(local_flink):
    files = cli_json(local_flink, "jm", "logs", "--list")["logs"]
    log = next(f["name"] for f in files if f["name"].endswith(".log"))
    out = cli_table(local_flink, "jm", "logs", log, "--tail", "3")
    assert len(out.splitlines()) == 3
    tm = rest(local_flink, "/taskmanagers")["taskmanagers"][0]["id"]
    assert cli_json(local_flink, "tm", "logs", tm, "--list")["logs"]


def test_thread_dump_and_version(local_flink):
    assert "StandaloneSessionClusterEntrypoint" in cli_table(local_flink, "jm", "thread-dump")
    code, out, err = local_flink.run("-v", "--version")
    assert code == 0, err
    assert out.splitlines()[1] == f"Flink {local_flink.version}"


def test_contexts(local_flink):
    out = cli_table(local_flink, "config", "get-contexts")
    assert local_flink.name in out and local_flink.url in out
    code, out, err = local_flink.run("--context", "no-such-context", "cluster", "overview")
    assert (code, out) == (3, "")


def test_unreachable_cluster_exits_5(local_flink):
    env = {**local_flink.env, "FLINKCTL_RETRY_BUDGET": "1s"}  # not the default 20 s of retries
    code, out, err = local_flink.run("--url", "http://127.0.0.1:1", "cluster", "overview", env=env)
    assert (code, out) == (5, "")
    assert err.startswith("error: cannot reach http://127.0.0.1:1")
