"""`flinkctl doctor` on a real cluster: a crash-looping job (the demo job with --fail-after) is
critical with its cause, and the healthy demo job has no warning or critical finding."""

from __future__ import annotations

import json
import time

import pytest

from flinkctl.local.demo import JAR

from .conftest import LocalFlink, eventually, local_cluster

CLUSTER = "e2e-doctor"


@pytest.fixture(scope="module")
def flink(flink_version, tmp_path_factory) -> LocalFlink:
    tmp = tmp_path_factory.mktemp(f"{CLUSTER}-{flink_version}")
    with local_cluster(tmp, CLUSTER, flink_version, purge=True) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def since(flink) -> float:
    """About when the demo job started (monotonic seconds)."""
    return time.monotonic()


def run_json(flink: LocalFlink, *args: str, timeout: float = 120) -> tuple[int, object, str]:
    code, out, err = flink.run(*args, "-o", "json", timeout=timeout)
    return code, json.loads(out) if out.strip() else None, err


def test_a_crash_loop_is_critical_with_its_cause(flink, since):
    code, started, err = run_json(
        flink, "jars", "run", str(JAR), "--wait-running",
        "--arg", "10", "--arg", "--fail-after", "--arg", "3", "--arg", "--name", "--arg", "crashing",
    )  # fmt: skip
    assert code == 0, err
    job = started["job-id"]

    def restarts() -> int:
        _, body, _ = run_json(flink, "jobs", "exceptions", job)
        return len(body["exceptionHistory"]["entries"]) if body else 0

    eventually(restarts, lambda n: n >= 3, timeout=120, what="three restarts")
    code, report, err = run_json(flink, "doctor", job, "--sample", "0")
    assert code == 7, err
    top = report["findings"][0]
    assert (top["rule"], top["severity"]) == ("restarts", "critical")
    assert "crash loop" in top["summary"]
    cause = top["evidence"]["causes"][0]
    assert "demo failure 3 s after the start (--fail-after)" in cause["cause"]
    assert cause["count"] >= 3 and cause["taskmanager"]
    assert err.startswith('{"error": {"code": 7, "kind": "findings"')
    # --all takes both jobs; the crash loop fails the run
    code, reports, _ = run_json(flink, "doctor", "--all", "--sample", "0")
    assert code == 7
    assert {r["name"] for r in reports} == {"flinkctl-demo", "crashing"}
    code, _, err = run_json(flink, "jobs", "cancel", job, "--yes")
    assert code == 0, err


def test_the_healthy_demo_job_has_no_warning(flink, since):
    # old enough to be judged by its rates (doctor leaves jobs younger than a minute alone)
    time.sleep(max(0.0, since + 70 - time.monotonic()))
    code, report, err = run_json(
        flink, "doctor", flink.demo_job_id, "--sample", "20s", "--fail-on", "warning"
    )
    assert code == 0, (err, report)
    severe = [f for f in report["findings"] if f["severity"] != "info"]
    assert severe == []
    assert not any("too young" in f["summary"] for f in report["findings"])
    assert report["readings"] == 3 and report["sampled-ms"] >= 20_000
    source = next(v for v in report["vertices"] if v["name"].startswith("Source"))
    assert source["busy-max"] is not None and source["parallelism"] == 1
    # the table: findings (or none), then on a terminal the per-vertex summary
    code, out, err = flink.run("doctor", flink.demo_job_id, "--sample", "0")
    assert code == 0, err
    assert out.splitlines()[0].split("\t") == ["SEVERITY", "RULE", "SUBJECT", "FINDING", "ADVICE"]
