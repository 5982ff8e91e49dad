"""`flinkctl deploy`, `rollback` and `jobs history` on a real cluster, in the order of issue 10.

A cluster of its own per version (4 slots: the demo job, and this job at parallelism 2 while the
old one stops), started once per module. The tests run in file order and build on each other;
after each one exactly one job named NAME runs. The demo jar's knobs (DemoJob.java) make the
failures: a throttle "x" makes main() throw, --fail-after fails each start after a few seconds,
--state-version renames the keyed operator's uid, --global-parameters replaces the record.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from flinkctl.local.demo import JAR

from .conftest import LocalFlink, flinkctl, module_cluster, run

CLUSTER = "e2e-deploy"
NAME = "deploy-e2e"
PROGRAM = ["--arg", "20", "--arg", "--name", "--arg", NAME]
GATE = ["--healthy-for", "4", "--timeout", "120"]


@pytest.fixture(scope="module")
def flink(flink_version, tmp_path_factory) -> LocalFlink:
    with module_cluster(tmp_path_factory, CLUSTER, flink_version, "--slots", "4") as cluster:
        yield cluster


@pytest.fixture(scope="module")
def seen() -> dict:
    """What earlier tests saw (job ids, savepoints), for the later ones."""
    return {}


def deploy(flink: LocalFlink, *extra: str, env: dict | None = None) -> tuple[int, dict]:
    code, out, err = flinkctl(flink, "deploy", NAME, "--jar", str(JAR), *PROGRAM, *GATE,
                              *extra, "-o", "json", env=env)  # fmt: skip
    assert out, f"no report (exit {code}): {err}"
    return code, json.loads(out)


def running(flink: LocalFlink, name: str = NAME) -> str:
    """The id of the one job named NAME that runs (asserting there is exactly one)."""
    jobs = run(flink, "jobs", "list", "--name", name)["jobs"]
    active = [j for j in jobs if j["state"] not in ("FINISHED", "CANCELED", "FAILED")]
    assert len(active) == 1, active
    return active[0]["jid"]


def jars(flink: LocalFlink) -> list[str]:
    return [f["id"] for f in run(flink, "jars", "list")["files"]]


def parallelism(flink: LocalFlink, jid: str) -> set[int]:
    return {v["parallelism"] for v in run(flink, "jobs", "show", jid)["vertices"]}


def stays_healthy(flink: LocalFlink, jid: str, seconds: float = 5) -> None:
    time.sleep(seconds)
    assert run(flink, "jobs", "status", jid)["status"] == "RUNNING"
    history = run(flink, "jobs", "exceptions", jid).get("exceptionHistory") or {}
    assert not history.get("entries"), history


def test_first_deploy(flink, seen):
    code, report = deploy(flink)
    assert (code, report["result"], report["revision"]) == (0, "deployed", 1), report
    assert report["previous-job-id"] is None and report["savepoint"] is None
    assert [s["step"] for s in report["steps"]] == [
        "resolve", "compare", "upload", "plan", "journal", "start", "health", "tidy"
    ]  # fmt: skip
    assert running(flink) == report["job-id"]
    seen["first"] = report["job-id"]


def test_the_same_deploy_again_is_unchanged(flink, seen):
    uploads = jars(flink)
    code, report = deploy(flink)
    assert (code, report["result"], report["revision"]) == (0, "unchanged", 1), report
    assert report["job-id"] == seen["first"] == running(flink)
    assert jars(flink) == uploads


def test_a_failing_main_is_refused_and_the_job_keeps_running(flink, seen):
    uploads = jars(flink)
    code, report = deploy(flink, "--arg", "x")  # the throttle "x": main() throws
    assert (code, report["result"]) == (2, "refused"), report
    assert 'NumberFormatException: For input string: "x"' in report["cause"]
    assert running(flink) == seen["first"]
    assert jars(flink) == uploads  # the upload made for the plan is gone


def test_an_upgrade_restores_from_a_savepoint_and_changes_parallelism(flink, seen):
    code, report = deploy(flink, "-p", "2")
    assert (code, report["result"], report["revision"]) == (0, "deployed", 2), report
    assert report["previous-job-id"] == seen["first"]
    assert Path(report["savepoint"].removeprefix("file:")).is_dir()
    jid = running(flink)
    assert jid == report["job-id"]
    restored = run(flink, "checkpoints", "list", jid)["latest"]["restored"]
    assert restored["external_path"] == report["savepoint"]
    assert parallelism(flink, jid) == {2}
    seen["second"] = jid


def test_a_version_failing_after_its_start_is_rolled_back(flink, seen):
    code, report = deploy(flink, "-p", "2", "--arg", "--fail-after", "--arg", "3")
    assert (code, report["result"]) == (6, "rolled-back"), report
    assert "revision 3 is not healthy: 1 restart (--max-restarts 0)" in report["cause"]
    assert "demo failure 3 s after the start" in report["cause"]
    assert report["revision"] == 2 and report["previous-job-id"] == seen["second"]
    steps = {s["step"]: s["status"] for s in report["steps"]}
    assert steps["health"] == "failed" and steps["rollback-health"] == "ok"
    jid = running(flink)
    assert jid == report["job-id"]
    restored = run(flink, "checkpoints", "list", jid)["latest"]["restored"]
    assert restored["external_path"] == report["savepoint"]  # the state taken for the deploy
    stays_healthy(flink, jid)


def test_state_the_new_version_cannot_map_is_refused_and_rolled_back(flink):
    code, report = deploy(flink, "-p", "2", "--arg", "--state-version", "--arg", "2")
    assert (code, report["result"]) == (6, "rolled-back"), report
    assert "Cannot map checkpoint/savepoint state" in report["cause"]
    assert "--allow-non-restored-state" in report["hint"]
    assert running(flink) == report["job-id"]
    assert report["revision"] == 2


def test_dry_run_changes_nothing(flink):
    before, uploads = running(flink), jars(flink)
    code, report = deploy(flink, "--arg", "30", "--dry-run")
    assert (code, report["result"]) == (0, "planned"), report
    assert [s["step"] for s in report["steps"] if s["status"] == "planned"] == [
        "savepoint", "start", "health", "rollback"
    ]  # fmt: skip
    assert running(flink) == before and jars(flink) == uploads


def test_rollback_from_a_fresh_machine_returns_to_revision_1(flink, tmp_path):
    fresh = {**flink.env, "FLINKCTL_CATALOG": str(tmp_path / "fresh.db"),
             "XDG_STATE_HOME": str(tmp_path / "state"), "FLINKCTL_CONFIG": str(tmp_path / "c.yaml")}  # fmt: skip
    code, out, err = flinkctl(flink, "rollback", NAME, *GATE, "-o", "json", env=fresh)
    report = json.loads(out)
    assert (code, report["result"], report["revision"]) == (0, "deployed", 1), (report, err)
    jid = running(flink)
    assert jid == report["job-id"] and parallelism(flink, jid) == {1}
    history = run(flink, "jobs", "history", NAME)
    # revision 3 failed its gate and 4 could not start: each was followed by a rollback to 2
    assert [row["revision"] for row in history] == [1, 2, 3, 2, 4, 2, 1]
    assert history[-1]["action"] == "rollback" and history[-1]["state"] == "RUNNING"


def test_a_program_replacing_the_record_deploys_and_rolls_back_through_the_catalog(flink, tmp_path):
    code, report = deploy(flink, "--arg", "--global-parameters")
    assert (code, report["result"], report["revision"]) == (0, "deployed", 5), report
    code, out, err = flinkctl(flink, "rollback", NAME, *GATE, "-o", "json")
    back = json.loads(out)
    assert (code, back["result"], back["revision"]) == (0, "deployed", 1), (back, err)
    assert any("sets its own global job parameters" in n for n in back["notes"])
    assert running(flink) == back["job-id"]


def test_two_deploys_of_one_name_at_once_start_one_job(flink, tmp_path):
    """Two CI runners (two catalogs) deploy a new name at the same moment: one starts it; the
    other finds it running (unchanged, after gating it: its catalog has no verdict), or is
    refused the same job id and reports itself superseded by the job that runs."""
    import subprocess

    race = "deploy-e2e-race"
    command = [flink.exe, "--url", flink.url, "deploy", race, "--jar", str(JAR), "--arg", "20",
               "--arg", "--name", "--arg", race, *GATE, "-o", "json"]  # fmt: skip
    runs = [
        subprocess.Popen(
            command,
            env={**flink.env, "FLINKCTL_CATALOG": str(tmp_path / f"{i}.db")},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        for i in range(2)
    ]
    reports = [json.loads(proc.communicate(timeout=300)[0]) for proc in runs]
    results = sorted(r["result"] for r in reports)
    assert results in (["deployed", "superseded"], ["deployed", "unchanged"]), reports
    started = next(r["job-id"] for r in reports if r["result"] == "deployed")
    assert running(flink, race) == started
    assert {r["job-id"] for r in reports} == {started}  # both reports name what runs


def test_jars_run_names_the_cause_of_a_failing_main(flink):
    code, _, err = flinkctl(flink, "jars", "run", str(JAR), "--arg", "x")
    assert code == 1
    assert 'caused by: NumberFormatException: For input string: "x"' in err.splitlines()[0]
