"""The demo job (demo/DemoJob.java, shipped built as demo/flinkctl-demo.jar): submit and find it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flinkctl.client.poller import Poller
from flinkctl.client.requests import Program
from flinkctl.errors import FlinkctlError, OperationFailed, UnreachableError, UsageError
from flinkctl.flink import ACTIVE_STATES, TERMINAL_STATES, JobsOverview, all_running, jar_id

if TYPE_CHECKING:
    from flinkctl.client import FlinkClient

JAR = Path(__file__).with_name("demo") / "flinkctl-demo.jar"
JOB_NAME = "flinkctl-demo"
ENTRY_CLASS = "flinkctl.demo.DemoJob"


class Scenario(str, Enum):
    """The demo job's --scenario (DemoJob.java): the healthy job, then one known problem each
    for `flinkctl doctor`, named as the rule of doctor's that finds it."""

    healthy = "healthy"
    backpressure = "backpressure"
    skew = "skew"
    checkpoints = "checkpoints"
    restarts = "restarts"
    watermarks = "watermarks"

    @property
    def slots(self) -> int:
        """The task slots the scenario's job takes (its widest vertex's parallelism)."""
        return {"skew": 3, "watermarks": 2}.get(self.value, 1)

    @property
    def job_name(self) -> str:
        """flinkctl-demo, flinkctl-demo-skew, ..."""
        return JOB_NAME if self is Scenario.healthy else f"{JOB_NAME}-{self.value}"


def run(
    client: FlinkClient,
    *,
    sleep_ms: int | None = None,
    scenario: Scenario = Scenario.healthy,
    name: str | None = None,
    timeout: float = 60.0,
    say: Callable[[str], None] = lambda _message: None,
    command_line: Callable[..., str] = lambda *args: " ".join(("flinkctl", *args)),
) -> str:
    """Upload the demo jar through CLIENT, run it (SCENARIO, named NAME), delete the upload
    as `jars run` does (client.deleting), wait until all its tasks run.

    SLEEP_MS throttles the source (milliseconds per record). Refused untouched when a job
    named NAME is active or the cluster can never give the scenario its slots; refused, its
    job cancelled, when another run submitted a job of that name first meanwhile (two runs
    racing on one name keep one job). A job whose tasks do not all run within TIMEOUT seconds,
    or whose wait is interrupted (KeyboardInterrupt), is cancelled: SAY tells of an
    interruption (of the run itself, how to cancel the job it may have started),
    COMMAND_LINE(*ARGS) spells the commands suggested. Returns the job id.
    """
    name = name or scenario.job_name
    _check(client, scenario, name, command_line)
    args = [] if sleep_ms is None else [str(sleep_ms)]
    if scenario is not Scenario.healthy:
        args += ["--scenario", scenario.value]
    if name != JOB_NAME:
        args += ["--name", name]
    jar = jar_id(client.upload_jar(JAR))
    may_run = (
        f"should it run, cancel it: {command_line('jobs', 'cancel', name)}; its upload stays "
        f"on the cluster, which may still read it: {command_line('jars', 'delete', jar)}"
    )
    try:
        with client.deleting(jar):
            job_id = client.run_jar(jar, Program(ENTRY_CLASS, tuple(args)))["jobid"]
    except KeyboardInterrupt:
        say(f"Interrupted while Flink submitted demo job {name!r}; {may_run}")
        raise
    except UnreachableError as exc:  # the upload reached Flink, and the run may have
        exc.after_contact(f"demo job {name!r} may run: {may_run}")
        raise
    try:
        first = active_named(client.jobs_overview(), name)
        if first not in (job_id, None):
            outcome, hint = _cancel(client, job_id, command_line)
            raise _taken(name, first, command_line, f"; {outcome} ({job_id})", hint)
        job = Poller.within(timeout).last(lambda: client.job(job_id), _settled)
    except KeyboardInterrupt:
        say(f"Cancelling demo job {job_id}: interrupted before its tasks ran")
        outcome, hint = _cancel(client, job_id, command_line)
        if hint:
            say(f"error: {outcome}\nhint: {hint}")
        raise
    if job["state"] in TERMINAL_STATES:
        root = client.job_exceptions(job_id).get("root-exception") or ""
        raise OperationFailed(f"demo job {job_id} is {job['state']}", flink=root.splitlines()[:1])
    if not all_running(job):
        outcome, hint = _cancel(client, job_id, command_line)
        raise FlinkctlError(
            f"demo job {job_id} was not running after {timeout:.0f}s; {outcome}",
            hint=hint or "give its tasks longer: --timeout 2m",
        )
    return job_id


def find(client: FlinkClient) -> str | None:
    """The id of a running (or starting) demo job on CLIENT's cluster, if any."""
    return active_named(client.jobs_overview(), JOB_NAME)


def active_named(overview: JobsOverview, name: str) -> str | None:
    """The id of a job named NAME that runs or is on its way to (GET /jobs/overview), if any:
    of several, the first submitted (earliest start-time, then id), which keeps the name."""
    jobs = overview.get("jobs") or []
    active = [j for j in jobs if j["name"] == name and j["state"] in ACTIVE_STATES]
    first = min(active, key=lambda j: (j.get("start-time", -1), j["jid"]), default=None)
    return None if first is None else first["jid"]


def _taken(
    name: str, taken: str, command_line: Callable[..., str], done: str = "", hint: str | None = None
) -> UsageError:
    """The refusal of a demo job named NAME, which job TAKEN holds; DONE tells what became of
    this run's own job, HINT replaces the advice."""
    return UsageError(
        f"a job named {name!r} already runs: {taken}{done}",
        hint=hint
        or f"diagnose it: {command_line('doctor', taken)}; or cancel it first "
        f"({command_line('jobs', 'cancel', taken)}), or choose another --job-name",
    )


def _check(
    client: FlinkClient, scenario: Scenario, name: str, command_line: Callable[..., str]
) -> None:
    """Refuse a demo job named NAME while one of that name is active (every command that takes
    a job name would find it ambiguous), or one the cluster can never give its slots."""
    from flinkctl.workflows.deploy_plan import slot_shortfall

    taken = active_named(client.jobs_overview(), name)
    if taken is not None:
        raise _taken(name, taken, command_line)
    conf = {e["key"]: str(e["value"]) for e in client.jobmanager_config()}
    subject = f"the {scenario.value} demo job"
    overview = dict(client.overview())
    short = slot_shortfall(scenario.slots, overview, conf, 0, subject)
    if short is not None:
        raise FlinkctlError(
            short,
            hint=f"free some ({command_line('jobs', 'cancel', 'JOB')}), or restart a local "
            "cluster with more: flinkctl local down, then flinkctl local up --slots "
            f"{_slots_for(overview, scenario.slots)}",
        )


def _slots_for(overview: Mapping[str, Any], needed: int) -> int:
    """The task slots a cluster (GET /overview) would need for its running jobs and one more
    that needs NEEDED."""
    taken = int(overview.get("slots-total") or 0) - int(overview.get("slots-available") or 0)
    return taken + needed


def _settled(job: Mapping[str, Any]) -> bool:
    """Whether the job (GET /jobs/:jobid) has ended or runs with all its vertices (so
    checkpoints and savepoints work)."""
    return job["state"] in TERMINAL_STATES or all_running(job)


def _cancel(
    client: FlinkClient, job_id: str, command_line: Callable[..., str]
) -> tuple[str, str | None]:
    """Cancel the demo job JOB_ID, which this run gives up on: what became of it, and a hint
    when the cancel failed."""
    try:
        client.cancel_job(job_id)
    except FlinkctlError as exc:
        return f"could not cancel it: {exc.message}", (
            f"it may run on: {command_line('jobs', 'cancel', job_id)}"
        )
    return "cancelled it", None
