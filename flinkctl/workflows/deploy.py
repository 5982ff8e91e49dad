"""`deploy` and `rollback`: replace the job named NAME safely, and undo it when it is not healthy.

deploy: validate (resolve NAME's running job, upload, plan: a failing main() is refused before
anything changes), skip an unchanged deploy (gating again a running revision whose gate never
passed), take the old job's state (savepoint, last-state or stateless; a job that cannot stop
with a savepoint falls back to its retained checkpoint or its name's newest savepoint), start
the new revision from it with NO_CLAIM, health-gate it, and on failure start the previous
revision again from the same state. rollback: the same switch towards an older revision. Each
start carries its revision record (flinkctl.workflows.revisions) and gets a job id derived from
NAME and a generation number, so two deploys racing for one NAME cannot both start a job: Flink
refuses the second id, and the loser reports itself superseded.

The decisions are pure functions in flinkctl.workflows.deploy_plan; this module performs them.
The catalog is the journal: a start is recorded before its request and its outcome after, the
stop's savepoint before and after; a re-run reads it and the cluster to resume. The catalog must
be writable before the first change; after it, a failing local write is a warning.

No typer or rich: progress goes to a Listener, the outcome is a Report.
"""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from flinkctl.client.requests import ClaimMode, Program, Restore
from flinkctl.errors import (
    AuthError,
    ExitCode,
    FlinkctlError,
    NotFoundError,
    UnreachableError,
    UsageError,
    WaitTimeout,
)
from flinkctl.flink import ACTIVE_STATES, ENDED_STATES, Json, jar_id, trace_summary
from flinkctl.strenum import StrEnum
from flinkctl.workflows import deploy_plan, health
from flinkctl.workflows.deploy_options import LATEST, DeployOptions, UpgradeMode
from flinkctl.workflows.health import Health
from flinkctl.workflows.revisions import (
    History,
    Known,
    Previous,
    Record,
    Spec,
    history,
    job_id_for,
    local_specs,
    resolve_secrets,
    with_record,
)

if TYPE_CHECKING:
    from flinkctl.catalog import Catalog
    from flinkctl.client import FlinkClient
    from flinkctl.client.poller import Poller


class Result(StrEnum):
    """How a deploy or rollback ended: the report's `result` (its exit code: RESULT_CODES)."""

    DEPLOYED = "deployed"
    UNCHANGED = "unchanged"  # the same program runs (gated again if its gate never passed)
    PLANNED = "planned"  # --dry-run
    REFUSED = "refused"  # nothing was touched
    ROLLED_BACK = "rolled-back"  # the previous revision runs again, healthy
    SUPERSEDED = "superseded"  # another deploy or rollback of NAME took over meanwhile
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # SIGINT or SIGTERM


class Status(StrEnum):
    """A step's status."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    WARNING = "warning"  # after a healthy gate: the deploy succeeded (tidy)
    PLANNED = "planned"  # --dry-run


RESULT_CODES = {
    Result.DEPLOYED: ExitCode.OK,
    Result.UNCHANGED: ExitCode.OK,
    Result.PLANNED: ExitCode.OK,
    Result.REFUSED: ExitCode.USAGE,
    Result.ROLLED_BACK: ExitCode.ROLLED_BACK,
    Result.SUPERSEDED: ExitCode.SUPERSEDED,
    Result.FAILED: ExitCode.FAILED,
    Result.INTERRUPTED: ExitCode.INTERRUPTED,
}
CANNOT_MAP = "Cannot map checkpoint/savepoint state"
REPORT_REQUEST_SECONDS = 2.0  # a request a report makes (interrupted, failed): once, this long
DUPLICATE = "Duplicate"  # DuplicateJobSubmissionException / DuplicateApplicationSubmission...
APPEAR_WITHIN = 60.0  # seconds to wait for a job whose run request lost its answer
STATS_WITHIN = 6.0  # seconds to wait for an ended job's statistics to show its savepoint
STOP_SETTLE = 5.0  # seconds a job whose stop failed may take to end after all
RESUME_DEPTH = 3  # how many of NAME's newest jobs a re-run looks through for a stop savepoint
VERDICTS = (Health.HEALTHY, Health.UNHEALTHY)  # outcomes of a job that ran
NOT_STARTED = "not-started"  # the outcome of a start whose run request failed
INTENT_WINDOW_MS = 15 * 60_000  # a catalog row younger than this may be another run's intent


@dataclass
class Step:
    """One step of a deploy as the report lists it."""

    name: str
    status: Status = Status.RUNNING
    duration_ms: int = 0
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.name,
            "status": self.status.value,
            "duration-ms": self.duration_ms,
            "detail": self.detail,
        }


@dataclass
class Report:
    """The outcome of a deploy or rollback: what runs now, how it got there, and why not."""

    name: str
    result: Result = Result.FAILED
    revision: int | None = None  # the revision running at the end
    job_id: str | None = None  # the job running at the end
    previous_job_id: str | None = None  # the job that ran before
    savepoint: str | None = None  # the state taken from the previous job (recover from it)
    steps: list[Step] = field(default_factory=list)
    cause: str | None = None
    hint: str | None = None
    notes: list[str] = field(default_factory=list)
    diff: list[dict[str, Any]] | None = None  # --dry-run: what would change
    timed_out: bool = False
    signal: int | None = None  # what interrupted the run: SIGHUP 1, SIGINT 2, SIGTERM 15

    @property
    def exit_code(self) -> int:
        if self.timed_out:
            return int(ExitCode.TIMEOUT)
        if self.result is Result.INTERRUPTED and self.signal == 15:
            return int(ExitCode.TERMINATED)
        return int(RESULT_CODES[self.result])

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "result": self.result.value,
            "revision": self.revision,
            "job-id": self.job_id,
            "previous-job-id": self.previous_job_id,
            "savepoint": self.savepoint,
            "steps": [s.to_json() for s in self.steps],
            "cause": self.cause,
            "hint": self.hint,
            "notes": self.notes,
            **({"diff": self.diff} if self.diff is not None else {}),
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
    """What the executor does: a deploy's options resolved (DeployOptions.request, where
    they and their defaults are declared), or a rollback's."""

    name: str
    jar: str  # a local jar file, or an uploaded jar's id, id prefix or file name
    jar_file: Path | None = None  # JAR as a local file (decided by the caller)
    entry_class: str | None = None
    args: tuple[str, ...] = ()
    parallelism: int | None = None
    conf: dict[str, str] = field(default_factory=dict)
    upgrade_mode: UpgradeMode = DeployOptions.upgrade_mode
    allow_non_restored_state: bool = False
    drain: bool = False
    from_savepoint: str | None = None
    fresh: bool = False
    savepoint_dir: str | None = None
    gate: health.Gate = field(default_factory=health.Gate)
    timeout: float = DeployOptions.timeout  # the old job's savepoint, stop or cancellation
    keep_jars: int = DeployOptions.keep_jars
    rollback: bool = True
    dry_run: bool = False

    def check(self) -> None:
        """Refuse contradictory options before any request."""
        try:
            self.upgrade_mode = UpgradeMode(self.upgrade_mode)
        except ValueError:
            raise UsageError(f"unknown --upgrade-mode {self.upgrade_mode!r}") from None
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

    def __init__(self, result: Result, cause: str, hint: str | None = None) -> None:
        super().__init__(cause)
        self.result, self.cause, self.hint = result, cause, hint


class StopRefused(Exception):
    """Flink failed the stop-with-savepoint of job JOB_ID, which still runs in STATE."""

    def __init__(self, job_id: str, state: str, cause: str) -> None:
        super().__init__(cause)
        self.job_id, self.state, self.cause = job_id, state, cause


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
        self.changed = False
        self.uploaded: str | None = None
        self.started: str | None = None  # the job this run started last (it may run ungated)
        self.submitting: str | None = None  # the job id of a run request Flink has not answered
        self.revision_started: int | None = None  # the revision of `submitting` or `started`
        self.planned_generation = 0  # NAME's newest generation when this run resolved it
        self.upload_used = False  # a job was started (or may have been) from this run's upload
        self.cancelling: str | None = None  # the unhealthy job this run is cancelling
        self.stopping: tuple[str, str] | None = None  # (job, trigger) of a stop under way
        self.action = "deploy"  # or rollback: the command that resumes
        self.planned_slots = 1  # the slots the planned revision needs

    # -- the two workflows -------------------------------------------------------------------

    def deploy(self, req: Request) -> Report:
        """Deploy REQ (see the module docstring); never raises for what the report can say."""
        req.check()
        self.action = "deploy"
        return self.guarded(req.name, lambda: self._deploy(req))

    def rollback(
        self,
        name: str,
        revision: int | None = None,
        gate: health.Gate | None = None,
        *,
        upgrade_mode: UpgradeMode = DeployOptions.upgrade_mode,
        from_savepoint: str | None = None,
        timeout: float = DeployOptions.timeout,
        conf: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> Report:
        """Take NAME's running job's state (as deploy's UPGRADE_MODE) and start an older
        revision from it (or from FROM_SAVEPOINT), health-gated. CONF and ARGS give the values
        of secrets the cluster's record masks, when this machine's catalog lacks them."""
        req = Request(name, jar="", gate=gate or health.Gate(), upgrade_mode=upgrade_mode,
                      from_savepoint=from_savepoint, timeout=timeout, conf=conf or {},
                      args=args)  # fmt: skip
        req.check()
        self.action = "rollback"
        return self.guarded(name, lambda: self._rollback(req, revision))

    def guarded(self, name: str, work: Callable[[], None]) -> Report:
        """Run WORK for a new report; turn what it raises into the report's result.

        Before any change an error is a refusal (a lost connection or refused credentials
        stay errors, with their exit codes); after one it is a failure naming the state to
        recover from. A KeyboardInterrupt (SIGINT, or SIGTERM turned into one) propagates:
        the caller reports it with `interrupted`.
        """
        self.report = Report(name)
        self.changed = False
        self.uploaded = None
        self.started = None
        self.submitting = None
        self.revision_started = None
        self.cancelling = None
        self.stopping = None
        self.upload_used = False
        try:
            work()
        except Stop as stop:
            self.finish(stop)
        except WaitTimeout as exc:
            self.report.timed_out = True
            self.finish(Stop(Result.FAILED, exc.message, exc.hint or self.recover_hint()))
        except FlinkctlError as exc:
            if not self.changed and isinstance(exc, UnreachableError | AuthError):
                self.delete_upload()
                raise
            if not self.changed:
                self.finish(Stop(Result.REFUSED, failure(exc), exc.hint))
            else:  # what runs and the state to recover from, beside the error's own hint
                hint = "; ".join(h for h in (exc.hint, self.recover_hint()) if h)
                self.finish(Stop(Result.FAILED, failure(exc), hint))
        except sqlite3.Error as exc:  # the local catalog, before the first change
            self.finish(Stop(
                Result.FAILED if self.changed else Result.REFUSED,
                f"the catalog {self.catalog.path}: {exc}",
                "the cluster was not touched" if not self.changed else None,
            ))  # fmt: skip
        return self.report

    def interrupted(self, signum: int) -> Report:
        """The report of a run stopped by signal SIGNUM: what runs as far as this run knows,
        the state to recover from, and the command that resumes. What it asks Flink is asked
        once, briefly: CI kills a process seconds after its SIGTERM."""
        with self.client.http.brief(REPORT_REQUEST_SECONDS):
            return self._interrupted(signum)

    def _interrupted(self, signum: int) -> Report:
        report = self.report
        # the step the signal stopped (none: it came between two)
        last = (
            report.steps[-1].name
            if report.steps and report.steps[-1].status is Status.FAILED
            else None
        )
        name = {s.value: s.name for s in signal.Signals}.get(signum, f"signal {signum}")
        report.result, report.signal = Result.INTERRUPTED, signum
        report.cause = f"interrupted by {name}" + (f" during {last}" if last else "")
        if not self.changed:
            report.hint = "nothing was changed on the cluster"
            if last == "upload":
                report.hint += "; Flink may keep the jar it was uploading (flinkctl jars list)"
            elif self.uploaded:
                report.hint += f"; its upload stays (flinkctl jars delete {self.uploaded})"
            return report
        if self.submitting and self.status_now(self.submitting):
            self.started = self.submitting  # Flink had it before the signal
        ended = self.ended_start()
        if self.started:
            report.job_id, report.revision = self.started, self.revision_started
            what = f"job {self.started} was started and runs without a passed health gate"
        elif ended:
            what = ended
        elif self.submitting:
            what = (
                f"job {self.submitting} was being started and may still appear (flinkctl jobs "
                f"status {self.submitting})"
            )
        elif self.cancelling and self.status_now(self.cancelling) in ACTIVE_STATES:
            # the cancel did not reach Flink
            report.revision, report.job_id = self.revision_started, self.cancelling
            what = (
                f"job {self.cancelling} (unhealthy) was being cancelled and still runs "
                f"(flinkctl jobs cancel {self.cancelling})"
            )
        elif self.cancelling:
            what = f"job {self.cancelling} (unhealthy) was being cancelled; nothing else runs"
        elif self.stopping:
            jid, trigger = self.stopping
            with suppress(sqlite3.Error):  # it may have completed since: its savepoint is the state
                report.savepoint = self.recorded_stop(jid)
            what = (
                f"job {jid} was stopped with a savepoint; nothing new started"
                if report.savepoint
                else f"the stop of job {jid} with a savepoint may still complete: flinkctl "
                f"savepoint status {jid} {trigger} --wait finds its savepoint"
            )
        else:
            stopped = "was stopped" if report.savepoint else "may have been stopped"
            what = "nothing this run started runs"
            if report.previous_job_id:
                what = f"job {report.previous_job_id} {stopped}; {what}"
        state = "no state was taken"
        if report.savepoint:
            state = (
                f"the previous job's state is at {report.savepoint} (flinkctl deploy "
                f"{report.name} ... --from-savepoint {report.savepoint})"
            )
        report.hint = (
            f"{what}; {state}; run the same command again (flinkctl {self.action} {report.name} "
            "...): it resumes (gates a running revision, starts from the stopped job's savepoint)"
        )
        return report

    def _deploy(self, req: Request) -> None:
        with self.step("resolve") as step:
            known = self.resolve(req.name)
            current = self.current(known)
            step.detail = _describe(current)
            take_latest = req.from_savepoint == LATEST and deploy_plan.latest_is_taken(
                req.upgrade_mode, current is not None
            )
            if take_latest:
                req.from_savepoint = None
                step.detail += "; latest: the state this deploy takes from it"
            elif req.from_savepoint == LATEST:
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
                    if deploy_plan.owes_gate(current):
                        step.detail += "; its health gate has not passed: gating it again"
                    else:
                        return self.unchanged(current)
            else:
                step.detail = "nothing to compare with"
        same = current is not None and current.record is not None and \
            current.record.spec.same_program(spec)  # fmt: skip
        if same and current is not None and deploy_plan.owes_gate(current):
            return self.regate(req, known, current)
        resume = self.preconditions(req, known, current)
        choice = self.choose_state(req, current)
        if req.jar_file is not None:
            with self.step("upload") as step:
                self.uploaded = jar_id(self.client.upload_jar(req.jar_file))
                spec = replace(spec, jar_id=self.uploaded)
                step.detail = self.uploaded
        with self.step("plan") as step:
            step.detail = self.plan(req, spec)
            self.check_slots(current)
        if req.dry_run:
            return self.planned(req, current, spec, choice)
        self.check_journal()
        self.superseded_check(self.planned_generation, "this deploy was about to start")
        revision = self.next_revision(known)
        generation = self.next_generation(known)
        self.changed = True
        self.report.previous_job_id = current.job_id if current else None
        taken = self.take_state(req, current, choice) if current else resume and resume[1]
        state = req.from_savepoint or (None if req.fresh else taken)
        if current is not None and current.record is not None:
            back, back_previous = (
                current.record.as_previous(current.job_id),
                current.record.previous,
            )
        elif (ended := resume[0] if resume else deploy_plan.last_good(known.jobs)) is not None:
            assert ended.record is not None  # nothing runs: go back to what ran last, if it failed
            back, back_previous = ended.record.as_previous(ended.job_id), ended.record.previous
        else:
            back, back_previous = None, None
        record = Record(req.name, revision, generation, spec, restored_from=state,
                        previous_job_id=current.job_id if current else None, previous=back,
                        rollback_state=taken)  # fmt: skip
        self.switch(record, state, req, back=back, back_state=taken, back_previous=back_previous)
        self.tidy(req, record)
        self.still_ours(record)

    def _rollback(self, req: Request, revision: int | None) -> None:
        name = req.name
        with self.step("resolve") as step:
            known = self.resolve(name)
            current = self.current(known)
            resume = self.resume_point(known) if current is None else None
            if current is None and resume is None:
                raise Stop(Result.REFUSED, f"no job named {name!r} runs: nothing to roll back")
            if resume is not None:  # an interrupted rollback (or deploy) stopped it: go on
                current, path = resume
                self.report.savepoint = path
                self.report.notes.append(
                    f"job {current.job_id} ended with a savepoint: rolling back from it, {path}"
                )
            assert current is not None
            step.detail = _describe(current)
            if req.from_savepoint == LATEST:
                req.from_savepoint = None  # the state taken from the running job is the newest
        with self.step("target") as step:
            target = self.target(known, current, revision)
            step.detail = f"revision {target.revision}: {target.spec.describe()}"
            if current.record and current.record.spec.same_program(target.spec):
                return self.unchanged(current)
            uploaded = {f.get("id") for f in self.client.jars().get("files") or []}
            if target.spec.jar_id not in uploaded:
                raise Stop(
                    Result.REFUSED,
                    f"the jar of revision {target.revision} ({target.spec.jar_id}) is no "
                    "longer uploaded",
                    hint=f"deploy it again: flinkctl deploy {name} --jar FILE ...",
                )
        choice = None if resume else self.choose_state(req, current)
        target = replace(target, spec=self.resolved(target.spec, req, target.revision))
        back = current.record.as_previous(current.job_id) if current.record else None
        if back is not None:
            back = replace(back, spec=self.resolved(back.spec, req, back.revision))
        self.check_journal()
        self.superseded_check(self.planned_generation, "this rollback was about to start")
        self.changed = True
        self.report.previous_job_id = current.job_id
        taken = resume[1] if resume else self.take_state(req, current, choice)
        state = req.from_savepoint or taken
        older = known.revision(target.revision)
        record = Record(name, target.revision, self.next_generation(known), target.spec,
                        action="rollback", restored_from=state, previous_job_id=current.job_id,
                        previous=older.previous if older else None,
                        rollback_state=taken)  # fmt: skip
        self.switch(record, state, req, back=back, back_state=taken,
                    back_previous=current.record.previous if current.record else None)  # fmt: skip

    def regate(self, req: Request, known: History, current: Known) -> None:
        """The same revision runs, but its health gate never passed (an interrupted deploy, a
        fresh runner): gate it now (restarts counted from now); roll back when unhealthy."""
        record = current.record
        assert record is not None
        self.report.previous_job_id = record.previous_job_id
        if self.catalog.entry(self.cluster, current.job_id) is None:  # a fresh runner
            from flinkctl.catalog import Entry

            entry = Entry(self.cluster, record.name, current.job_id, record.revision,
                          record.generation, record.to_json(), None, record.time_ms)  # fmt: skip
            self.local("the running revision", lambda: self.catalog.add(entry))
        verdict = self.gate(current.job_id, req.gate, "health", since_now=True)
        verdict = self.still_running(current.job_id, verdict)
        if verdict.status is Health.HEALTHY:
            self.report.notes.append(
                f"revision {record.revision} (job {current.job_id}) had no passed health gate "
                "on record: gated it again, healthy"
            )
            self.report.result = Result.UNCHANGED
            self.report.revision, self.report.job_id = record.revision, current.job_id
            self.started = None
            return
        cause = f"revision {record.revision} is not healthy: {verdict.reason}"
        back = record.previous
        if back is not None and req.rollback:
            back = replace(back, spec=self.resolved(back.spec, req, back.revision))
        self.check_journal()
        self.changed = True
        self.report.savepoint = record.rollback_state
        older = known.revision(record.previous.revision) if record.previous else None
        self.recover(record, current.job_id, cause, req, back=back,
                     back_state=record.rollback_state,
                     back_previous=older.previous if older else None)  # fmt: skip

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
            step.status = Status.FAILED
            if not step.detail:
                step.detail = exc.cause if isinstance(exc, Stop) else str(exc)
            raise
        else:
            if step.status is Status.RUNNING:
                step.status = Status.OK
        finally:
            step.duration_ms = int((time.monotonic() - began) * 1000)
            self.listener.finished(step)

    def resolve(self, name: str) -> History:
        known = history(self.client, self.catalog, name)
        self.planned_generation = max(  # of the jobs the cluster showed: another run's intent
            (k.record.generation for k in known.jobs if k.record and k.job), default=0
        )  # in a shared catalog is no job yet
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
                Result.REFUSED,
                f"{len(running)} jobs named {known.name!r} run: {listing}",
                hint="cancel all but one (flinkctl jobs cancel JOB), then deploy again",
            )
        if running and running[0].record is None:
            self.started_elsewhere(known.name, running[0])
        return running[0] if running else None

    def started_elsewhere(self, name: str, job: Known) -> None:
        """Superseded, touching nothing, by a job of NAME without a record that another deploy
        or rollback has just started (deploy_plan.just_started_elsewhere)."""
        generations = range(1, self.planned_generation + 2)
        if not deploy_plan.just_started_elsewhere(
            name, job.job_id, job.job, generations, _now_ms()
        ):
            return
        self.report.job_id = job.job_id
        raise Stop(
            Result.SUPERSEDED,
            f"another deploy or rollback of {name!r} has just started job {job.job_id} "
            f"({job.state}; Flink shows its deploy record once it has initialized), which now "
            "owns the name: this run changes nothing",
            hint=f"see flinkctl jobs history {name}",
        )

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

    def preconditions(
        self, req: Request, known: History, current: Known | None
    ) -> tuple[Known, str] | None:
        """What deploy refuses before touching anything, besides a failing program; with no
        running job, the job an interrupted stop ended and its savepoint, to resume from."""
        if current is None:
            ran = [k for k in known.jobs if k.job is not None or k.outcome in VERDICTS]
            if ran and all(deploy_plan.never_passed(k) for k in ran):
                self.report.notes.append(
                    f"no revision of {req.name!r} ever passed its health gate (jobs "
                    f"{', '.join(k.job_id for k in ran[-3:])}, all started without state): "
                    "deploying it as a first revision"
                )
                return None
            if ran and not (req.from_savepoint or req.fresh):
                resume = self.resume_point(known)
                if resume is not None:
                    ended, path = resume
                    self.report.notes.append(
                        f"job {ended.job_id} ({ended.state}) ended with a savepoint: starting "
                        f"from it, {path} (an interrupted deploy resumes)"
                    )
                    self.report.savepoint = path
                    return resume
                raise Stop(
                    Result.REFUSED,
                    f"no job named {req.name!r} runs, but it ran before (jobs "
                    f"{', '.join(k.job_id for k in ran[-3:])}): starting it without "
                    "state would drop that state",
                    hint="say what to start from: --from-savepoint PATH or --fresh",
                )
            return None
        if current.record is None and req.rollback:
            raise Stop(
                Result.REFUSED,
                f"job {current.job_id} ({req.name}) has no deploy record, so a failed deploy "
                "could not roll back to it",
                hint="deploy once with --no-rollback to take it over",
            )
        return None

    def resume_point(self, known: History) -> tuple[Known, str] | None:
        """With no job of NAME running: the newest job that ended FINISHED with a savepoint (a
        stop-with-savepoint, e.g. of a deploy interrupted right after it) and that savepoint;
        newer jobs that were cancelled or failed (a new revision that did not pass) are passed
        over."""
        for k in reversed([k for k in known.jobs if k.job is not None][-RESUME_DEPTH:]):
            if k.state == "FINISHED":
                path = self.stopped_state(k.job_id)
                return (k, path) if path else None
        return None

    def stopped_state(self, job_id: str) -> str | None:
        """The savepoint ended job JOB_ID was stopped with: `recorded_stop`, else the job's
        checkpoint statistics, asked for a few seconds (Flink's REST handlers serve a job from
        a cache refreshed every web.refresh-interval, 3 s: right after the end it may not show
        the savepoint yet). None when it has none."""
        recorded = self.recorded_stop(job_id)
        if recorded:
            return recorded

        def ask() -> str | None:
            try:
                stats = self.client.checkpoint_stats(job_id)
            except FlinkctlError:
                return None
            savepoint = (stats.get("latest") or {}).get("savepoint") or {}
            path = savepoint.get("external_path")
            return str(path) if path and savepoint.get("status") == "COMPLETED" else None

        try:
            return self.poller(STATS_WITHIN).until(ask, lambda p: p is not None, what="savepoint")
        except WaitTimeout:
            return None

    def recorded_stop(self, job_id: str) -> str | None:
        """The savepoint of this machine's stop of job JOB_ID, by the catalog's row (asked by
        trigger id while it is in progress there: one request); None when there is none yet."""
        from flinkctl.workflows.savepoints import settle

        for row in self.catalog.savepoints([self.cluster], self.report.name):
            if row.job_id != job_id or row.kind not in ("deploy", "stop-with-savepoint"):
                continue
            if row.status == "IN_PROGRESS" and row.trigger_id:
                try:
                    if settle(self.client, self.catalog, row) != "COMPLETED":
                        continue
                except FlinkctlError:
                    continue
                row = next(r for r in self.catalog.savepoints([self.cluster], self.report.name)
                           if r.id == row.id)  # fmt: skip
            if row.status == "COMPLETED" and row.path:
                return row.path
        return None

    def choose_state(
        self, req: Request, current: Known | None, *, stoppable: bool | None = None
    ) -> deploy_plan.StateChoice | None:
        """How the running job's state will be taken (deploy_plan.choose_state), decided from
        the cluster before anything changes; a refusal stops here, untouched."""
        if current is None:
            return None
        jid, mode = current.job_id, req.upgrade_mode
        job: Json = {"jid": jid}
        if mode is UpgradeMode.SAVEPOINT:
            job = {**self.client.job(jid), "jid": jid}
        config = checkpoints = None
        newest: tuple[str, int] | None = None
        clean = deploy_plan.running_cleanly(job) if stoppable is None else stoppable
        if mode is UpgradeMode.LAST_STATE or (mode is UpgradeMode.SAVEPOINT and not clean):
            config = self._optional(lambda: self.client.checkpoint_config(jid))
            if deploy_plan.retains_on_cancel(config):
                checkpoints = self._optional(lambda: self.client.checkpoint_stats(jid))
        if mode is UpgradeMode.SAVEPOINT and not clean:
            from flinkctl.workflows.savepoints import known

            found = known(self.client, self.catalog, req.name).newest(req.name)
            if found is not None and found.path:
                newest = (found.path, found.started_ms)
            restored = current.record.restored_from if current.record else None
            newest = deploy_plan.fallback_savepoint(newest, restored, current.start_ms)
        choice = deploy_plan.choose_state(
            mode, job, config, checkpoints, newest, _now_ms(), stoppable=stoppable
        )
        if choice.how == "refuse":
            hint = "the running job was not touched"
            if mode is UpgradeMode.LAST_STATE:
                hint = ("use --upgrade-mode savepoint, or set execution.checkpointing."
                        "externalized-checkpoint-retention: RETAIN_ON_CANCELLATION")  # fmt: skip
            raise Stop(Result.REFUSED, choice.reason, hint=hint)
        if choice.how in ("checkpoint", "savepoint") and mode is UpgradeMode.SAVEPOINT:
            self.report.notes.append(choice.reason)
        return choice

    def resolved(self, spec: Spec, req: Request, revision: int) -> Spec:
        """SPEC (of REVISION, which a rollback starts) with the real values of the secrets the
        cluster's record masks: from this machine's catalog, else this run's -D and --arg;
        refused, untouched, when some are missing."""
        if not spec.masked_values:
            return spec
        local = local_specs(self.catalog.entries(self.cluster, req.name))
        found = resolve_secrets(spec, local, conf=req.conf, args=req.args or None)
        if found.spec is None:
            raise Stop(
                Result.REFUSED,
                f"revision {revision}, which a rollback starts, needs secret values the "
                f"cluster does not keep and this run was not given: {', '.join(found.missing)}",
                hint="give them as deploy did (-D key=value, --arg ...), or run this where "
                "the revision was deployed (its catalog has them)",
            )
        if found.differs:
            self.report.notes.append(
                f"warning: revision {revision} would roll back with this run's values of its "
                "secrets, which differ from the ones it ran with"
            )
        return found.spec

    def _optional(self, fetch: Callable[[], Any]) -> Any:
        try:
            return fetch()
        except NotFoundError:
            return None

    def check_slots(self, current: Known | None) -> None:
        """Refuse, untouched, a revision the cluster can never give enough slots
        (deploy_plan.slot_shortfall), counting those the running job frees; superseded when
        a job another deploy of NAME started meanwhile holds them."""
        freed = 0
        if current is not None:
            job = self.client.job(current.job_id)
            freed = max((int(v.get("parallelism") or 0) for v in job.get("vertices") or []),
                        default=0)  # fmt: skip
        conf = {e["key"]: str(e["value"]) for e in self.client.jobmanager_config()}
        short = deploy_plan.slot_shortfall(
            self.planned_slots, dict(self.client.overview()), conf, freed
        )
        if short is not None:  # taken by a job another deploy of NAME just started?
            self.superseded_check(self.planned_generation, short)
            raise Stop(
                Result.REFUSED,
                short,
                hint="lower -p, add TaskManagers or slots (taskmanager.numberOfTaskSlots), or "
                "run the adaptive scheduler; the running job was not touched",
            )

    def check_journal(self) -> None:
        """Refuse, untouched, when the catalog (the journal a re-run resumes from) cannot be
        written: locked by another process past the busy timeout, read-only, corrupt."""
        with self.step("journal") as step:
            try:
                db = self.catalog.db
                db.execute("BEGIN IMMEDIATE")
                db.execute("ROLLBACK")
            except (sqlite3.Error, FlinkctlError) as exc:
                message = exc.message if isinstance(exc, FlinkctlError) else str(exc)
                raise Stop(
                    Result.REFUSED,
                    f"cannot write the catalog {self.catalog.path}: {message}",
                    hint="the cluster was not touched; try again when no other flinkctl "
                    "holds it, or point --catalog at a writable file",
                ) from exc
            step.detail = str(self.catalog.path)

    def local(self, what: str, write: Callable[[], object]) -> None:
        """A write to the catalog after the cluster changed: a failure is a warning (the record
        on the cluster carries on), never an abandoned deploy."""
        try:
            write()
        except (sqlite3.Error, FlinkctlError) as exc:
            message = exc.message if isinstance(exc, FlinkctlError) else str(exc)
            note = f"warning: could not record {what} in the catalog: {message}"
            if note not in self.report.notes:
                self.report.notes.append(note)

    def plan(self, req: Request, spec: Spec) -> str:
        """POST /jars/:jarid/plan runs main(): its failure, or another job name, is refused."""
        try:
            planned = self.client.plan_jar(spec.jar_id, _program(spec))
        except FlinkctlError as exc:
            if isinstance(exc, UnreachableError | AuthError):
                raise
            raise Stop(
                Result.REFUSED,
                f"the program fails before it starts: {failure(exc)}",
                hint="the running job was not touched",
            ) from exc
        planned_job = planned.get("plan") or planned
        self.planned_slots = deploy_plan.slots_needed(planned_job)
        name = planned_job.get("name")
        if name != req.name:
            raise Stop(
                Result.REFUSED,
                f"the program names its job {name!r}, not {req.name!r}",
                hint="NAME is the name the program passes to execute()",
            )
        return f"job {name!r}, {len(planned_job.get('nodes') or [])} vertices"

    def take_state(
        self, req: Request, current: Known | None, choice: deploy_plan.StateChoice | None
    ) -> str | None:
        """Stop or cancel the old job as CHOICE says; the path of the state it leaves."""
        if current is None or choice is None:
            return None
        jid = current.job_id
        if choice.how == "stop":
            try:
                with self.step("savepoint") as step:
                    location = self.stop_with_savepoint(jid, req, req.name)
                    self.report.savepoint = step.detail = location
                return location
            except StopRefused as refused:  # a crash loop caught between two restarts?
                choice = self.choose_state(req, current, stoppable=False)
                assert choice is not None
                if choice.how == "stop":
                    raise Stop(
                        Result.FAILED,
                        f"stop-with-savepoint of job {jid} failed: {refused.cause}",
                        hint=f"job {jid} still runs ({refused.state}); nothing changed",
                    ) from refused
        with self.step("cancel") as step:
            step.detail = self.cancel(jid, req.timeout)
        if choice.how == "none":
            return None
        if choice.how == "savepoint":
            self.report.savepoint = choice.path
            return choice.path
        with self.step("checkpoint") as step:

            def stats() -> Json | None:  # the job is cancelled: a lost answer is asked again
                try:
                    return dict(self.client.checkpoint_stats(jid))
                except UnreachableError:
                    return None

            found = self.poller(req.timeout).until(
                stats, lambda s: s is not None, what=f"the checkpoints of job {jid}"
            )
            checkpoint = deploy_plan.newest_checkpoint(found or {})
            if checkpoint is None:
                raise Stop(Result.FAILED, f"cancelled job {jid} left no retained checkpoint")
            self.report.savepoint = step.detail = str(checkpoint["external_path"])
        return self.report.savepoint

    def stop_with_savepoint(self, jid: str, req: Request, name: str) -> str:
        """Stop job JID (of NAME) with a savepoint, recorded in the catalog as kind deploy."""
        from flinkctl.workflows.savepoints import Recording

        recording = Recording(self.client, self.catalog, jid, name, "deploy")
        trigger = recording.start()
        self.stopping = (jid, trigger)
        try:
            self.client.stop_job(jid, trigger, drain=req.drain, target_directory=req.savepoint_dir)
            done = self.poller(req.timeout).operation(
                lambda: self.client.savepoint_status(jid, trigger), what="stop-with-savepoint"
            )
        except WaitTimeout as exc:
            raise WaitTimeout(
                f"the stop of job {jid} with a savepoint did not complete within "
                f"{req.timeout:g}s; it may still complete (trigger {trigger})",
                hint=f"flinkctl savepoint status {jid} {trigger} --wait finds its savepoint; "
                f"when job {jid} has ended, run the same deploy again: it starts from it",
            ) from exc
        except FlinkctlError as exc:
            error = exc
            state = self.settled(jid)
            # stopped_state settles this stop's catalog row by its trigger id first: a stop
            # whose answer was lost is recorded COMPLETED with its path, not FAILED
            found = self.stopped_state(jid) if state == "FINISHED" else None
            if found is None:
                self.local("the failed savepoint", lambda: recording.failed(error))
            if state in ENDED_STATES:
                if found is not None:  # its answer lost, its trigger forgotten, or a re-run's
                    self.report.notes.append(
                        f"the stop of job {jid} gave no answer ({failure(exc)}), but the job "
                        f"ended with a savepoint: {found}"
                    )
                    return found
                self.superseded_check(
                    self.planned_generation, f"job {jid} ended ({state}) while this run stopped it"
                )
                raise Stop(
                    Result.FAILED,
                    f"job {jid} ended ({state}) while this run was stopping it, with no "
                    "savepoint, and no newer deploy of this name started",
                ) from exc
            raise StopRefused(jid, str(state), failure(exc)) from exc
        self.stopping = None
        location = str(done.get("location"))
        self.local("the savepoint", lambda: recording.completed(location))
        return location

    def settled(self, jid: str) -> str:
        """Job JID's status once a failed stop settles: ended within STOP_SETTLE seconds (a stop
        whose answer came back before Flink registered it completes a moment later), else as
        it is then."""
        from flinkctl.flink import ACTIVE_STATES

        def ask() -> str:
            return str(self.client.job_status(jid).get("status"))

        try:
            return self.poller(STOP_SETTLE).until(ask, lambda s: s not in ACTIVE_STATES,
                                                  what=f"job {jid}")  # fmt: skip
        except WaitTimeout:
            return ask()

    def cancel(self, jid: str, timeout: float) -> str:
        """Cancel job JID and wait until it has ended (one that already ended is fine): how."""
        try:
            self.client.cancel_job(jid)
        except FlinkctlError:  # its answer lost, or refused: cancelling again is harmless
            if self.client.job_status(jid).get("status") not in ENDED_STATES | {"CANCELLING"}:
                self.client.cancel_job(jid)
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
        """Start RECORD from STATE and gate it; when unhealthy, `recover`."""
        started = self.start(record, state, "start")
        if started is not None:
            verdict = self.gate(started, req.gate, "health")
            verdict = self.still_running(started, verdict)
            if verdict.status is Health.HEALTHY:
                self.report.result = Result.DEPLOYED
                self.report.revision, self.report.job_id = record.revision, started
                return
            cause = f"revision {record.revision} is not healthy: {verdict.reason}"
        else:
            cause = self.report.cause or f"revision {record.revision} did not start"
        self.recover(record, started, cause, req, back=back, back_state=back_state,
                     back_previous=back_previous)  # fmt: skip

    def recover(
        self,
        record: Record,
        started: str | None,
        cause: str,
        req: Request,
        *,
        back: Previous | None,
        back_state: str | None,
        back_previous: Previous | None,
    ) -> None:
        """RECORD (job STARTED, if it started) is not healthy: unless a newer deploy took NAME
        over, cancel it and start BACK (recording BACK_PREVIOUS as its previous revision) from
        BACK_STATE, the old job's state, gated."""
        self.superseded_check(record.generation, cause)
        if not req.rollback:
            raise Stop(
                Result.FAILED,
                cause,
                hint=self.recover_hint() + (f"; job {started} is left as it is" if started else ""),
            )
        if started is not None:
            self.started, self.cancelling = None, started
            with self.step("cancel-new") as step:
                step.detail = self.cancel(started, req.timeout)
            self.cancelling = None
        if back is None:
            raise Stop(
                Result.FAILED, cause + "; no previous revision to roll back to", self.recover_hint()
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
            rollback_state=back_state,
        )
        self.report.cause = None
        again = self.start(back_record, back_state, "rollback")
        if again is None:
            raise Stop(
                Result.FAILED,
                f"{cause}; the rollback did not start either: {self.report.cause}",
                self.recover_hint(),
            )
        verdict = self.still_running(again, self.gate(again, req.gate, "rollback-health"))
        if verdict.status is not Health.HEALTHY:
            self.superseded_check(back_record.generation, f"{cause}; the rollback ended")
            self.report.revision, self.report.job_id = back.revision, again
            raise Stop(
                Result.FAILED,
                f"{cause}; revision {back.revision} is not healthy either: {verdict.reason}",
                self.recover_hint(),
            )
        self.report.revision, self.report.job_id = back.revision, again
        raise Stop(Result.ROLLED_BACK, cause, _unmapped_hint(cause, record))

    def still_ours(self, record: Record) -> None:
        """At the end of a deploy: the report names a job that still runs, unless a newer
        deploy took NAME over meanwhile (then superseded names that one)."""
        job = self.report.job_id
        if job is None or self.client.job_status(job).get("status") == "RUNNING":
            return
        self.superseded_check(record.generation, f"revision {record.revision} was deployed")

    def still_running(self, job_id: str, verdict: health.Verdict) -> health.Verdict:
        """A healthy VERDICT holds only if job JOB_ID still runs now: the gate's reads are not
        taken at one instant, and another deploy may have stopped the job meanwhile."""
        if verdict.status is not Health.HEALTHY:
            return verdict
        state = self.client.job_status(job_id).get("status")
        if state == "RUNNING":
            return verdict
        return health.Verdict(Health.UNHEALTHY, f"the job is {state} right after its gate passed")

    def superseded_check(self, generation: int, cause: str) -> None:
        """Before a destructive step: when a newer generation of NAME started (another deploy
        or rollback), stop with result superseded, touching nothing more."""
        known = history(self.client, self.catalog, self.report.name)
        newer = deploy_plan.newer_generation(known.jobs, generation)
        if newer is None or newer.record is None:
            return
        runs = newer.job_id if newer.active else None
        self.report.job_id, self.report.revision = runs, newer.record.revision
        self.started = None
        raise Stop(
            Result.SUPERSEDED,
            f"{cause}; meanwhile another deploy or rollback of {self.report.name!r} started "
            f"revision {newer.record.revision} as job {newer.job_id} ({newer.state}), which "
            "now owns the name: this run changes nothing more",
            hint=f"see flinkctl jobs history {self.report.name}",
        )

    def start(self, record: Record, state: str | None, step_name: str) -> str | None:
        """Run RECORD's spec from STATE with its record; the job id, None when the run request
        failed (the cause goes to the report). A run whose answer was lost is found by its id."""
        from flinkctl.catalog import Entry

        self.superseded_check(record.generation - 1, f"revision {record.revision} was to start")
        new_id = job_id_for(record.name, record.generation)
        spec = record.spec
        program = replace(_program(spec), configuration=with_record(dict(spec.conf), record))
        restore = Restore(job_id=new_id)
        if state:  # NO_CLAIM: CLAIM may delete the savepoint a rollback needs
            restore = Restore(state, ClaimMode.NO_CLAIM, spec.allow_non_restored_state, new_id)
        with self.step(step_name) as step:
            step.detail = f"revision {record.revision} as job {new_id}" + (
                f" from {state}" if state else " without state"
            )
            entry = Entry(self.cluster, record.name, new_id, record.revision, record.generation,
                          record.to_json(), None, record.time_ms)  # fmt: skip
            self.local("the start", lambda: self.catalog.add(entry))
            used_before, self.upload_used = (
                self.upload_used,
                self.upload_used or (spec.jar_id == self.uploaded),
            )
            self.submitting = new_id  # until Flink has answered: an interruption asks for it
            self.revision_started = record.revision
            try:
                self.client.run_jar(spec.jar_id, program, restore)
            except FlinkctlError as exc:
                lost = isinstance(exc, UnreachableError)  # still submitting: it may appear
                if lost and self.appeared(new_id):
                    step.detail += " (the answer to the run request was lost: found the job)"
                    self.submitting, self.started = None, new_id
                    return new_id
                self.submitting = None
                if isinstance(exc, AuthError):
                    raise
                if lost:
                    self.local("the failed start", lambda: self.catalog.set_outcome(
                        self.cluster, new_id, NOT_STARTED))  # fmt: skip
                    raise
                cause = failure(exc)
                self.local("the failed start", lambda: self.catalog.set_outcome(
                    self.cluster, new_id, NOT_STARTED))  # fmt: skip
                if DUPLICATE in cause:
                    step.status, step.detail = Status.FAILED, f"job id {new_id} is taken"
                    self.upload_used = used_before  # refused: no job of this run used it
                    self.superseded_check(record.generation - 1, f"job id {new_id} is taken")
                    raise Stop(
                        Result.REFUSED if self.report.previous_job_id is None else Result.FAILED,
                        f"job id {new_id} is taken: another deploy or rollback of "
                        f"{record.name!r} started generation {record.generation} at the same "
                        "moment",
                    ) from exc
                step.status = Status.FAILED
                step.detail = cause
                self.report.cause = cause
                return None
            self.submitting = None
        self.started = new_id
        return new_id

    def ended_start(self) -> str:
        """When the job this run started has ended since (another deploy or rollback stopped
        it), forget it, as it no longer runs, and say so; "" otherwise. One brief request: a
        failed run's report may follow a cluster that stopped answering."""
        jid = self.started
        with self.client.http.brief(REPORT_REQUEST_SECONDS):
            state = self.status_now(jid) if jid else None
        if jid is None or state not in ENDED_STATES:
            return ""
        self.started = None
        if self.report.job_id == jid:  # a gate it passed named it
            self.report.job_id = self.report.revision = None
        return (
            f"job {jid}, which this run started, has ended since ({state}): see flinkctl jobs list"
        )

    def status_now(self, job_id: str) -> str | None:
        """Job JOB_ID's status, one request; None when Flink does not have it (or cannot say)."""
        try:
            return str(self.client.job_status(job_id).get("status"))
        except FlinkctlError:
            return None

    def appeared(self, job_id: str) -> bool:
        """Whether job JOB_ID shows up within APPEAR_WITHIN seconds: main() runs inside the
        JobManager, so a job whose run request lost its answer may still start."""

        def ask() -> str | None:
            try:
                return str(self.client.job_status(job_id).get("status"))
            except (NotFoundError, UnreachableError):
                return None

        try:
            self.poller(APPEAR_WITHIN).until(ask, lambda s: s is not None, what=f"job {job_id}")
        except WaitTimeout:
            return False
        return True

    def gate(
        self, job_id: str, gate: health.Gate, step_name: str, *, since_now: bool = False
    ) -> health.Verdict:
        with self.step(step_name) as step:
            try:
                verdict, note = health.watch(
                    self.client,
                    job_id,
                    gate,
                    self.poller(0),
                    on_verdict=lambda v: self.listener.progress(step, v.reason),
                    since_now=since_now,
                )
            except FlinkctlError as exc:
                if isinstance(exc, UnreachableError | AuthError):
                    raise
                verdict, note = health.Verdict(Health.UNHEALTHY, failure(exc)), None
            step.detail = verdict.reason
            if note and note not in self.report.notes:
                self.report.notes.append(note)
            outcome = Health.HEALTHY if verdict.status is Health.HEALTHY else Health.UNHEALTHY
            self.local(f"the health of job {job_id}",
                       lambda: self.catalog.set_outcome(self.cluster, job_id, outcome))  # fmt: skip
            if outcome is not Health.HEALTHY:
                step.status = Status.FAILED
        return verdict

    def tidy(self, req: Request, record: Record) -> None:
        """Keep the jars deploy uploaded for the newest KEEP_JARS revisions, the running one,
        the one a rollback would go to and any a job of NAME still needs (deploy_plan.
        stale_jars, over the cluster as it is now); delete the older ones. The deploy has
        succeeded already: a failure here is a warning."""
        with self.step("tidy") as step:
            try:
                jobs = history(self.client, self.catalog, req.name).jobs
                stale = deploy_plan.stale_jars(jobs, record, req.keep_jars, self.report.revision)
                present = {f.get("id") for f in self.client.jars().get("files") or []}
                gone = sorted(stale & present)
                for jar in gone:
                    self.client.delete_jar(jar)
            except (FlinkctlError, sqlite3.Error) as exc:
                message = exc.message if isinstance(exc, FlinkctlError) else str(exc)
                step.status, step.detail = Status.WARNING, f"old jars not deleted: {message}"
                self.report.notes.append(f"warning: {step.detail} (the deploy succeeded)")
                return
            step.detail = f"deleted {len(gone)} old jar(s)" if gone else "nothing to delete"

    # -- endings -----------------------------------------------------------------------------

    def unchanged(self, current: Known) -> None:
        assert current.record is not None
        self.report.result = Result.UNCHANGED
        self.report.revision, self.report.job_id = current.record.revision, current.job_id

    def planned(
        self,
        req: Request,
        current: Known | None,
        spec: Spec,
        choice: deploy_plan.StateChoice | None,
    ) -> None:
        """--dry-run: the diff and the steps deploy would take; delete the upload made for
        the plan."""
        running = current.record.spec if current and current.record else None
        self.report.diff = deploy_plan.spec_diff(running, spec)
        if current is not None and choice is not None:
            self._planned("savepoint" if choice.how == "stop" else "cancel", choice.reason)
        source = req.from_savepoint or ("the state taken" if current else "no state")
        if req.fresh:
            source = "no state (--fresh)"
        self._planned("start", f"start the new revision from {source} (NO_CLAIM)")
        self._planned("health", f"health gate for {req.gate.healthy_for:g}s")
        if req.rollback and current is not None:
            self._planned("rollback", "if unhealthy: start the running revision again")
        self.delete_upload()
        self.report.result = Result.PLANNED
        if current is not None:
            self.report.job_id = current.job_id
            self.report.revision = current.record.revision if current.record else None

    def _planned(self, name: str, detail: str) -> None:
        self.report.steps.append(Step(name, Status.PLANNED, 0, detail))

    def delete_upload(self) -> None:
        """Delete the jar this deploy uploaded, unless a job was started with it (a newer
        revision's rollback may go back to it): a refused deploy leaves no upload behind."""
        jar, self.uploaded = self.uploaded, None
        if jar is None or self.upload_used:
            return
        with self.step("cleanup") as step:
            try:
                self.client.delete_jar(jar)
                step.detail = f"deleted the upload {jar}"
            except FlinkctlError as exc:
                step.status, step.detail = Status.FAILED, f"could not delete {jar}: {exc.message}"

    def finish(self, stop: Stop) -> None:
        if stop.result in (Result.REFUSED, Result.SUPERSEDED):
            self.delete_upload()
        elif stop.result is Result.FAILED and not stop.hint:
            stop.hint = self.recover_hint()
        if stop.result is Result.FAILED and self.report.job_id is None and self.started:
            self.report.job_id = self.started  # it runs, ungated: the report says so
            self.report.revision = self.revision_started
        self.report.result = stop.result
        self.report.cause = stop.cause
        self.report.hint = stop.hint

    def recover_hint(self) -> str:
        """The state to recover from and what this run left running, for a failed report."""
        ended = self.ended_start()
        runs = f"; job {self.started} was started and runs ungated" if self.started else ""
        runs = runs or (f"; {ended}" if ended else "")
        if self.report.savepoint:
            return (
                f"the previous job's state is at {self.report.savepoint}{runs}; run the same "
                f"command again, or flinkctl deploy {self.report.name} ... --from-savepoint "
                f"{self.report.savepoint}"
            )
        return f"no state was taken{runs}"

    def next_generation(self, known: History) -> int:
        """One more than any start of NAME the cluster shows, or that this machine's catalog
        recorded more than INTENT_WINDOW_MS ago (a job the cluster has forgotten since). A
        younger row of a job the cluster does not show is a concurrent run's intent: counting
        it would give two racing runs two job ids, and Flink could no longer refuse one."""
        cutoff = _now_ms() - INTENT_WINDOW_MS
        shown = {k.job_id for k in known.jobs if k.job is not None}
        generations = [k.record.generation for k in known.jobs if k.record and k.job is not None]
        generations += [
            e.generation
            for e in self.catalog.entries(self.cluster, known.name)
            if e.job_id in shown or e.created_ms < cutoff
        ]
        return max(generations, default=0) + 1

    def next_revision(self, known: History) -> int:
        """One more than any revision of NAME known on the cluster or in this machine's catalog."""
        entries = self.catalog.entries(self.cluster, known.name)
        return max([known.max_revision, *(e.revision for e in entries)]) + 1

    def target(self, known: History, current: Known, revision: int | None) -> Record:
        """The revision `rollback` goes to: REVISION, else the previous good one."""
        if revision is not None:
            found = known.revision(revision)
            if found is None:
                raise Stop(
                    Result.REFUSED,
                    f"revision {revision} of {known.name!r} is not known here or on the cluster",
                    hint=f"see flinkctl jobs history {known.name}",
                )
            return found
        if current.record is None:
            raise Stop(
                Result.REFUSED,
                f"job {current.job_id} has no deploy record to find the previous revision in",
                hint="name one with --revision N (see flinkctl jobs history)",
            )
        prev = current.record.previous
        if prev is None:
            raise Stop(
                Result.REFUSED,
                f"revision {current.record.revision} records no previous revision",
                hint="name one with --revision N (see flinkctl jobs history)",
            )
        return Record(known.name, prev.revision, 0, prev.spec, time_ms=0, by="")


def _program(spec: Spec) -> Program:
    """What SPEC runs: class, arguments, parallelism, -D options."""
    return Program(spec.entry_class, spec.args, spec.parallelism, dict(spec.conf))


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


def _now_ms() -> int:
    return int(time.time() * 1000)
