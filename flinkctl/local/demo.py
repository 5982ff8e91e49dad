"""The demo job (demo/DemoJob.java, shipped built as demo/flinkctl-demo.jar): submit and find it."""

from __future__ import annotations

import time
from pathlib import Path

from flinkctl.errors import FlinkctlError, OperationFailed, UnreachableError
from flinkctl.flink import ACTIVE_STATES, TERMINAL_STATES

JAR = Path(__file__).with_name("demo") / "flinkctl-demo.jar"
JOB_NAME = "flinkctl-demo"
ENTRY_CLASS = "flinkctl.demo.DemoJob"


def run(url: str, *, sleep_ms: int | None = None, timeout: float = 60.0) -> str:
    """Upload the demo jar to the cluster at URL, run it, wait until all its tasks run.

    SLEEP_MS throttles the source (milliseconds per record). Returns the job id.
    """
    import httpx

    with httpx.Client(base_url=url, timeout=30) as http:
        with JAR.open("rb") as f:
            files = {"jarfile": (JAR.name, f, "application/x-java-archive")}
            uploaded = _call(http, "POST", "/jars/upload", files=files)
        jar_id = Path(uploaded["filename"]).name
        body: dict = {"entryClass": ENTRY_CLASS}
        if sleep_ms is not None:
            body["programArgsList"] = [str(sleep_ms)]
        job_id = _call(http, "POST", f"/jars/{jar_id}/run", json=body)["jobid"]
        _wait_running(http, job_id, timeout)
    return job_id


def find(url: str) -> str | None:
    """The id of a running (or starting) demo job on the cluster at URL, if any."""
    import httpx

    with httpx.Client(base_url=url, timeout=10) as http:
        jobs = _call(http, "GET", "/jobs/overview")["jobs"]
    return next(
        (j["jid"] for j in jobs if j["name"] == JOB_NAME and j["state"] in ACTIVE_STATES), None
    )


def _wait_running(http, job_id: str, timeout: float) -> None:
    """Until the job and all its vertices are RUNNING (so checkpoints and savepoints work)."""
    deadline = time.monotonic() + timeout
    while True:
        job = _call(http, "GET", f"/jobs/{job_id}")
        if job["state"] in TERMINAL_STATES:
            exc = _call(http, "GET", f"/jobs/{job_id}/exceptions").get("root-exception") or ""
            raise OperationFailed(
                f"demo job {job_id} is {job['state']}", flink=exc.splitlines()[:1]
            )
        if job["state"] == "RUNNING" and all(v["status"] == "RUNNING" for v in job["vertices"]):
            return
        if time.monotonic() > deadline:
            raise FlinkctlError(f"demo job {job_id} was not running after {timeout:.0f}s")
        time.sleep(0.5)


def _call(http, method: str, path: str, **kw) -> dict:
    """One REST call; Flink's `{"errors": [...]}` becomes a FlinkctlError."""
    import httpx

    try:
        resp = http.request(method, path, **kw)
    except httpx.HTTPError as e:
        raise UnreachableError(f"cannot reach {http.base_url}: {e}") from e
    if resp.status_code >= 400:
        try:
            errors = [str(e).splitlines()[0] for e in resp.json().get("errors", []) if str(e)]
        except ValueError:
            errors = [resp.text[:200]]
        raise FlinkctlError(
            f"{method} {path} failed with HTTP {resp.status_code}",
            status=resp.status_code,
            flink=errors,
        )
    return resp.json()
