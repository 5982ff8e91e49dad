"""`flinkctl jobs rescale` succeeding on a real cluster with the adaptive scheduler.

A second cluster of its own (the session's runs the default scheduler, which cannot rescale),
started with `flinkctl local up -D ...`, once per version (conftest.py: `flink_version`).
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from flinkctl.client.base import parse_version

from .conftest import LocalFlink, eventually, module_cluster

NAME = "e2e-adaptive"


def scheduler_options(version: str) -> list[str]:
    """-D options: the adaptive scheduler; no 30 s pause between the job's start and a rescale
    (Flink's default cool-down, which only slows the test); on 2.3+ a rescale history."""
    cooldown = (
        "jobmanager.adaptive-scheduler.executing.cooldown-after-rescaling"  # 2.0+ (FLIP-472)
        if parse_version(version) >= (2,)
        else "jobmanager.adaptive-scheduler.scaling-interval.min"
    )
    options = ["jobmanager.scheduler=adaptive", f"{cooldown}=1s"]
    if parse_version(version) >= (2, 3):
        options.append("web.adaptive-scheduler.rescale-history.size=10")
    return [arg for option in options for arg in ("-D", option)]


@pytest.fixture(scope="module")
def adaptive(flink_version, tmp_path_factory) -> LocalFlink:
    """The demo job on 4 slots under the adaptive scheduler; stopped and purged afterwards."""
    options = [*scheduler_options(flink_version), "--slots", "4"]
    with module_cluster(tmp_path_factory, NAME, flink_version, *options) as flink:
        yield flink


def rest(flink: LocalFlink, path: str):
    resp = httpx.get(f"{flink.url}{path}", timeout=10)
    resp.raise_for_status()
    return resp.json()


def parallelisms(flink: LocalFlink) -> tuple[dict, dict]:
    """{vertex id: upper bound of its requirements}, {"state": job state, "vertices": {vertex
    id: (parallelism, status)}}."""
    jid = flink.demo_job_id
    bounds = {
        vid: req["parallelism"]["upperBound"]
        for vid, req in rest(flink, f"/jobs/{jid}/resource-requirements").items()
    }
    job = rest(flink, f"/jobs/{jid}")
    running = {v["id"]: (v["parallelism"], v["status"]) for v in job["vertices"]}
    return bounds, {"state": job["state"], "vertices": running}


@pytest.fixture(scope="module")
def rescaled(adaptive):
    """`jobs rescale flinkctl-demo -p 2 --wait` once: exit code, stdout, stderr, seconds taken."""
    bounds, job = parallelisms(adaptive)
    assert set(bounds.values()) == {1}, bounds  # the demo starts at parallelism.default 1
    assert {p for p, _ in job["vertices"].values()} == {1}, job
    started = time.monotonic()
    args = ["jobs", "rescale", "flinkctl-demo", "-p", "2", "--wait", "--timeout", "150"]
    code, out, err = adaptive.run(*args, "-o", "json", timeout=180)
    return code, out, err, time.monotonic() - started


def test_up_writes_the_options_into_the_cluster_config(adaptive):
    config = {e["key"]: e["value"] for e in rest(adaptive, "/jobmanager/config")}
    assert config["jobmanager.scheduler"] == "adaptive"
    assert config["taskmanager.numberOfTaskSlots"] == "4"
    code, out, err = adaptive.run("local", "status", "--name", NAME, "-o", "json")
    assert code == 0, err
    options = scheduler_options(adaptive.version)[1::2]
    assert json.loads(out)["flink-config"] == dict(o.split("=", 1) for o in options)


def test_up_with_other_options_on_the_running_cluster_is_a_usage_error(adaptive):
    code, out, err = adaptive.run(
        "local", "up", "--name", NAME, "-D", "jobmanager.scheduler=default"
    )
    assert (code, out) == (2, "")
    assert (
        f"cluster '{NAME}' is already running with configuration -D jobmanager.scheduler=adaptive"
        in err
    )


def test_rescale_waits_and_prints_the_new_requirements(adaptive, rescaled):
    code, out, err, seconds = rescaled
    assert code == 0, err
    assert seconds < 150
    vertices = {v["id"] for v in rest(adaptive, f"/jobs/{adaptive.demo_job_id}")["vertices"]}
    assert json.loads(out) == {
        vid: {"parallelism": {"lowerBound": 1, "upperBound": 2}} for vid in vertices
    }


def test_the_job_runs_at_parallelism_2(adaptive, rescaled):
    assert rescaled[0] == 0, rescaled[2]

    def at_parallelism_2(found: tuple[dict, dict]) -> bool:
        bounds, job = found
        return (
            set(bounds.values()) == {2}
            and job["state"] == "RUNNING"
            and set(job["vertices"].values()) == {(2, "RUNNING")}
            and bounds.keys() == job["vertices"].keys()
        )

    eventually(
        lambda: parallelisms(adaptive),
        at_parallelism_2,
        timeout=30,
        what="parallelism 2 in GET /jobs/:id and .../resource-requirements",
    )
    overview = rest(adaptive, "/overview")
    assert overview["slots-total"] - overview["slots-available"] == 2  # one slot per subtask pair


def test_rescale_history_shows_the_rescale(adaptive, rescaled):
    assert rescaled[0] == 0, rescaled[2]
    args = ("jobs", "rescales", "flinkctl-demo", "--history", "-o", "json")
    if parse_version(adaptive.version) < (2, 3):
        code, out, err = adaptive.run(*args)
        assert (code, out) == (1, "")
        assert "rescale history needs Flink 2.3 or newer" in err
        return

    def history() -> list[dict]:
        code, out, err = adaptive.run(*args)
        assert code == 0, err
        return json.loads(out)

    eventually(
        history,
        lambda rescales: any(
            r["triggerCause"] == "UPDATE_REQUIREMENT" and r["terminalState"] == "COMPLETED"
            for r in rescales
        ),
        timeout=30,
        what="a completed UPDATE_REQUIREMENT rescale in the history",
    )
