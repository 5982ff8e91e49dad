"""Deploy's decisions, as pure functions over plain data (the executor, `deploy.py`, does I/O).

Which state the running job leaves and how it is taken (a stop with a savepoint; for a job that
cannot take one, the last-state fallback of the Kubernetes operator), what `--from-savepoint
latest` means, whether a running revision still owes its health gate, whether a newer deploy
took NAME over, which uploaded jars a rollback may still need, and what `--dry-run` would
change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from flinkctl.flink import CHECKPOINTING_VERTEX_STATES, Json, all_running
from flinkctl.sensitive import MASK, mask_args, mask_conf
from flinkctl.workflows.deploy_options import UpgradeMode
from flinkctl.workflows.health import Health
from flinkctl.workflows.revisions import Known, Record, Spec, job_id_for, same_values


@dataclass(frozen=True)
class StateChoice:
    """How the running job's state is taken.

    how: "stop" (stop with a savepoint), "checkpoint" (cancel, then its newest retained
    checkpoint), "savepoint" (cancel, then start from PATH, NAME's newest savepoint), "none"
    (cancel, start without state) or "refuse" (touch nothing; REASON says why).
    """

    how: str
    reason: str = ""
    path: str | None = None


def running_cleanly(job: Json) -> bool:
    """Whether GET /jobs/:jobid shows a job that can stop with a savepoint: RUNNING, and every
    vertex RUNNING or FINISHED (a crash-looping job's tasks restart: Flink refuses the stop)."""
    return all_running(job, finished_ok=True)


def retains_on_cancel(config: Json | None) -> bool:
    """Whether GET /jobs/:jobid/checkpoints/config keeps completed checkpoints after a cancel
    (NO_EXTERNALIZED loses them on any end, DELETE_ON_CANCELLATION on a cancel)."""
    external = (config or {}).get("externalization") or {}
    return bool(external.get("enabled")) and not external.get("delete_on_cancellation", True)


def newest_checkpoint(stats: Json | None) -> Json | None:
    """The latest completed checkpoint in GET /jobs/:jobid/checkpoints, or None."""
    latest = (stats or {}).get("latest") or {}
    completed = latest.get("completed")
    return completed if isinstance(completed, dict) and completed.get("external_path") else None


def choose_state(
    mode: UpgradeMode,
    job: Json,
    checkpoint_config: Json | None,
    checkpoints: Json | None,
    newest_savepoint: tuple[str, int] | None,
    now_ms: int,
    *,
    stoppable: bool | None = None,
) -> StateChoice:
    """How to take the state of running JOB under upgrade MODE (savepoint, last-state,
    stateless). A job that cannot stop with a savepoint falls back, as the Kubernetes
    operator's last-state does, to its newest retained checkpoint, else to NEWEST_SAVEPOINT
    (path, trigger time) of its name, else it is refused untouched. STOPPABLE False: Flink
    failed a stop while the job runs (a crash loop caught between two restarts)."""
    jid = job.get("jid", "")
    if mode is UpgradeMode.STATELESS:
        return StateChoice("none", f"cancel job {jid}, start without state")
    retained = retains_on_cancel(checkpoint_config)
    checkpoint = newest_checkpoint(checkpoints)
    if mode is UpgradeMode.LAST_STATE:
        if not retained:
            return StateChoice(
                "refuse",
                f"job {jid} does not retain its checkpoints when cancelled, so "
                "--upgrade-mode last-state has no state to start from",
            )
        if checkpoint is None:
            return StateChoice("refuse", f"job {jid} has no completed checkpoint yet")
        return StateChoice("checkpoint", f"cancel job {jid}, start from its newest checkpoint")
    if running_cleanly(job) if stoppable is None else stoppable:
        return StateChoice("stop", f"stop job {jid} with a savepoint")
    why = f"job {jid} is {_unclean(job)}, so it cannot stop with a savepoint"
    if stoppable is False:
        why = f"Flink failed the stop of job {jid} with a savepoint while it runs"
    if retained and checkpoint is not None:
        age = _age(now_ms, checkpoint.get("latest_ack_timestamp"))
        return StateChoice(
            "checkpoint",
            f"{why}: cancel it and start from its newest retained checkpoint "
            f"{checkpoint['external_path']} ({age} old)",
        )
    if newest_savepoint is not None:
        path, taken_ms = newest_savepoint
        return StateChoice(
            "savepoint",
            f"{why} and keeps no checkpoint after a cancel: cancel it and start from the "
            f"newest savepoint of its name, {path} ({_age(now_ms, taken_ms)} old)",
            path,
        )
    return StateChoice(
        "refuse",
        f"{why}, keeps no checkpoint after a cancel, and its name has no savepoint",
    )


RECORD_SHOWS_WITHIN_MS = 10_000  # a job's configuration (its record) is readable by then


def just_started_elsewhere(
    name: str, job_id: str, job: Mapping[str, Any] | None, generations: Iterable[int], now_ms: int
) -> bool:
    """Whether JOB_ID, a job of NAME (its GET /jobs/overview entry JOB) whose record neither the
    cluster nor this catalog shows, is one another deploy or rollback has just started: its id
    is that of one of NAME's GENERATIONS (job_id_for), and it is young (CREATED, INITIALIZING,
    or started less than RECORD_SHOWS_WITHIN_MS ago). Flink shows a job's configuration, the
    record in it, only once the job has initialized."""
    if job is None or job_id not in {job_id_for(name, g) for g in generations}:
        return False
    started = job.get("start-time")
    age = now_ms - started if isinstance(started, int) else RECORD_SHOWS_WITHIN_MS
    return job.get("state") in ("CREATED", "INITIALIZING") or age < RECORD_SHOWS_WITHIN_MS


def fallback_savepoint(
    newest: tuple[str, int] | None, restored_from: str | None, start_ms: int
) -> tuple[str, int] | None:
    """The savepoint (path, time) that a job which cannot stop falls back to without a retained
    checkpoint: NEWEST of its name, unless the job was started (at START_MS) from
    RESTORED_FROM and no savepoint of its name known here is younger than the job. Then the
    state it started from is the newer: another run's stop may have taken it, recorded only in
    that run's catalog (a rollback racing a deploy)."""
    if restored_from and (newest is None or newest[1] < start_ms):
        return restored_from, start_ms
    return newest


def _unclean(job: Json) -> str:
    state = str(job.get("state") or "in an unknown state")
    if state != "RUNNING":
        return state
    waiting = sorted(
        {str(v.get("status")) for v in job.get("vertices") or []} - CHECKPOINTING_VERTEX_STATES
    )
    return f"RUNNING with tasks {', '.join(waiting)}"


def _age(now_ms: int, then_ms: object) -> str:
    if not isinstance(then_ms, int) or then_ms <= 0:
        return "an unknown time"
    seconds = max(0, (now_ms - then_ms) // 1000)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


ON_DEMAND_TARGETS = frozenset({"kubernetes-session", "yarn-session"})


def slots_needed(plan: Json) -> int:
    """The slots a job plan (POST /jars/:jarid/plan) needs: its widest vertex, as every vertex
    shares one slot-sharing group unless the program says otherwise (the plan does not show)."""
    return max((int(n.get("parallelism") or 1) for n in plan.get("nodes") or []), default=1)


def slot_shortfall(
    needed: int,
    overview: Json,
    jobmanager_config: dict[str, str],
    freed: int,
    subject: str = "the new revision",
) -> str | None:
    """Why SUBJECT, a job needing NEEDED slots, can never run on this cluster (GET /overview,
    GET /jobmanager/config), counting the FREED slots of the job it replaces; None when it can,
    or when the cluster may give more: the adaptive scheduler runs a job with fewer slots, and
    a session that starts TaskManagers on demand (native Kubernetes, YARN) grows up to
    `slotmanager.number-of-slots.max`, unlimited when unset."""
    conf = jobmanager_config
    if conf.get("jobmanager.scheduler") == "adaptive" or conf.get("scheduler-mode") == "reactive":
        return None
    total = int(overview.get("slots-total") or 0)
    free = int(overview.get("slots-available") or 0)
    on_demand = conf.get("execution.target") in ON_DEMAND_TARGETS or "yarn.application.id" in conf
    if on_demand:
        limit = conf.get("slotmanager.number-of-slots.max")
        if not limit or not limit.strip().isdigit():
            return None
        free = int(limit) - (total - free)
        where = f"the session grows to at most {_slots(int(limit))}"
    else:
        where = f"the cluster has {_slots(total)}, {free} free"
    if needed <= free + freed:
        return None
    frees = f", and the job it replaces frees {freed}" if freed else ""
    return f"{subject} needs {_slots(needed)}; {where}{frees}"


def _slots(count: int) -> str:
    return f"{count} slot{'' if count == 1 else 's'}"


def latest_is_taken(mode: UpgradeMode, running: bool) -> bool:
    """What `--from-savepoint latest` means: with a running job and a mode that takes its state
    (savepoint, last-state), the state this deploy takes from it, the newest there is; without
    a running job, or with `stateless` (which takes none), NAME's newest savepoint, resolved
    before anything changes."""
    return running and mode is not UpgradeMode.STATELESS


def never_passed(job: Known) -> bool:
    """Whether JOB is a revision that never passed its gate and held no state worth keeping:
    judged unhealthy here, started without state, with no previous revision to go back to
    (a first deploy that failed: running it again is a first deploy again)."""
    record = job.record
    return (
        job.outcome == Health.UNHEALTHY
        and record is not None
        and record.restored_from is None
        and record.previous is None
    )


def last_good(jobs: Iterable[Known]) -> Known | None:
    """With nothing of NAME running: the revision a failing deploy goes back to, among the jobs
    the cluster shows with a record: the newest judged healthy here, else the newest that was
    stopped with a savepoint (FINISHED: it ran until a deploy replaced it), else the newest not
    judged unhealthy."""
    shown = [k for k in jobs if k.job is not None and k.record and k.outcome != Health.UNHEALTHY]
    for fits in (lambda k: k.outcome == Health.HEALTHY, lambda k: k.state == "FINISHED", bool):
        found = [k for k in shown if fits(k)]
        if found:
            return found[-1]
    return None


def owes_gate(current: Known) -> bool:
    """Whether the running revision's health gate never passed: no healthy outcome is recorded
    (a deploy killed during its gate, a fresh CI runner with an empty catalog, a revision left
    unhealthy by --no-rollback). Such a revision is gated again, never reported unchanged."""
    return current.outcome != Health.HEALTHY


def newer_generation(jobs: Iterable[Known], generation: int) -> Known | None:
    """The newest job of NAME on the cluster started after GENERATION (by another deploy or
    rollback): the one that superseded this run; the active one among them first. A job only
    the catalog knows (this run's own intent) is no evidence."""
    newer = [k for k in jobs if k.job and k.record and k.record.generation > generation]
    if not newer:
        return None
    return max(newer, key=lambda k: (k.active, k.record.generation if k.record else 0))


def referenced_jars(jobs: Iterable[Known]) -> set[str]:
    """The uploaded jars that a job of NAME still on the cluster runs, or that a rollback from
    any such job would go back to (its record's previous revision)."""
    jars: set[str] = set()
    for k in jobs:
        if k.record is None or not k.active:
            continue
        jars.add(k.record.spec.jar_id)
        if k.record.previous is not None:
            jars.add(k.record.previous.spec.jar_id)
    return jars


def stale_jars(
    jobs: list[Known], record: Record, keep: int, running_revision: int | None
) -> set[str]:
    """The jars deploy uploaded that tidying may delete: those of revisions beyond the newest
    KEEP, unless the running revision, RECORD's previous one, or any active job (a concurrent
    deploy's included) still needs them."""
    by_revision: dict[int, set[str]] = {}
    for k in jobs:
        if k.record and k.record.spec.uploaded:
            by_revision.setdefault(k.record.revision, set()).add(k.record.spec.jar_id)
    by_revision.setdefault(record.revision, set()).add(record.spec.jar_id)
    kept: set[int | None] = set(sorted(by_revision, reverse=True)[: max(keep, 1)])
    kept |= {running_revision, record.previous.revision if record.previous else None}
    wanted = {j for r in kept if r in by_revision for j in by_revision[r]}
    wanted |= referenced_jars(jobs) | {record.spec.jar_id}
    if record.previous is not None:
        wanted.add(record.previous.spec.jar_id)
    return {j for r, ids in by_revision.items() if r not in kept for j in ids} - wanted


def spec_diff(running: Spec | None, requested: Spec) -> list[dict[str, Any]]:
    """What a deploy of REQUESTED changes against RUNNING, field by field, as `kubectl diff`
    would list it: [{"field", "running", "requested"}] (every field when nothing runs)."""

    def fields(spec: Spec | None) -> dict[str, Any]:
        if spec is None:
            return {}
        jar = spec.sha256 and f"sha256:{spec.sha256[:12]}" or spec.jar_id
        found: dict[str, Any] = {
            "jar": jar,
            "class": spec.entry_class,
            "args": " ".join(mask_args(spec.args)) or None,
            "parallelism": spec.parallelism,
            "allow-non-restored-state": spec.allow_non_restored_state or None,
        }
        found.update({f"-D {k}": v for k, v in mask_conf(dict(spec.conf)).items()})
        return found

    before, after = fields(running), fields(requested)
    by_id = running is not None and not (running.sha256 and requested.sha256)
    if by_id and running is not None and running.jar_id == requested.jar_id:
        before["jar"] = after["jar"]  # the same uploaded jar, named two ways
    changes = []
    for key in [*after, *(k for k in before if k not in after)]:
        old, new = before.get(key), after.get(key)
        if old != new:
            changes.append({"field": key, "running": old, "requested": new})
    hidden = _hidden_change(running, requested) if running is not None else False
    if hidden is not False:
        told = "changed" if hidden else "may have changed"
        changes.append({"field": "secrets", "running": MASK, "requested": f"{MASK} ({told})"})
    return changes


def _hidden_change(running: Spec, requested: Spec) -> bool | None:
    """Whether a secret of REQUESTED differs from RUNNING's where the masked diff shows the
    same text, whatever else changed: REQUESTED with every value the diff shows changed put
    back as RUNNING has it compares unequal (`same_values`). None: it cannot be told (such a
    value of a masked RUNNING holds a mask)."""
    old, new = dict(running.conf), dict(requested.conf)
    conf = {}
    for key in old.keys() | new.keys():
        if key in old and key in new and mask_conf({key: old[key]}) == mask_conf({key: new[key]}):
            conf[key] = new[key]
        elif key in old:
            if MASK in old[key]:
                return None
            conf[key] = old[key]
    args = requested.args
    if mask_args(args) != mask_args(running.args):
        if any(MASK in a for a in running.args):
            return None
        args = running.args
    probe = replace(requested, args=args, conf=tuple(sorted(conf.items())), digest=None)
    return not same_values(probe, running)
