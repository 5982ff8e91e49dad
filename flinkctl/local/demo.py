"""The demo job (demo/DemoJob.java, shipped built as demo/flinkctl-demo.jar): submit and find it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flinkctl.client.poller import Poller
from flinkctl.errors import FlinkctlError, OperationFailed
from flinkctl.flink import ACTIVE_STATES, TERMINAL_STATES, Json, all_running, jar_id

if TYPE_CHECKING:
    from flinkctl.client import FlinkClient

JAR = Path(__file__).with_name("demo") / "flinkctl-demo.jar"
JOB_NAME = "flinkctl-demo"
ENTRY_CLASS = "flinkctl.demo.DemoJob"


def run(client: FlinkClient, *, sleep_ms: int | None = None, timeout: float = 60.0) -> str:
    """Upload the demo jar through CLIENT, run it, wait until all its tasks run.

    SLEEP_MS throttles the source (milliseconds per record). Returns the job id.
    """
    jar = jar_id(client.upload_jar(JAR))
    body: Json = {"entryClass": ENTRY_CLASS}
    if sleep_ms is not None:
        body["programArgsList"] = [str(sleep_ms)]
    job_id = client.run_jar(jar, body)["jobid"]
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
