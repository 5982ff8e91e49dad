"""`flinkctl doctor` on a real cluster: each of `flinkctl local demo`'s scenarios (a job with a
known problem) gets the finding of the rule it is named for, on the right vertex or subtask,
first; the healthy demo job has no warning or critical finding.

The scenarios run side by side on one cluster of 10 slots, so the minute doctor waits before it
judges a job by its rates is waited once.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from flinkctl.local.demo import Scenario

from .conftest import LocalFlink, local_cluster

CLUSTER = "e2e-doctor"
PROBLEMS = [s for s in Scenario if s is not Scenario.healthy]
JUDGED_AFTER = 70  # seconds: doctor leaves jobs younger than a minute unjudged by their rates


@pytest.fixture(scope="module")
def flink(flink_version, tmp_path_factory) -> LocalFlink:
    tmp = tmp_path_factory.mktemp(f"{CLUSTER}-{flink_version}")
    with local_cluster(tmp, CLUSTER, flink_version, "--slots", "10", purge=True) as cluster:
        yield cluster


def run_json(flink: LocalFlink, *args: str, timeout: float = 120) -> tuple[int, object, str]:
    code, out, err = flink.run(*args, "-o", "json", timeout=timeout)
    return code, json.loads(out) if out.strip() else None, err


@pytest.fixture(scope="module")
def started(flink) -> dict[Scenario, dict]:
    """Every problem scenario, started with `flinkctl local demo`: {scenario: its object}."""
    jobs = {}
    for scenario in PROBLEMS:
        code, job, err = run_json(flink, "local", "demo", scenario.value)
        assert code == 0, err
        assert job == {"job-id": job["job-id"], "name": scenario.job_name, "scenario": scenario}
        jobs[scenario] = job
    return jobs


@pytest.fixture(scope="module")
def reports(flink, started) -> dict[Scenario, tuple[int, dict, str]]:
    """`doctor NAME --sample 20s --fail-on warning -o json` of every scenario's job and the
    healthy demo job, run side by side once the youngest is old enough to be judged."""
    time.sleep(JUDGED_AFTER)

    def doctor(scenario: Scenario) -> tuple[int, object, str]:
        return run_json(
            flink, "doctor", scenario.job_name, "--sample", "20s", "--fail-on", "warning"
        )

    with ThreadPoolExecutor(len(Scenario)) as pool:
        return dict(zip(Scenario, pool.map(doctor, Scenario), strict=True))


def top_finding(reports, scenario: Scenario, judged: bool = True) -> dict:
    """The first finding of SCENARIO's report; JUDGED: old enough to be judged by its rates
    (a crash-looping job is young again after every restart)."""
    code, report, err = reports[scenario]
    assert code == 7, (err, report)  # a warning or worse, with --fail-on warning
    young = any("young-threshold-ms" in f["evidence"] for f in report["findings"])
    assert report["readings"] == 3 and young is not judged
    return report["findings"][0]


def vertex_named(reports, scenario: Scenario, prefix: str) -> dict:
    _, report, _ = reports[scenario]
    return next(v for v in report["vertices"] if v["name"].startswith(prefix))


def test_backpressure_names_the_slow_vertex_and_what_it_holds_up(reports):
    top = top_finding(reports, Scenario.backpressure)
    slow = vertex_named(reports, Scenario.backpressure, "Slow")
    assert (top["rule"], top["severity"]) == ("backpressure", "warning")
    assert top["evidence"]["vertex-id"] == slow["id"]
    assert top["evidence"]["busy-max"] > 0.5
    (held,) = top["evidence"]["holds-up"]
    assert held["name"].startswith("Source: Sequence") and held["backpressured-max"] > 0.5


def test_skew_names_the_hot_subtask(reports):
    top = top_finding(reports, Scenario.skew)
    hot = vertex_named(reports, Scenario.skew, "Hot key")
    assert (top["rule"], top["severity"]) == ("skew", "warning")
    assert top["evidence"]["vertex-id"] == hot["id"] and hot["parallelism"] == 3
    assert top["subject"] == f"subtask {top['evidence']['subtask']} of '{hot['name']}'"
    assert top["evidence"]["busy"] > 0.5 and top["evidence"]["p75-of-others"] < 0.1


def test_expiring_checkpoints_are_found_with_flinks_message(reports):
    top = top_finding(reports, Scenario.checkpoints)
    assert (top["rule"], top["severity"]) == ("checkpoints", "warning")
    assert "expired" in top["evidence"]["latest-failure"]
    assert top["evidence"]["last-completed-id"] is None and top["evidence"]["failed"] >= 10


def test_a_crash_loop_is_critical_with_its_cause(reports):
    top = top_finding(reports, Scenario.restarts, judged=False)
    assert (top["rule"], top["severity"]) == ("restarts", "critical")
    assert "crash loop" in top["summary"]
    cause = top["evidence"]["causes"][0]
    assert "demo failure 5 s after the start (--fail-after)" in cause["cause"]
    assert cause["count"] >= 3 and cause["taskmanager"]


def test_a_frozen_split_holds_one_subtasks_watermark_back(reports):
    top = top_finding(reports, Scenario.watermarks)
    event_time = vertex_named(reports, Scenario.watermarks, "Event time")
    assert (top["rule"], top["severity"]) == ("watermarks", "warning")
    assert top["evidence"]["vertex-id"] == event_time["id"]
    assert top["subject"] == f"subtask {top['evidence']['subtask']} of '{event_time['name']}'"
    assert top["evidence"]["behind-ms"] > 60_000 and not top["evidence"]["advanced"]


def test_the_healthy_demo_job_has_no_warning(flink, reports):
    code, report, err = reports[Scenario.healthy]
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


def test_all_jobs_by_name_fail_on_the_crash_loop(flink, reports):
    code, found, err = run_json(flink, "doctor", "--all", "--name", "flinkctl-demo-*",
                                "--sample", "0")  # fmt: skip
    assert code == 7, err
    assert sorted(r["name"] for r in found) == sorted(s.job_name for s in PROBLEMS)
    assert err.startswith('{"error": {"code": 7, "kind": "findings"')


def test_a_scenario_the_cluster_has_no_slots_for_is_refused_untouched(flink, started):
    code, _, err = run_json(flink, "local", "demo", "skew", "--job-name", "one-too-many")
    _, jobs, _ = run_json(flink, "jobs", "list")
    assert code == 1 and "the skew demo job needs 3 slots" in err, err
    assert "one-too-many" not in {j["name"] for j in jobs["jobs"]}
