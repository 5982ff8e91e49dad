"""`deploy` and `rollback`: replace the job named NAME safely, and undo it when it is not healthy.

deploy: validate (resolve NAME's running job, upload, plan: a failing main() is refused before
anything changes), skip an unchanged deploy, take the old job's state (savepoint, last-state or
stateless), start the new revision from it with NO_CLAIM, health-gate it, and on failure start
the previous revision again from the same state. rollback: the same switch towards an older
revision. Each start carries its revision record (flinkctl.workflows.revisions) and gets a job
id derived from NAME and a generation number, so two deploys racing for one NAME cannot both
start a job: Flink refuses the second id.

No typer or rich: progress goes to a Listener, the outcome is a Report.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from flinkctl.errors import (
    AuthError,
    ExitCode,
    FlinkctlError,
    UnreachableError,
    UsageError,
    WaitTimeout,
)
from flinkctl.flink import ENDED_STATES, Json, jar_id, trace_summary
from flinkctl.workflows import health
from flinkctl.workflows.revisions import (
    History,
    Known,
    Previous,
    Record,
    Spec,
    history,
    job_id_for,
    with_record,
)

if TYPE_CHECKING:
    from flinkctl.catalog import Catalog
    from flinkctl.client import FlinkClient
    from flinkctl.client.poller import Poller

UPGRADE_MODES = ("savepoint", "last-state", "stateless")
RESULT_CODES = {
    "deployed": ExitCode.OK,
    "unchanged": ExitCode.OK,
    "planned": ExitCode.OK,
    "refused": ExitCode.USAGE,
    "rolled-back": ExitCode.ROLLED_BACK,
    "failed": ExitCode.FAILED,
}
CANNOT_MAP = "Cannot map checkpoint/savepoint state"
LATEST = "latest"  # --from-savepoint latest: NAME's newest savepoint (flinkctl savepoint latest)
DUPLICATE = "Duplicate"  # DuplicateJobSubmissionException / DuplicateApplicationSubmission...


@dataclass
class Step:
    """One step of a deploy as the report lists it."""

    step: str
    status: str = "running"  # running | ok | failed | skipped | planned
    duration_ms: int = 0
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "status": self.status,
            "duration-ms": self.duration_ms,
            "detail": self.detail,
        }


@dataclass
class Report:
    """The outcome of a deploy or rollback: what runs now, how it got there, and why not."""

    name: str
    result: str = "failed"  # deployed | unchanged | refused | rolled-back | failed | planned
    revision: int | None = None  # the revision running at the end
    job_id: str | None = None  # the job running at the end
    previous_job_id: str | None = None  # the job that ran before
    savepoint: str | None = None  # the state taken from the previous job (recover from it)
    steps: list[Step] = field(default_factory=list)
    cause: str | None = None
    hint: str | None = None
    notes: list[str] = field(default_factory=list)
    timed_out: bool = False

    @property
    def exit_code(self) -> int:
        if self.timed_out:
            return int(ExitCode.TIMEOUT)
        return int(RESULT_CODES[self.result])

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "result": self.result,
            "revision": self.revision,
            "job-id": self.job_id,
            "previous-job-id": self.previous_job_id,
            "savepoint": self.savepoint,
            "steps": [s.to_json() for s in self.steps],
            "cause": self.cause,
            "hint": self.hint,
            "notes": self.notes,
        }


class Listener(Protocol):
    """Progress callbacks (the CLI prints them on stderr)."""

    def started(self, step: Step) -> None:
        """STEP began."""

    def progress(self, step: Step, detail: str) -> None:
        """STEP is still going; DETAIL says how far (the health gate's counts)."""

    def finished(self, step: Step) -> None:
        """STEP ended with its status and duration."""


class Silent:
    """A Listener that says nothing."""

    def started(self, step: Step) -> None:
        pass

    def progress(self, step: Step, detail: str) -> None:
        pass

    def finished(self, step: Step) -> None:
        pass


@dataclass
class Request:
    """What `flinkctl deploy` was asked to do."""

    name: str
    jar: str  # a local jar file, or an uploaded jar's id, id prefix or file name
    jar_file: Path | None = None  # JAR as a local file (decided by the caller)
    entry_class: str | None = None
    args: tuple[str, ...] = ()
    parallelism: int | None = None
    conf: dict[str, str] = field(default_factory=dict)
    upgrade_mode: str = "savepoint"
    allow_non_restored_state: bool = False
    drain: bool = False
    from_savepoint: str | None = None
    fresh: bool = False
    savepoint_dir: str | None = None
    gate: health.Gate = field(default_factory=health.Gate)
    timeout: float = 300.0  # waiting for the old job's savepoint, stop or cancellation
    keep_jars: int = 3
    rollback: bool = True
    dry_run: bool = False

    def check(self) -> None:
        """Refuse contradictory options before any request."""
        if self.upgrade_mode not in UPGRADE_MODES:
            raise UsageError(f"unknown --upgrade-mode {self.upgrade_mode!r}")
        if self.drain and self.rollback:
            raise UsageError(
                "--drain fires timers and windows, so its savepoint is no place to roll back to",
                hint="use --drain only with --no-rollback",
            )
        if self.from_savepoint and self.fresh:
            raise UsageError("choose one of --from-savepoint and --fresh")
        if self.gate.healthy_for >= self.gate.timeout:
            raise UsageError("--healthy-for must be shorter than --timeout")


class Stop(Exception):
    """Ends a workflow early with RESULT and CAUSE (and a hint)."""

    def __init__(self, result: str, cause: str, hint: str | None = None) -> None:
        super().__init__(cause)
        self.result, self.cause, self.hint = result, cause, hint


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def failure(exc: FlinkctlError) -> str:
    """A Flink failure on one line: its first line and its deepest cause."""
    return trace_summary("\n".join(exc.flink)) if exc.flink else exc.message


class Deployer:
    """Runs deploys and rollbacks against one cluster, recording them in the catalog."""

    def __init__(
        self,
        client: FlinkClient,
        catalog: Catalog,
        listener: Listener | None = None,
        *,
        poller: Callable[[float], Poller] | None = None,
    ) -> None:
        self.client = client
        self.catalog = catalog
        self.listener = listener or Silent()
        self.cluster = client.ctx.url
        if poller is None:
            from flinkctl.client.poller import Poller

            poller = Poller
        self.poller = poller
        self.report = Report("")

    # -- the two workflows -------------------------------------------------------------------

    def deploy(self, req: Request) -> Report:
        """Deploy REQ (see the module docstring); never raises for what the report can say."""
        req.check()
        return self.guarded(req.name, lambda: self._deploy(req))

    def rollback(
        self, name: str, revision: int | None = None, gate: health.Gate | None = None
    ) -> Report:
        """Stop NAME's job with a savepoint and start an older revision from it, health-gated."""
        req = Request(name, jar="", gate=gate or health.Gate())
        return self.guarded(name, lambda: self._rollback(req, revision))

    def guarded(self, name: str, work: Callable[[], None]) -> Report:
        """Run WORK for a new report; turn what it raises into the report's result.

        Before any change an error is a refusal (a lost connection or refused credentials
        stay errors, with their exit codes); after one it is a failure naming the state to
        recover from.
        """
        self.report = Report(name)
        self.changed = False
        self.uploaded: str | None = None
        try:
            work()
        except Stop as stop:
            self.finish(stop)
        except WaitTimeout as exc:
            self.report.timed_out = True
            self.finish(Stop("failed", exc.message, exc.hint or self.recover_hint()))
        except FlinkctlError as exc:
            if not self.changed and isinstance(exc, UnreachableError | AuthError):
                self.delete_upload()
                raise
            result = "failed" if self.changed else "refused"
            self.finish(Stop(result, failure(exc), exc.hint))
        return self.report

    def _deploy(self, req: Request) -> None:
        with self.step("resolve") as step:
            known = self.resolve(req.name)
            current = self.current(known)
            step.detail = _describe(current)
            if req.from_savepoint == LATEST:
                from flinkctl.workflows.savepoints import newest_path

                req.from_savepoint = newest_path(self.client, self.catalog, req.name)
                step.detail += f"; the newest savepoint: {req.from_savepoint}"
        spec = self.requested(req)
        with self.step("compare") as step:
            if current is not None and current.record is not None:
                step.detail = (
                    f"revision {current.record.revision} runs {current.record.spec.describe()}"
                )
                if current.record.spec.same_program(spec):
                    return self.unchanged(current)
            else:
                step.detail = "nothing to compare with"
        self.preconditions(req, known, current)
        if req.jar_file is not None:
            with self.step("upload") as step:
                self.uploaded = jar_id(self.client.upload_jar(req.jar_file))
                spec = replace(spec, jar_id=self.uploaded)
                step.detail = self.uploaded
        with self.step("plan") as step:
            step.detail = self.plan(req, spec)
        if req.dry_run:
            return self.planned(req, current)
        revision = max(known.max_revision, self.local_max(req.name, "revision")) + 1
        generation = self.next_generation(known)
        self.changed = True
        self.report.previous_job_id = current.job_id if current else None
        taken = self.take_state(req, current)
        state = req.from_savepoint or (None if req.fresh else taken)
        back = current.record.as_previous(current.job_id) if current and current.record else None
        record = Record(req.name, revision, generation, spec, restored_from=state,
                        previous_job_id=current.job_id if current else None, previous=back)  # fmt: skip
        self.switch(record, state, req, back=back, back_state=taken,
                    back_previous=current.record.previous if current and current.record else None)  # fmt: skip
        self.tidy(req, known, record)

    def _rollback(self, req: Request, revision: int | None) -> None:
        name = req.name
        with self.step("resolve") as step:
            known = self.resolve(name)
            current = self.current(known)
            if current is None:
                raise Stop("refused", f"no job named {name!r} runs: nothing to roll back")
            step.detail = _describe(current)
        with self.step("target") as step:
            target = self.target(known, current, revision)
            step.detail = f"revision {target.revision}: {target.spec.describe()}"
            if current.record and current.record.spec.same_program(target.spec):
                return self.unchanged(current)
            uploaded = {f.get("id") for f in self.client.jars().get("files") or []}
            if target.spec.jar_id not in uploaded:
                raise Stop(
                    "refused",
                    f"the jar of revision {target.revision} ({target.spec.jar_id}) is no "
                    "longer uploaded",
                    hint=f"deploy it again: flinkctl deploy {name} --jar FILE ...",
                )
        self.changed = True
        self.report.previous_job_id = current.job_id
        state = self.take_state(req, current)
        older = known.revision(target.revision)
        record = Record(name, target.revision, self.next_generation(known), target.spec,
                        action="rollback", restored_from=state, previous_job_id=current.job_id,
                        previous=older.previous if older else None)  # fmt: skip
        back = current.record.as_previous(current.job_id) if current.record else None
        self.switch(record, state, req, back=back, back_state=state,
                    back_previous=current.record.previous if current.record else None)  # fmt: skip

    # -- steps -------------------------------------------------------------------------------

    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        """Time a step, tell the listener, mark it failed when it raises."""
        step = Step(name)
        self.report.steps.append(step)
        self.listener.started(step)
        began = time.monotonic()
        try:
            yield step
        except BaseException as exc:
            step.status = "failed"
            if not step.detail:
                step.detail = exc.cause if isinstance(exc, Stop) else str(exc)
            raise
        else:
            if step.status == "running":
                step.status = "ok"
        finally:
            step.duration_ms = int((time.monotonic() - began) * 1000)
            self.listener.finished(step)

    def resolve(self, name: str) -> History:
        known = history(self.client, self.catalog, name)
        if known.replaced:
            ids = ", ".join(known.replaced)
            self.report.notes.append(
                f"the program of job {ids} sets its own global job parameters, which replaced "
                "the revision record on the cluster; using this machine's catalog"
            )
        return known

    def current(self, known: History) -> Known | None:
        running = known.running
        if len(running) > 1:
            listing = "; ".join(f"{k.job_id} {k.state}" for k in running)
            raise Stop(
                "refused",
                f"{len(running)} jobs named {known.name!r} run: {listing}",
                hint="cancel all but one (flinkctl jobs cancel JOB), then deploy again",
            )
        return running[0] if running else None

    def requested(self, req: Request) -> Spec:
        """The spec REQ asks for; an uploaded jar is resolved to its id (a GET, no change)."""
        if req.jar_file is not None:
            return Spec(
                jar_id="",
                jar_name=req.jar_file.name,
                sha256=sha256(req.jar_file),
                uploaded=True,
                entry_class=req.entry_class,
                args=tuple(req.args),
                parallelism=req.parallelism,
                conf=tuple(sorted(req.conf.items())),
                allow_non_restored_state=req.allow_non_restored_state,
            )
        from flinkctl.client.resolve import jar

        found = jar(self.client, req.jar, newest=True)
        return Spec(
            jar_id=found["id"],
            jar_name=found.get("name"),
            entry_class=req.entry_class,
            args=tuple(req.args),
            parallelism=req.parallelism,
            conf=tuple(sorted(req.conf.items())),
            allow_non_restored_state=req.allow_non_restored_state,
        )

    def preconditions(self, req: Request, known: History, current: Known | None) -> None:
        """What deploy refuses before touching anything, besides a failing program."""
        if current is None:
            if known.jobs and not (req.from_savepoint or req.fresh):
                raise Stop(
                    "refused",
                    f"no job named {req.name!r} runs, but it ran before (jobs "
                    f"{', '.join(k.job_id for k in known.jobs[-3:])}): starting it without "
                    "state would drop that state",
                    hint="say what to start from: --from-savepoint PATH or --fresh",
                )
            return
        if current.record is None and req.rollback:
            raise Stop(
                "refused",
                f"job {current.job_id} ({req.name}) has no deploy record, so a failed deploy "
                "could not roll back to it",
                hint="deploy once with --no-rollback to take it over",
            )
        if req.upgrade_mode == "last-state":
            self.check_retained(current.job_id)

    def check_retained(self, job_id: str) -> None:
        """last-state needs a completed checkpoint that outlives a cancellation."""
        config = self.client.checkpoint_config(job_id)
        external = config.get("externalization") or {}
        if not external.get("enabled") or external.get("delete_on_cancellation", True):
            raise Stop(
                "refused",
                f"job {job_id} does not retain its checkpoints when cancelled, so "
                "--upgrade-mode last-state has no state to start from",
                hint="use --upgrade-mode savepoint, or set execution.checkpointing."
                "externalized-checkpoint-retention: RETAIN_ON_CANCELLATION",
            )
        latest = (self.client.checkpoint_stats(job_id).get("latest") or {}).get("completed")
        if not latest:
            raise Stop("refused", f"job {job_id} has no completed checkpoint yet")

    def plan(self, req: Request, spec: Spec) -> str:
        """POST /jars/:jarid/plan runs main(): its failure, or another job name, is refused."""
        try:
            planned = self.client.plan_jar(spec.jar_id, _program(spec))
        except FlinkctlError as exc:
            if isinstance(exc, UnreachableError | AuthError):
                raise
            raise Stop(
                "refused",
                f"the program fails before it starts: {failure(exc)}",
                hint="the running job was not touched",
            ) from exc
        plan = planned.get("plan") or planned
        name = plan.get("name")
        if name != req.name:
            raise Stop(
                "refused",
                f"the program names its job {name!r}, not {req.name!r}",
                hint="NAME is the name the program passes to execute()",
            )
        return f"job {name!r}, {len(plan.get('nodes') or [])} vertices"

    def take_state(self, req: Request, current: Known | None) -> str | None:
        """Stop or cancel the old job by the upgrade mode; the path of the state it leaves."""
        if current is None:
            return None
        jid = current.job_id
        if req.upgrade_mode == "savepoint":
            with self.step("savepoint") as step:
                location = self.stop_with_savepoint(jid, req, req.name)
                self.report.savepoint = step.detail = location
            return location
        with self.step("cancel") as step:
            step.detail = self.cancel(jid, req.timeout)
        if req.upgrade_mode == "stateless":
            return None
        with self.step("checkpoint") as step:
            latest = (self.client.checkpoint_stats(jid).get("latest") or {}).get("completed")
            checkpoint = (latest or {}).get("external_path")
            if not checkpoint:
                raise Stop("failed", f"cancelled job {jid} left no retained checkpoint")
            self.report.savepoint = step.detail = checkpoint
        return checkpoint

    def stop_with_savepoint(self, jid: str, req: Request, name: str) -> str:
        """Stop job JID (of NAME) with a savepoint, recorded in the catalog as kind deploy."""
        from flinkctl.workflows.savepoints import Recording

        recording = Recording(self.client, self.catalog, jid, name, "deploy")
        trigger = recording.start()
        try:
            self.client.stop_job(jid, trigger, drain=req.drain, target_directory=req.savepoint_dir)
            done = self.poller(req.timeout).operation(
                lambda: self.client.savepoint_status(jid, trigger), what="stop-with-savepoint"
            )
            recording.completed(done.get("location"))
        except WaitTimeout:
            raise
        except FlinkctlError as exc:
            recording.failed(exc)
            state = self.client.job_status(jid).get("status")
            if state in ENDED_STATES:  # someone else stopped it: another deploy or rollback
                raise Stop(
                    "refused",
                    f"job {jid} ended ({state}) while this deploy was stopping it: another "
                    "deploy or rollback of this name runs at the same moment",
                ) from exc
            raise Stop(
                "failed",
                f"stop-with-savepoint of job {jid} failed: {failure(exc)}",
                hint=f"job {jid} still runs ({state}); nothing changed",
            ) from exc
        return str(done.get("location"))

    def cancel(self, jid: str, timeout: float) -> str:
        """Cancel job JID and wait until it has ended (one that already ended is fine): how."""
        try:
            self.client.cancel_job(jid)
        except FlinkctlError:
            if self.client.job_status(jid).get("status") not in ENDED_STATES:
                raise
        ended = self.poller(timeout).until(
            lambda: self.client.job_status(jid),
            lambda s: s.get("status") in ENDED_STATES,
            what=f"cancellation of job {jid}",
        )
        return f"job {jid} {str(ended.get('status')).lower()}"

    def switch(
        self,
        record: Record,
        state: str | None,
        req: Request,
        *,
        back: Previous | None,
        back_state: str | None,
        back_previous: Previous | None,
    ) -> None:
        """Start RECORD from STATE and gate it; when unhealthy, start BACK (recording
        BACK_PREVIOUS as its previous revision) from BACK_STATE, the old job's state."""
        started = self.start(record, state, "start")
        if started is not None:
            verdict = self.gate(started, req.gate, "health")
            if verdict.status == "healthy":
                self.report.result = "deployed"
                self.report.revision, self.report.job_id = record.revision, started
                return
            cause = f"revision {record.revision} is not healthy: {verdict.reason}"
        else:
            cause = self.report.cause or f"revision {record.revision} did not start"
        if not req.rollback:
            raise Stop(
                "failed",
                cause,
                hint=self.recover_hint() + (f"; job {started} is left as it is" if started else ""),
            )
        if started is not None:
            with self.step("cancel-new") as step:
                step.detail = self.cancel(started, req.timeout)
        if back is None:
            raise Stop(
                "failed", cause + "; no previous revision to roll back to", self.recover_hint()
            )
        back_record = Record(
            record.name,
            back.revision,
            record.generation + 1,
            back.spec,
            action="rollback",
            restored_from=back_state,
            previous_job_id=started,
            previous=back_previous,
        )
        self.report.cause = None
        again = self.start(back_record, back_state, "rollback")
        if again is None:
            raise Stop(
                "failed",
                f"{cause}; the rollback did not start either: {self.report.cause}",
                self.recover_hint(),
            )
        verdict = self.gate(again, req.gate, "rollback-health")
        if verdict.status != "healthy":
            raise Stop(
                "failed",
                f"{cause}; revision {back.revision} is not healthy either: {verdict.reason}",
                self.recover_hint(),
            )
        self.report.revision, self.report.job_id = back.revision, again
        raise Stop("rolled-back", cause, _unmapped_hint(cause, record))

    def start(self, record: Record, state: str | None, step_name: str) -> str | None:
        """Run RECORD's spec from STATE with its record; the job id, None when the run request
        failed (the cause goes to the report)."""
        from flinkctl.catalog import Entry

        new_id = job_id_for(record.name, record.generation)
        spec = record.spec
        body = _program(spec)
        body["flinkConfiguration"] = with_record(dict(spec.conf), record)
        body["jobId"] = new_id
        if state:
            body["savepointPath"] = state
            body["claimMode"] = "NO_CLAIM"  # CLAIM may delete the savepoint a rollback needs
            if spec.allow_non_restored_state:
                body["allowNonRestoredState"] = True
        with self.step(step_name) as step:
            step.detail = f"revision {record.revision} as job {new_id}" + (
                f" from {state}" if state else " without state"
            )
            self.catalog.add(
                Entry(self.cluster, record.name, new_id, record.revision, record.generation,
                      record.to_json(), None, record.time_ms)
            )  # fmt: skip
            try:
                self.client.run_jar(spec.jar_id, body)
            except FlinkctlError as exc:
                if isinstance(exc, UnreachableError | AuthError):
                    raise
                cause = failure(exc)
                self.catalog.set_outcome(self.cluster, new_id, "not-started")
                if DUPLICATE in cause:
                    raise Stop(
                        "refused",
                        f"job id {new_id} is taken: another deploy or rollback of "
                        f"{record.name!r} started generation {record.generation} at the same moment",
                    ) from exc
                step.status = "failed"
                step.detail = cause
                self.report.cause = cause
                return None
        return new_id

    def gate(self, job_id: str, gate: health.Gate, step_name: str) -> health.Verdict:
        with self.step(step_name) as step:
            try:
                verdict, note = health.watch(
                    self.client,
                    job_id,
                    gate,
                    self.poller(0),
                    on_verdict=lambda v: self.listener.progress(step, v.reason),
                )
            except FlinkctlError as exc:
                if isinstance(exc, UnreachableError | AuthError):
                    raise
                verdict, note = health.Verdict("unhealthy", failure(exc)), None
            step.detail = verdict.reason
            if note and note not in self.report.notes:
                self.report.notes.append(note)
            outcome = "healthy" if verdict.status == "healthy" else "unhealthy"
            self.catalog.set_outcome(self.cluster, job_id, outcome)
            if outcome != "healthy":
                step.status = "failed"
        return verdict

    def tidy(self, req: Request, known: History, record: Record) -> None:
        """Keep the jars deploy uploaded for the newest KEEP_JARS revisions, the running one
        and the one a rollback would go to; delete the older ones."""
        with self.step("tidy") as step:
            jars: dict[int, set[str]] = {}
            for k in known.jobs:
                if k.record and k.record.spec.uploaded:
                    jars.setdefault(k.record.revision, set()).add(k.record.spec.jar_id)
            jars.setdefault(record.revision, set()).add(record.spec.jar_id)
            keep: set[int | None] = set(sorted(jars, reverse=True)[: max(req.keep_jars, 1)])
            keep |= {self.report.revision, record.previous.revision if record.previous else None}
            wanted = {j for r in keep if r in jars for j in jars[r]}
            stale = {j for r, ids in jars.items() if r not in keep for j in ids} - wanted
            present = {f.get("id") for f in self.client.jars().get("files") or []}
            gone = sorted(stale & present)
            for jar in gone:
                self.client.delete_jar(jar)
            step.detail = f"deleted {len(gone)} old jar(s)" if gone else "nothing to delete"

    # -- endings -----------------------------------------------------------------------------

    def unchanged(self, current: Known) -> None:
        assert current.record is not None
        self.report.result = "unchanged"
        self.report.revision, self.report.job_id = current.record.revision, current.job_id

    def planned(self, req: Request, current: Known | None) -> None:
        """--dry-run: list the steps deploy would take, delete the upload made for the plan."""
        if current is not None:
            mode = {"savepoint": "savepoint", "last-state": "cancel", "stateless": "cancel"}
            what = {
                "savepoint": f"stop job {current.job_id} with a savepoint",
                "last-state": f"cancel job {current.job_id}, start from its newest checkpoint",
                "stateless": f"cancel job {current.job_id}, start without state",
            }
            self._planned(mode[req.upgrade_mode], what[req.upgrade_mode])
        source = req.from_savepoint or ("the savepoint" if current else "no state")
        self._planned("start", f"start the new revision from {source} (NO_CLAIM)")
        self._planned("health", f"health gate for {req.gate.healthy_for:g}s")
        if req.rollback and current is not None:
            self._planned("rollback", "if unhealthy: start the running revision again")
        self.delete_upload()
        self.report.result = "planned"
        if current is not None:
            self.report.job_id = current.job_id
            self.report.revision = current.record.revision if current.record else None

    def _planned(self, name: str, detail: str) -> None:
        self.report.steps.append(Step(name, "planned", 0, detail))

    def delete_upload(self) -> None:
        """Delete the jar this deploy uploaded (a refused deploy leaves no upload behind)."""
        jar, self.uploaded = self.uploaded, None
        if jar is None:
            return
        with self.step("cleanup") as step:
            try:
                self.client.delete_jar(jar)
                step.detail = f"deleted the upload {jar}"
            except FlinkctlError as exc:
                step.status, step.detail = "failed", f"could not delete {jar}: {exc.message}"

    def finish(self, stop: Stop) -> None:
        if stop.result == "refused":
            self.delete_upload()
        elif stop.result == "failed" and not stop.hint:
            stop.hint = self.recover_hint()
        self.report.result = stop.result
        self.report.cause = stop.cause
        self.report.hint = stop.hint

    def recover_hint(self) -> str:
        if self.report.savepoint:
            return f"the previous job's state is at {self.report.savepoint}"
        return "no state was taken"

    def next_generation(self, known: History) -> int:
        """One more than any start of NAME known here or on the cluster."""
        return max(known.max_generation, self.local_max(known.name, "generation")) + 1

    def local_max(self, name: str, column: str) -> int:
        entries = self.catalog.entries(self.cluster, name)
        return max((getattr(e, column) for e in entries), default=0)

    def target(self, known: History, current: Known, revision: int | None) -> Record:
        """The revision `rollback` goes to: REVISION, else the previous good one."""
        if revision is not None:
            found = known.revision(revision)
            if found is None:
                raise Stop(
                    "refused",
                    f"revision {revision} of {known.name!r} is not known here or on the cluster",
                    hint=f"see flinkctl jobs history {known.name}",
                )
            return found
        if current.record is None:
            raise Stop(
                "refused",
                f"job {current.job_id} has no deploy record to find the previous revision in",
                hint="name one with --revision N (see flinkctl jobs history)",
            )
        prev = current.record.previous
        if prev is None:
            raise Stop(
                "refused",
                f"revision {current.record.revision} records no previous revision",
                hint="name one with --revision N (see flinkctl jobs history)",
            )
        return Record(known.name, prev.revision, 0, prev.spec, time_ms=0, by="")


def _program(spec: Spec) -> Json:
    """The plan/run fields of SPEC: class, arguments (as a list), parallelism, -D options."""
    body: Json = {"programArgsList": list(spec.args)}
    if spec.entry_class:
        body["entryClass"] = spec.entry_class
    if spec.parallelism:
        body["parallelism"] = spec.parallelism
    if spec.conf:
        body["flinkConfiguration"] = dict(spec.conf)
    return body


def _describe(current: Known | None) -> str:
    if current is None:
        return "no running job"
    revision = f"revision {current.record.revision}" if current.record else "no deploy record"
    return f"job {current.job_id} {current.state}, {revision}"


def _unmapped_hint(cause: str, record: Record) -> str | None:
    if CANNOT_MAP in cause and not record.spec.allow_non_restored_state:
        return "the new program has no operator for some of the old state; " \
            "--allow-non-restored-state drops that state"  # fmt: skip
    return None
