"""deploy's decisions (flinkctl.workflows.deploy_plan) over recorded responses, mutated where a
state is hard to catch on a real cluster (a job whose tasks restart, checkpoints retained)."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from flinkctl.sensitive import MASK
from flinkctl.workflows import deploy_plan
from flinkctl.workflows.deploy_options import UpgradeMode
from flinkctl.workflows.health import Health
from flinkctl.workflows.revisions import Known, Previous, Record, Spec

NOW = 1_800_000_000_000


def restarting(flink, *, state="RUNNING", vertex="INITIALIZING") -> dict:
    job = copy.deepcopy(flink.body("deploy-job-restarting"))
    job["state"] = state
    job["vertices"][0]["status"] = vertex
    return job


def retained(flink, keep: bool) -> dict:
    config = copy.deepcopy(flink.body("deploy-checkpoints-config-restarting"))
    config["externalization"] = {"enabled": keep, "delete_on_cancellation": not keep}
    return config


def test_a_job_whose_tasks_all_run_stops_with_a_savepoint(flink):
    job = flink.body("deploy-job-deployed")
    assert deploy_plan.running_cleanly(job)
    choice = deploy_plan.choose_state(UpgradeMode.SAVEPOINT, job, None, None, None, NOW)
    assert choice.how == "stop"


@pytest.mark.parametrize("state, vertex", [("RESTARTING", "CANCELED"), ("RUNNING", "DEPLOYING"),
                                           ("RUNNING", "INITIALIZING"), ("FAILING", "FAILED")])  # fmt: skip
def test_a_job_whose_tasks_restart_cannot_stop_with_a_savepoint(flink, state, vertex):
    assert not deploy_plan.running_cleanly(restarting(flink, state=state, vertex=vertex))


def test_a_crash_loop_falls_back_to_its_retained_checkpoint(flink):
    stats = flink.body("deploy-checkpoints-restarting")
    path = stats["latest"]["completed"]["external_path"]
    choice = deploy_plan.choose_state(
        UpgradeMode.SAVEPOINT,
        restarting(flink),
        retained(flink, True),
        stats,
        ("/sp/old", NOW),
        NOW,
    )
    assert choice.how == "checkpoint"
    assert path in choice.reason and "cannot stop with a savepoint" in choice.reason


def test_a_crash_loop_without_retained_checkpoints_falls_back_to_the_newest_savepoint(flink):
    stats = flink.body("deploy-checkpoints-restarting")
    choice = deploy_plan.choose_state(
        UpgradeMode.SAVEPOINT, restarting(flink), retained(flink, False), stats,
        ("file:/sp/savepoint-1", NOW - 2 * 3600_000), NOW,
    )  # fmt: skip
    assert (choice.how, choice.path) == ("savepoint", "file:/sp/savepoint-1")
    assert "(2h old)" in choice.reason


def test_a_crash_loop_with_no_state_anywhere_is_refused(flink):
    choice = deploy_plan.choose_state(
        UpgradeMode.SAVEPOINT, restarting(flink), retained(flink, False), None, None, NOW
    )
    assert choice.how == "refuse"
    assert "RUNNING with tasks INITIALIZING" in choice.reason


def test_last_state_needs_a_retained_completed_checkpoint(flink):
    job = flink.body("deploy-job-deployed")
    stats = flink.body("deploy-checkpoints-deployed")
    assert deploy_plan.choose_state(UpgradeMode.LAST_STATE, job, retained(flink, False), stats, None, NOW).how == "refuse"  # fmt: skip
    assert deploy_plan.choose_state(UpgradeMode.LAST_STATE, job, retained(flink, True), stats, None, NOW).how == "checkpoint"  # fmt: skip
    none = {**stats, "latest": {**stats["latest"], "completed": None}}
    assert deploy_plan.choose_state(UpgradeMode.LAST_STATE, job, retained(flink, True), none, None, NOW).how == "refuse"  # fmt: skip


@pytest.mark.parametrize("mode, running, taken", [(UpgradeMode.SAVEPOINT, True, True),
    (UpgradeMode.LAST_STATE, True, True), (UpgradeMode.STATELESS, True, False),
    (UpgradeMode.SAVEPOINT, False, False)])  # fmt: skip
def test_what_latest_means(mode, running, taken):
    assert deploy_plan.latest_is_taken(mode, running) is taken


def spec(jar="a.jar", **changes) -> Spec:
    return Spec(**{"jar_id": jar, "jar_name": "job.jar", "uploaded": True, **changes})


def known(jid, generation, revision, *, state="RUNNING", jar="a.jar", previous=None, outcome=None):
    record = Record("etl", revision, generation, spec(jar), previous=previous, time_ms=1, by="t")
    return Known(jid, {"jid": jid, "state": state}, record, outcome, "cluster")


def test_a_revision_owes_its_gate_until_a_healthy_outcome_is_recorded():
    assert deploy_plan.owes_gate(known("a", 1, 1))
    assert deploy_plan.owes_gate(known("a", 1, 1, outcome=Health.UNHEALTHY))
    assert not deploy_plan.owes_gate(known("a", 1, 1, outcome=Health.HEALTHY))


def test_a_newer_generation_on_the_cluster_supersedes_a_run():
    mine = known("a", 3, 2, state="FINISHED")
    theirs = known("b", 4, 3)
    assert deploy_plan.newer_generation([mine, theirs], 3) is theirs
    assert deploy_plan.newer_generation([mine], 3) is None
    intent = Known("c", None, theirs.record, None, "catalog")  # only this machine's catalog
    assert deploy_plan.newer_generation([mine, intent], 3) is None


def test_tidy_keeps_every_jar_a_running_revision_or_its_rollback_needs():
    old = [known(f"j{i}", i, i, state="CANCELED", jar=f"{i}.jar") for i in range(1, 6)]
    # a concurrent deploy runs revision 7 whose rollback goes to revision 1's jar
    other = known("x", 7, 7, jar="7.jar", previous=Previous(1, spec("1.jar"), "j1"))
    record = Record("etl", 6, 6, spec("6.jar"), previous=Previous(5, spec("5.jar")), time_ms=1)
    stale = deploy_plan.stale_jars([*old, other], record, keep=2, running_revision=6)
    assert stale == {"2.jar", "3.jar", "4.jar"}


def test_dry_run_diff_lists_what_changes():
    running = spec(sha256="ab" * 32, args=("--in", "x"), parallelism=2, conf=(("k", "v"),))
    wanted = spec(sha256="cd" * 32, args=("--in", "x"), parallelism=4, conf=(("k", "w"),))
    diff = deploy_plan.spec_diff(running, wanted)
    assert {d["field"] for d in diff} == {"jar", "parallelism", "-D k"}
    assert {"field": "parallelism", "running": 2, "requested": 4} in diff
    assert deploy_plan.spec_diff(running, running) == []


def test_dry_run_diff_never_shows_a_secret_but_tells_it_changed():
    running = spec(args=("--password", "old-pw"), conf=(("s3.secret-key", "old-key"),))
    wanted = spec(args=("--password", "new-pw"), conf=(("s3.secret-key", "old-key"),))
    diff = deploy_plan.spec_diff(running, wanted)
    assert "old-pw" not in str(diff) and "new-pw" not in str(diff) and "old-key" not in str(diff)
    assert diff == [{"field": "secrets", "running": "******", "requested": "****** (changed)"}]
    assert deploy_plan.spec_diff(running, running) == []


@pytest.mark.parametrize("masked", [False, True], ids=["catalog", "cluster-record"])
def test_a_changed_secret_is_told_beside_other_changes(masked):
    """Found by a break-it round: a changed -D password showed as `secrets` only while nothing
    else in the args or -D options changed; with `-D pipeline.name=x` or `-a 5` it vanished."""
    running = spec(args=("--in", "x"), conf=(("a", "1"), ("my.password", "old-pw")))
    shown = running.masked("salt") if masked else running
    for other in ({"args": ("--in", "y")}, {"conf": (("a", "2"),)}, {"parallelism": 5}):
        conf = dict(running.conf) | dict(other.get("conf", ()))
        same = replace(running, **{**other, "conf": tuple(sorted(conf.items()))})
        diff = deploy_plan.spec_diff(shown, same)
        assert diff and "secrets" not in {d["field"] for d in diff}, (other, diff)
        new = replace(same, conf=tuple(sorted({**conf, "my.password": "new-pw"}.items())))
        diff = deploy_plan.spec_diff(shown, new)
        assert diff[-1] == {"field": "secrets", "running": MASK, "requested": f"{MASK} (changed)"}
        assert "old-pw" not in str(diff) and "new-pw" not in str(diff)


def test_a_secret_the_cluster_record_masks_in_a_changed_value_may_have_changed():
    running = spec(args=("--password", "pw", "--in", "x")).masked("salt")
    diff = deploy_plan.spec_diff(running, spec(args=("--password", "pw", "--out")))
    assert diff[-1]["requested"] == "****** (may have changed)"


def conf_of(flink, **extra) -> dict:
    return {**{e["key"]: e["value"] for e in flink.body("jobmanager-config")}, **extra}


def test_a_revision_needing_more_slots_than_the_cluster_has_is_refused(flink):
    overview = flink.body("overview")  # 2 slots, 1 free (the demo job holds one)
    assert deploy_plan.slot_shortfall(1, overview, conf_of(flink), freed=0) is None
    assert deploy_plan.slot_shortfall(2, overview, conf_of(flink), freed=1) is None
    short = deploy_plan.slot_shortfall(3, overview, conf_of(flink), freed=1)
    assert short == (
        "the new revision needs 3 slots; the cluster has 2 slots, 1 free, and the job it "
        "replaces frees 1"
    )


def test_the_adaptive_scheduler_and_sessions_that_grow_are_exempt(flink):
    overview = flink.body("overview")
    adaptive = conf_of(flink, **{"jobmanager.scheduler": "adaptive"})
    assert deploy_plan.slot_shortfall(64, overview, adaptive, freed=0) is None
    k8s = conf_of(flink, **{"execution.target": "kubernetes-session"})
    assert deploy_plan.slot_shortfall(64, overview, k8s, freed=0) is None
    capped = {**k8s, "slotmanager.number-of-slots.max": "10"}
    assert deploy_plan.slot_shortfall(9, overview, capped, freed=0) is None
    assert "grows to at most 10 slots" in deploy_plan.slot_shortfall(10, overview, capped, freed=0)
    assert deploy_plan.slot_shortfall(1, {"slots-total": 1}, {}, 0).startswith(
        "the new revision needs 1 slot; the cluster has 1 slot, 0 free"
    )


def test_slots_needed_is_the_widest_vertex_of_the_plan(flink):
    plan = copy.deepcopy(flink.body("jar-plan")["plan"])
    assert deploy_plan.slots_needed(plan) == 1
    plan["nodes"][1]["parallelism"] = 6
    assert deploy_plan.slots_needed(plan) == 6


def test_a_job_that_cannot_stop_falls_back_to_the_state_it_started_from_when_newer():
    """A rollback stopped the old job (its savepoint only in that runner's catalog) and started
    the job a racing deploy now finds unstoppable: the savepoint that job started from beats
    an older savepoint of the name; a savepoint younger than the job wins (found by a break-it
    round: 3 of 3 deploys racing a rollback restarted from revision 1's older savepoint)."""
    from flinkctl.workflows.deploy_plan import fallback_savepoint

    older, started = ("s3://sp/savepoint-a78ed6", 1_000), 5_000
    assert fallback_savepoint(older, "s3://sp/savepoint-fe23c9", started) == (
        "s3://sp/savepoint-fe23c9",
        started,
    )
    assert fallback_savepoint(None, "s3://sp/savepoint-fe23c9", started)[0].endswith("fe23c9")
    younger = ("s3://sp/savepoint-of-the-job", 6_000)
    assert fallback_savepoint(younger, "s3://sp/savepoint-fe23c9", started) == younger
    assert fallback_savepoint(older, None, started) == older


def test_a_job_without_a_record_is_another_runners_only_when_young_and_of_a_deploys_id(flink):
    """The overview entries are recorded ones, with another id, state or start time."""
    from flinkctl.workflows.deploy_plan import RECORD_SHOWS_WITHIN_MS, just_started_elsewhere
    from flinkctl.workflows.revisions import job_id_for

    listed = flink.body("deploy-jobs-overview")["jobs"][0]
    now, ours, other = 10**12, job_id_for("orders", 2), listed["jid"]

    def entry(state: str, age_ms: int) -> dict:
        return {**listed, "state": state, "start-time": now - age_ms}

    young, old = 1_500, RECORD_SHOWS_WITHIN_MS + 1
    assert just_started_elsewhere("orders", ours, entry("INITIALIZING", old), range(1, 3), now)
    assert just_started_elsewhere("orders", ours, entry("RUNNING", young), range(1, 3), now)
    assert not just_started_elsewhere("orders", ours, entry("RUNNING", old), range(1, 3), now)
    assert not just_started_elsewhere("orders", ours, entry("RUNNING", young), range(1, 2), now)
    assert not just_started_elsewhere("orders", other, entry("RUNNING", young), range(1, 3), now)
    assert not just_started_elsewhere("orders", ours, None, range(1, 3), now)
