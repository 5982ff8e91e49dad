"""The savepoint regime: savepoints taken and recorded (overlapping runs joined), what the
catalog and Flink know of a name's savepoints merged, the newest one, prune plans, freshness.

Flink keeps the last 10 checkpoints of a job (savepoints among them) and `latest.savepoint` of
every job it still knows, running or recently ended; the catalog keeps what flinkctl took or
learned. Merged by path, they answer for a machine with an empty catalog too. No typer or rich.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from flinkctl.catalog import Savepoint, now_ms
from flinkctl.errors import FlinkctlError, NotFoundError, WaitTimeout
from flinkctl.flink import ACTIVE_STATES, ENDED_STATES, JobOverview, first_line, obj, objects

if TYPE_CHECKING:
    from flinkctl.catalog import Catalog
    from flinkctl.client import FlinkClient
    from flinkctl.client.poller import Poller


# -- taking savepoints -----------------------------------------------------------------------

JOIN_ATTEMPTS = 3  # rows settled one after another before a trigger stops looking for one to join
# A trigger Flink does not know (404) is settled only once its row is this old: a younger one
# may be a run's that recorded it and has not sent its request yet (repeating its id is safe).
UNSENT_GRACE_MS = 30_000


@dataclass
class Recording:
    """The catalog row of one savepoint being taken of job JOB_ID (named JOB_NAME).

    `start` records it and picks the trigger id: a new one, or, with JOIN_WITHIN seconds, the
    id of a savepoint of the same job that another run began less than that long ago and that
    Flink still reports in progress (then `joined` is set): Flink answers a repeated trigger
    id from its cache, so both runs follow one savepoint. A row the catalog has in progress
    whose savepoint Flink reports finished, or no longer knows, is settled first (`settle`),
    and a new savepoint is taken: a new trigger never reports an old savepoint. `completed`
    and `failed` record the end.
    """

    client: FlinkClient
    catalog: Catalog
    job_id: str
    job_name: str
    kind: str = "savepoint"
    format: str | None = None
    join_within: float | None = None
    row: Savepoint | None = None
    joined: bool = False

    def start(self) -> str:
        from flinkctl.client.poller import new_trigger_id
        from flinkctl.workflows.revisions import user_at_host

        ctx = self.client.ctx
        window = None if self.join_within is None else int(self.join_within * 1000)
        for _ in range(JOIN_ATTEMPTS):
            wanted = Savepoint(ctx.name, ctx.url, self.job_id, self.job_name, self.kind, now_ms(),
                               trigger_id=new_trigger_id(), format=self.format, by=user_at_host())  # fmt: skip
            row = self.catalog.begin_savepoint(wanted, window)
            if row.trigger_id == wanted.trigger_id:  # recorded: a new savepoint
                break
            # another run's trigger, in progress as far as the catalog knows: ask Flink first
            if settle(self.client, self.catalog, row) == "IN_PROGRESS":
                self.row, self.joined = row, True
                return str(row.trigger_id)
            # it has ended (now recorded so): take a new savepoint
        else:  # settled one after another: take a new one without looking again
            row = self.catalog.begin_savepoint(wanted)
        self.row, self.joined = row, False
        return str(row.trigger_id)

    def fields(self) -> dict[str, Any]:
        """What a result says of the trigger: whether it joined another run's, and when the
        savepoint it follows was triggered (epoch ms; an earlier run's, when joined)."""
        assert self.row is not None
        return {"joined": self.joined, "started-ms": self.row.started_ms}

    def completed(self, location: str | None) -> None:
        """Record the savepoint's path (its size comes from Flink when a list merges it)."""
        assert self.row is not None and self.row.id is not None
        self.catalog.finish_savepoint(self.row.id, "COMPLETED", path=location)

    def failed(self, exc: FlinkctlError) -> None:
        """Record a failure; a wait that ran out leaves the row in progress (it may complete)."""
        if self.row is not None and self.row.id is not None and not isinstance(exc, WaitTimeout):
            self.catalog.finish_savepoint(self.row.id, "FAILED", failure=exc.message)

    def joined_note(self) -> str:
        """What a joining run tells on stderr."""
        row = self.row
        assert row is not None
        when = time.strftime("%H:%M:%S", time.localtime(row.started_ms / 1000))
        return (
            f"a savepoint of job {self.job_id} triggered by {row.by or 'another run'} at {when} "
            f"is in progress: following it (trigger id {row.trigger_id})"
        )


@dataclass(frozen=True)
class Target:
    """A job to take a savepoint of, on the context of its client."""

    job_id: str
    job_name: str


def running_jobs(
    client: FlinkClient, glob: str | None = None
) -> tuple[list[Target], list[dict[str, Any]]]:
    """The jobs of CLIENT's cluster (whose name matches GLOB) to take a savepoint of, by name:
    those running cleanly; and a skipped result for each other job that has not ended
    (`{"job-id", "job-name", "status": "SKIPPED", "reason"}`, see `unclean`)."""
    jobs = objects(client.jobs_overview().get("jobs"))
    chosen = sorted(
        (j for j in jobs if glob is None or fnmatchcase(str(j.get("name")), glob)),
        key=lambda j: (str(j.get("name")), str(j.get("jid"))),
    )
    targets, skipped = [], []
    for job in chosen:
        if job.get("state") in ENDED_STATES:
            continue
        reason = unclean(job)
        if reason is None:
            targets.append(Target(str(job.get("jid")), str(job.get("name"))))
        else:
            skipped.append({"job-id": job.get("jid"), "job-name": job.get("name"),
                            "status": "SKIPPED", "reason": reason})  # fmt: skip
    return targets, skipped


def unclean(job: dict[str, Any]) -> str | None:
    """Why a job (an overview entry) is not running cleanly, or None: it is not RUNNING, or a
    task of it is neither RUNNING nor FINISHED (Flink would refuse or fail a savepoint)."""
    state = job.get("state")
    if state != "RUNNING":
        return f"the job is {state}"
    tasks = obj(job.get("tasks"))
    counts = {k: v for k, v in tasks.items() if isinstance(v, int) and k != "total" and v}
    others = {k: v for k, v in counts.items() if k not in ("running", "finished")}
    if not others:
        return None
    total = tasks.get("total") if isinstance(tasks.get("total"), int) else sum(counts.values())
    what = ", ".join(f"{v} {k}" for k, v in sorted(others.items()))
    return f"not running cleanly: {sum(others.values())} of {total} tasks not running ({what})"


def job_name(client: FlinkClient, job_id: str) -> str:
    """The name of job JOB_ID (from the overview; the job's details if it is not there)."""
    for job in objects(client.jobs_overview().get("jobs")):
        if job.get("jid") == job_id:
            return str(job.get("name"))
    return str(client.job(job_id).get("name"))


JOIN_WITHOUT_TIMEOUT = 600.0  # seconds: the join window of a wait without a timeout


@dataclass
class Options:
    """How `take` triggers and waits: --dir, --format, --cancel, --wait, --timeout."""

    directory: str | None = None
    format: str | None = None
    cancel: bool = False
    wait: bool = True
    timeout: float = 600.0

    @property
    def kind(self) -> str:
        """A savepoint that cancels the job ends it, as a stop does."""
        return "stop-with-savepoint" if self.cancel else "savepoint"

    @property
    def join_within(self) -> float | None:
        """Overlapping runs join a trigger younger than the wait; a cancel never joins."""
        return None if self.cancel else (self.timeout or JOIN_WITHOUT_TIMEOUT)


def take(
    client: FlinkClient,
    catalog: Catalog,
    target: Target,
    options: Options,
    poller: Callable[[float], Poller] | None = None,
) -> dict[str, Any]:
    """Trigger a savepoint of TARGET (joining one in progress) and, with options.wait, wait
    for it; recorded in CATALOG. Never raises a FlinkctlError: the result says what happened
    (`{"job-id", "job-name", "trigger-id", "joined", "started-ms", "status", "location",
    "duration-ms"}`, or `"error": {"code", "kind", "message"}`)."""
    from flinkctl.client.poller import Poller

    began = time.monotonic()
    result: dict[str, Any] = {"job-id": target.job_id, "job-name": target.job_name}
    recording = Recording(client, catalog, target.job_id, target.job_name, options.kind,
                          options.format, options.join_within)  # fmt: skip
    try:
        tid = recording.start()
        result.update({"trigger-id": tid, **recording.fields()})
        client.trigger_savepoint(target.job_id, tid, target_directory=options.directory,
                                 cancel_job=options.cancel, format_type=options.format)  # fmt: skip
        result["status"] = "IN_PROGRESS"
        if options.wait:
            operation = (poller or Poller)(options.timeout).operation(
                lambda: client.savepoint_status(target.job_id, tid),
                what=f"savepoint of job {target.job_id}",
            )
            recording.completed(operation.get("location"))
            result.update(status="COMPLETED", location=operation.get("location"))
    except FlinkctlError as exc:
        recording.failed(exc)
        result["status"] = "IN_PROGRESS" if isinstance(exc, WaitTimeout) else "FAILED"
        result["error"] = {"code": int(exc.code), "kind": exc.kind, "message": exc.message}
    result["duration-ms"] = int((time.monotonic() - began) * 1000)
    return result


# -- logs ------------------------------------------------------------------------------------


LOGGED_AT = "logged-at"  # the key of a result's log time (`time` is epoch ms elsewhere)


def logged(items: list[dict[str, Any]], at: float | None = None) -> list[dict[str, Any]]:
    """ITEMS, each led by LOGGED_AT: when they are written (AT, epoch seconds; default now),
    UTC, ISO 8601 to the millisecond (`2026-05-01T03:00:00.123Z`), so a log alone tells when."""
    from datetime import datetime, timezone

    moment = datetime.fromtimestamp(time.time() if at is None else at, timezone.utc)
    stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [{LOGGED_AT: stamp, **item} for item in items]


# -- what is known of savepoints -----------------------------------------------------------


def _savepoint_entries(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """The completed savepoints in a GET /jobs/:jobid/checkpoints body: the history's and
    `latest.savepoint` (which outlives the history's 10 entries)."""
    latest = obj(stats.get("latest"))
    found = [h for h in objects(stats.get("history")) if h.get("is_savepoint")]
    found.append(obj(latest.get("savepoint")))
    return [e for e in found if e.get("status") == "COMPLETED" and e.get("external_path")]


def _kind(checkpoint_type: object) -> str:
    words = ("SYNC", "SUSPEND", "TERMINATE")  # a stop's savepoint, by version
    return "stop-with-savepoint" if any(w in str(checkpoint_type) for w in words) else "savepoint"


def from_flink(
    context: str, cluster: str, job: JobOverview, stats: dict[str, Any]
) -> list[Savepoint]:
    """The completed savepoints Flink reports for JOB, as catalog rows (no trigger id, no by)."""
    rows = {}
    for entry in _savepoint_entries(stats):
        path = str(entry["external_path"])
        size = entry.get("state_size")
        rows[path] = Savepoint(
            context,
            cluster,
            str(job.get("jid")),
            str(job.get("name")),
            _kind(entry.get("checkpoint_type")),
            int(entry.get("trigger_timestamp") or 0),
            status="COMPLETED",
            path=path,
            format=entry.get("savepointFormat"),
            finished_ms=entry.get("latest_ack_timestamp"),
            size=size if isinstance(size, int) else None,
        )
    return list(rows.values())


def same_place(path: str) -> str:
    """PATH in one spelling, for comparing: `file:/x`, `file:///x` and `/x/` are one place."""
    from urllib.parse import urlsplit

    parts = urlsplit(path)
    return f"{parts.scheme or 'file'}://{parts.netloc}{parts.path.rstrip('/')}"


def merge(recorded: list[Savepoint], reported: list[Savepoint]) -> list[Savepoint]:
    """RECORDED (the catalog's rows) and REPORTED (Flink's), one row per path, newest first: a
    recorded path keeps its row (its status may say disposed), gaining Flink's size."""
    by_path = {same_place(r.path): i for i, r in enumerate(recorded) if r.path}
    rows = list(recorded)
    for row in reported:
        path = same_place(str(row.path))
        at = by_path.get(path)
        if at is None:
            by_path[path] = len(rows)
            rows.append(row)
        elif rows[at].size is None:
            rows[at] = replace(rows[at], size=row.size)
    return sorted(rows, key=lambda r: (r.started_ms, r.id or 0), reverse=True)


@dataclass
class KnownSavepoints:
    """What one cluster and the catalog know of the savepoints of some job names."""

    savepoints: list[Savepoint]  # merged, newest first
    running: list[JobOverview] = field(default_factory=list)  # active jobs of those names
    restored: dict[str, str] = field(default_factory=dict)  # running job id -> restored path

    def completed(self, name: str | None = None) -> list[Savepoint]:
        """Completed, not disposed savepoints (of NAME), newest first."""
        return [
            s
            for s in self.savepoints
            if s.status == "COMPLETED" and s.path and (name is None or s.job_name == name)
        ]

    def newest(self, name: str) -> Savepoint | None:
        found = self.completed(name)
        return found[0] if found else None


def known(
    client: FlinkClient, catalog: Catalog, name: str | None = None, *, glob: str | None = None
) -> KnownSavepoints:
    """The savepoints of job NAME (or of names matching GLOB; neither: every job) on CLIENT's
    cluster: the catalog's rows merged with Flink's history and `latest.savepoint` of every job
    of those names it still knows (read concurrently). Flink's that the catalog lacked are
    recorded in it, so they outlive Flink's memory."""
    ctx = client.ctx

    def wanted(job_name: object) -> bool:
        if name is not None:
            return job_name == name
        return glob is None or fnmatchcase(str(job_name), glob)

    jobs = [j for j in objects(client.jobs_overview().get("jobs")) if wanted(j.get("name"))]
    stats = client.fan_out(lambda j: _stats(client, str(j.get("jid"))), jobs)
    reported: list[Savepoint] = []
    restored: dict[str, str] = {}
    running: list[JobOverview] = []
    for job, body in zip(jobs, stats, strict=True):
        reported += from_flink(ctx.name, ctx.url, job, body)  # type: ignore[arg-type]
        if job.get("state") in ACTIVE_STATES:
            running.append(job)  # type: ignore[arg-type]
            path = obj(obj(body.get("latest")).get("restored")).get("external_path")
            if path:
                restored[str(job.get("jid"))] = str(path)
    catalog.learn_savepoints(reported)
    _settle(client, catalog, [r for r in catalog.savepoints([ctx.url], name) if wanted(r.job_name)])
    recorded = [r for r in catalog.savepoints([ctx.url], name) if wanted(r.job_name)]
    return KnownSavepoints(merge(recorded, reported), running, restored)


def _settle(client: FlinkClient, catalog: Catalog, rows: list[Savepoint]) -> None:
    """Ask Flink how the ROWS still in progress (a run that did not wait, or was stopped)
    ended, while it remembers their trigger ids, and record it (see `settle`)."""
    pending = [r for r in rows if r.status == "IN_PROGRESS" and r.trigger_id and r.id]

    def ask(row: Savepoint) -> None:
        with suppress(FlinkctlError):  # unreachable: unknown for now
            settle(client, catalog, row)

    client.fan_out(ask, pending)


FORGOTTEN = "FORGOTTEN"


def settle(client: FlinkClient, catalog: Catalog, row: Savepoint) -> str:
    """Ask Flink by trigger id how ROW (in progress in the catalog) stands, and record its end.

    "IN_PROGRESS": Flink still takes it (nothing recorded). "COMPLETED" (its path recorded)
    or "FAILED" (Flink's failure recorded). FORGOTTEN: Flink answers 404 for the trigger id
    (it keeps an operation's status for `rest.async.store-duration`, 5 min by default; or the
    job is gone), so how it ended is unknown: the row is settled FAILED with a failure that
    says so; a savepoint Flink did complete is still listed by its path while Flink reports it.
    A row younger than UNSENT_GRACE_MS that Flink does not know counts as in progress: its run
    may not have sent the request yet. Other errors (unreachable, refused) propagate.
    """
    from flinkctl.flink import failure_trace, trace_summary

    row_id, tid = int(row.id or 0), str(row.trigger_id)
    try:
        body = client.savepoint_status(row.job_id, tid)
    except NotFoundError:
        if now_ms() - row.started_ms < UNSENT_GRACE_MS:
            return "IN_PROGRESS"
        failure = (
            f"outcome unknown: Flink no longer knows trigger id {tid} "
            "(rest.async.store-duration, 5 min by default)"
        )
        catalog.finish_savepoint(row_id, "FAILED", failure=failure)
        return FORGOTTEN
    if obj(body.get("status")).get("id") != "COMPLETED":
        return "IN_PROGRESS"
    operation = obj(body.get("operation"))
    trace = failure_trace(operation)
    if trace or not operation.get("location"):
        summary = trace_summary(trace) if trace else "Flink reported no location"
        catalog.finish_savepoint(row_id, "FAILED", failure=summary)
        return "FAILED"
    catalog.finish_savepoint(row_id, "COMPLETED", path=str(operation["location"]))
    return "COMPLETED"


def _stats(client: FlinkClient, job_id: str) -> dict[str, Any]:
    """A job's checkpoint statistics; empty when Flink has none to give (a job that never
    checkpointed, one forgotten meanwhile)."""
    try:
        return dict(client.checkpoint_stats(job_id))
    except FlinkctlError:
        return {}


def newest_path(client: FlinkClient, catalog: Catalog, name: str) -> str:
    """The path of NAME's newest completed, not disposed savepoint; NotFoundError if none."""
    found = known(client, catalog, name).newest(name)
    if found is None or not found.path:
        raise NotFoundError(
            f"no completed savepoint of job {name!r} is known here or on the cluster",
            hint=f"take one: flinkctl savepoint trigger {name} --wait",
        )
    return found.path


# -- prune -----------------------------------------------------------------------------------


@dataclass
class Decision:
    """What prune does with one savepoint: dispose it, or keep it and why."""

    savepoint: Savepoint
    dispose: bool
    reason: str
    outcome: str = ""  # after the run: disposed, or why not

    def to_json(self) -> dict[str, Any]:
        return {
            **self.savepoint.to_json(),
            "action": "dispose" if self.dispose else "keep",
            "reason": self.reason,
            "outcome": self.outcome or None,
        }


def rollback_states(client: FlinkClient, catalog: Catalog, name: str) -> dict[str, str]:
    """Savepoints NAME's deploy records keep for a rollback (path -> why): the state the
    running revision and the newest recorded revision started from."""
    from flinkctl.workflows.revisions import history

    jobs = history(client, catalog, name).jobs
    chosen = [k for k in jobs if k.active] + jobs[-1:]
    kept = {
        k.record.restored_from: f"revision {k.record.revision} started from it (rollback)"
        for k in chosen
        if k.record and k.record.restored_from
    }
    for k in jobs:  # the state a rollback of a running revision starts from: never pruned
        if k.active and k.record and k.record.rollback_state:
            kept[k.record.rollback_state] = f"revision {k.record.revision} rolls back to it"
    return kept


def plan(
    found: KnownSavepoints,
    names: list[str],
    *,
    keep: int | None,
    older_than: float | None,
    protected: dict[str, str],
    now: int | None = None,
) -> list[Decision]:
    """Per job name in NAMES, across job ids: dispose completed savepoints beyond the newest
    KEEP and older than OLDER_THAN seconds (either alone when the other is None), never the
    newest, one a running job restored from, nor one in PROTECTED (path -> why)."""
    now = now or now_ms()
    restored = {same_place(path): jid for jid, path in found.restored.items()}
    protected = {same_place(path): why for path, why in protected.items()}
    decisions = []
    for name in names:
        for rank, row in enumerate(found.completed(name)):
            path = same_place(str(row.path))
            age = (now - row.started_ms) / 1000
            if rank == 0:
                decisions.append(Decision(row, False, "the newest"))
            elif path in restored:
                decisions.append(Decision(row, False, f"job {restored[path]} restored from it"))
            elif path in protected:
                decisions.append(Decision(row, False, protected[path]))
            elif keep is not None and rank < keep:
                decisions.append(Decision(row, False, f"among the newest {keep}"))
            elif older_than is not None and age <= older_than:
                decisions.append(Decision(row, False, "younger than --older-than"))
            else:
                decisions.append(Decision(row, True, "pruned"))
    return decisions


def dispose(
    client: FlinkClient, catalog: Catalog, decision: Decision, timeout: float
) -> FlinkctlError | None:
    """Dispose DECISION's savepoint through Flink (POST /savepoint-disposal) and wait for it;
    mark it disposed. The error, if it failed (a savepoint already gone counts as disposed)."""
    from flinkctl.client.poller import Poller

    path = str(decision.savepoint.path)
    try:
        tid = client.dispose_savepoint(path)["request-id"]
        Poller(timeout).operation(lambda: client.disposal_status(tid), what=f"disposal of {path}")
    except FlinkctlError as exc:
        if not _already_gone(exc):
            decision.outcome = f"failed: {first_line(exc.message)}"
            return exc
    catalog.mark_disposed(path)
    decision.outcome = "disposed"
    return None


def _already_gone(exc: FlinkctlError) -> bool:
    text = " ".join([exc.message, *exc.flink])
    return "FileNotFoundException" in text or "does not exist" in text


# -- check -----------------------------------------------------------------------------------


def freshness(
    found: KnownSavepoints, max_age: float, now: int | None = None
) -> list[dict[str, Any]]:
    """One row per running job of FOUND: its name's newest completed savepoint, its age and
    whether it is younger than MAX_AGE seconds (`"fresh"`)."""
    now = now or now_ms()
    rows = []
    for job in sorted(found.running, key=lambda j: (str(j.get("name")), str(j.get("jid")))):
        newest = found.newest(str(job.get("name")))
        age = now - newest.started_ms if newest else None
        rows.append(
            {
                "job-id": job.get("jid"),
                "job-name": job.get("name"),
                "savepoint": newest.path if newest else None,
                "taken": newest.started_ms if newest else None,
                "age-ms": age,
                "fresh": age is not None and age <= max_age * 1000,
            }
        )
    return rows
