"""The health gate: is a freshly started job healthy, judged from signals a young job has.

Every task RUNNING, then for `healthy_for` seconds: no more than `max_restarts` failures, never
FAILED, and (when checkpointing is enabled) at least `min_checkpoints` completed checkpoints.
The signals are the job's status, its exception history (which keeps a failure and recovery that
happen between two polls) and its checkpoint counts; never a metric, which a young job may not
report yet. `judge` decides from one observation; `watch` polls until it decides.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from flinkctl.errors import FlinkctlError, NotFoundError
from flinkctl.flink import (
    ENDED_STATES,
    FAILURE_STATES,
    CheckpointStats,
    JobDetails,
    JobExceptions,
    Json,
    all_running,
    failures,
    last_failure,
    trace_summary,
)
from flinkctl.strenum import StrEnum

if TYPE_CHECKING:
    from flinkctl.client import FlinkClient
    from flinkctl.client.poller import Poller

# Flink reports a job without periodic checkpoints with this interval (Long.MAX_VALUE)
NO_CHECKPOINTS = 2**63 - 1


@dataclass(frozen=True)
class Gate:
    """The thresholds: `min_checkpoints` None means 1 when checkpointing is enabled."""

    healthy_for: float = 30.0
    max_restarts: int = 0
    min_checkpoints: int | None = None
    timeout: float = 300.0


@dataclass(frozen=True)
class Observation:
    """What one poll saw of the job."""

    state: str
    tasks_running: bool  # the job and every one of its tasks RUNNING
    restarts: int  # failures in the exception history: every one since the job started
    last_failure: str | None  # the newest failure on one line
    checkpoints: int  # completed checkpoints (all after the start: the job is new)


class Health(StrEnum):
    """The gate's verdict on a job; healthy and unhealthy are also the outcome the catalog
    records of a job's gate."""

    WAITING = "waiting"  # not decided yet
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True)
class Verdict:
    """The gate's verdict, with the reason in words."""

    status: Health
    reason: str

    @property
    def decided(self) -> bool:
        return self.status is not Health.WAITING


def observe(job: JobDetails, exceptions: JobExceptions, stats: CheckpointStats) -> Observation:
    """An Observation from GET /jobs/:jobid, /exceptions and /checkpoints."""
    state = str(job.get("state") or "")
    running = all_running(job)
    return Observation(
        state=state,
        tasks_running=running,
        restarts=len(failures(exceptions)),
        last_failure=last_failure(exceptions),
        checkpoints=int((stats.get("counts") or {}).get("completed") or 0),
    )


def checkpointing_enabled(config: Json | None) -> bool:
    """Whether GET /jobs/:jobid/checkpoints/config describes periodic checkpoints (None: the
    endpoint answered 404, as it does for a job without checkpointing on some versions)."""
    if not config:
        return False
    interval = config.get("interval")
    return isinstance(interval, int) and 0 < interval < NO_CHECKPOINTS


@dataclass
class Judge:
    """Applies a Gate to a job's observations over time (times in monotonic seconds)."""

    gate: Gate
    checkpointing: bool
    started: float
    running_since: float | None = field(default=None)

    @property
    def min_checkpoints(self) -> int:
        if not self.checkpointing:
            return 0
        return 1 if self.gate.min_checkpoints is None else self.gate.min_checkpoints

    def note(self) -> str | None:
        """What the gate leaves out, said once."""
        if not self.checkpointing:
            return "checkpointing is disabled: no checkpoints required"
        return None

    def judge(self, seen: Observation, now: float) -> Verdict:
        """The verdict after observation SEEN at time NOW."""
        why = f": {seen.last_failure}" if seen.last_failure else ""
        if seen.state in FAILURE_STATES or seen.state in ENDED_STATES:
            return Verdict(Health.UNHEALTHY, f"the job is {seen.state}{why}")
        if seen.restarts > self.gate.max_restarts:
            return Verdict(
                Health.UNHEALTHY,
                f"{_restarts(seen.restarts)} (--max-restarts {self.gate.max_restarts}){why}",
            )
        if self.running_since is None and seen.tasks_running:
            self.running_since = now
        ran = now - self.running_since if self.running_since is not None else 0.0
        long_enough = self.running_since is not None and ran >= self.gate.healthy_for
        if long_enough and seen.tasks_running and seen.checkpoints >= self.min_checkpoints:
            return Verdict(Health.HEALTHY, self._progress(seen, ran))
        if now - self.started >= self.gate.timeout:
            return Verdict(Health.UNHEALTHY, f"not healthy after {self.gate.timeout:g}s: " + (
                self._progress(seen, ran) if self.running_since is not None
                else f"tasks not all RUNNING (job {seen.state or 'unknown'})"
            ))  # fmt: skip
        return Verdict(Health.WAITING, self._progress(seen, ran))

    def _progress(self, seen: Observation, ran: float) -> str:
        if self.running_since is None:
            return f"{seen.state or 'submitted'}, waiting for every task to run"
        parts = [
            f"{seen.state} {int(min(ran, self.gate.healthy_for))}/{self.gate.healthy_for:g}s",
            _restarts(seen.restarts),
        ]
        if self.checkpointing:
            done = seen.checkpoints
            parts.append(
                f"{done} checkpoint{'s' if done != 1 else ''} ({self.min_checkpoints} needed)"
            )
        return ", ".join(parts)


def _restarts(n: int) -> str:
    return f"{n} restart{'s' if n != 1 else ''}"


def watch(
    client: FlinkClient,
    job_id: str,
    gate: Gate,
    poller: Poller,
    *,
    on_verdict: Callable[[Verdict], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    since_now: bool = False,
) -> tuple[Verdict, str | None]:
    """Poll the job until the gate decides; (the verdict, a note on what it left out).

    SINCE_NOW counts only the restarts after the first poll: the gate of a job that has run
    for a while (gated again after an interrupted deploy) judges what it does now.
    """
    judge: Judge | None = None
    started = clock()
    before: int | None = None

    def poll() -> Verdict:
        nonlocal judge
        now = clock()  # what the reads show held by then: a slow read does not add to it
        fetchers: list[Callable[[str], Any]] = [client.job, client.job_exceptions, _stats(client)]
        job, exceptions, stats = client.fan_out(lambda fetch: fetch(job_id), fetchers)
        seen = observe(job, exceptions, stats)
        nonlocal before
        if since_now:
            before = seen.restarts if before is None else before
            seen = replace(seen, restarts=seen.restarts - before)
        if seen.state in ENDED_STATES and not seen.last_failure:
            seen = replace(seen, last_failure=_result_failure(client, job_id))
        if judge is None and seen.tasks_running:  # its checkpoint configuration is known now
            judge = Judge(gate, checkpointing_enabled(_config(client, job_id)), started)
        verdict = (judge or Judge(gate, True, started)).judge(seen, now)
        if on_verdict:
            on_verdict(verdict)
        return verdict

    verdict = poller.until(poll, lambda v: v.decided, what=f"health of job {job_id}")
    return verdict, judge.note() if judge else None


def _stats(client: FlinkClient) -> Callable[[str], CheckpointStats]:
    """GET /jobs/:jobid/checkpoints, empty while a starting job cannot answer it yet."""

    def fetch(job_id: str) -> CheckpointStats:
        try:
            return client.checkpoint_stats(job_id)
        except FlinkctlError:
            return {}

    return fetch


def _result_failure(client: FlinkClient, job_id: str) -> str | None:
    """The failure cause in the job's execution result: where a job that failed before it ran
    (state it cannot map, on the adaptive scheduler) keeps it, its exception history empty."""
    try:
        result = client.job_execution_result(job_id).get("job-execution-result") or {}
    except FlinkctlError:
        return None
    cause = result.get("failure-cause") or {}
    trace = cause.get("stack-trace") or cause.get("class")
    return trace_summary(str(trace)) if trace else None


def _config(client: FlinkClient, job_id: str) -> Json | None:
    try:
        return client.checkpoint_config(job_id)
    except NotFoundError:
        return None
