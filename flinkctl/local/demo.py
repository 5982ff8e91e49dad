"""The demo job (demo/DemoJob.java, shipped built as demo/flinkctl-demo.jar): submit and find it."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from flinkctl.client.poller import Poller
from flinkctl.client.requests import Program
from flinkctl.errors import FlinkctlError, OperationFailed
from flinkctl.flink import ACTIVE_STATES, TERMINAL_STATES, all_running, jar_id, number

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
) -> str:
    """Upload the demo jar through CLIENT, run it (SCENARIO, named NAME), wait until all its
    tasks run.

    SLEEP_MS throttles the source (milliseconds per record). Returns the job id.
    """
    name = name or scenario.job_name
    free = number(client.overview().get("slots-available"))
    if free is not None and free < scenario.slots:
        raise FlinkctlError(
            f"the {scenario.value} demo job takes {scenario.slots} task slot(s); the cluster has "
            f"{free:g} free",
            hint="free some (flinkctl jobs cancel), or more slots: flinkctl local up --slots 10",
        )
    args = [] if sleep_ms is None else [str(sleep_ms)]
    if scenario is not Scenario.healthy:
        args += ["--scenario", scenario.value]
    if name != JOB_NAME:
        args += ["--name", name]
    jar = jar_id(client.upload_jar(JAR))
    job_id = client.run_jar(jar, Program(ENTRY_CLASS, tuple(args)))["jobid"]
    _wait_running(client, job_id, timeout)
    return job_id


def find(client: FlinkClient) -> str | None:
    """The id of a running (or starting) demo job on CLIENT's cluster, if any."""
    jobs = client.jobs_overview().get("jobs") or []
    return next(
        (j["jid"] for j in jobs if j["name"] == JOB_NAME and j["state"] in ACTIVE_STATES), None
    )


def _wait_running(client: FlinkClient, job_id: str, timeout: float) -> None:
    """Until the job and all its vertices are RUNNING (so checkpoints and savepoints work)."""

    job = Poller.within(timeout).last(
        lambda: client.job(job_id), lambda j: j["state"] in TERMINAL_STATES or all_running(j)
    )
    if job["state"] in TERMINAL_STATES:
        exc = client.job_exceptions(job_id).get("root-exception") or ""
        raise OperationFailed(f"demo job {job_id} is {job['state']}", flink=exc.splitlines()[:1])
    if not all_running(job):
        raise FlinkctlError(f"demo job {job_id} was not running after {timeout:.0f}s")
