"""`flinkctl jobs cancel | stop | submit | rescale`: registered on the jobs app."""

from pathlib import Path
from typing import Annotated

import typer

from flinkctl.cli.args import JobArgument, job_id
from flinkctl.cli.confirm import YesOption, confirm
from flinkctl.cli.jobs import app
from flinkctl.cli.options import with_output
from flinkctl.cli.savepoint import FormatOption, directory_option, savepoint_operation
from flinkctl.cli.state import state
from flinkctl.cli.wait import (
    DEFAULT_TIMEOUT,
    TimeoutOption,
    WaitOption,
    command,
    note,
    until_job_ended,
    waiting,
)
from flinkctl.errors import RescaleUnsupported, UsageError
from flinkctl.flink import ENDED_STATES


@app.command()
@with_output
def cancel(
    job: JobArgument,
    wait: WaitOption = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    yes: YesOption = False,
) -> None:
    """Cancel a job without a savepoint (PATCH /jobs/:jobid?mode=cancel).

    With --wait, returns once the job has reached a terminal state.
    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl jobs cancel flinkctl-demo --wait --yes
    """
    jid = job_id(job)
    client = state.client()
    confirm(f"Cancel job {jid}? Its state is not saved.", yes)
    client.cancel_job(jid)
    if not wait:
        note(f"job {jid} is being cancelled")
        return
    note(f"job {jid} is {until_job_ended(jid, 'cancellation', timeout)}")


@app.command()
@with_output
def stop(
    job: JobArgument,
    drain: Annotated[
        bool,
        typer.Option("--drain", help="Advance the watermark to the end first (emit all windows)."),
    ] = False,
    # an Annotated type built at run time: Typer reads it, mypy cannot
    savepoint_dir: directory_option("--savepoint-dir", "-d") = None,  # type: ignore[valid-type]
    fmt: FormatOption = None,
    wait: WaitOption = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    yes: YesOption = False,
) -> None:
    """Stop a job with a savepoint (POST /jobs/:jobid/stop).

    Without --wait it prints the trigger id; with --wait the savepoint's location
    (-o json: job-id, trigger-id, status, location, duration-ms).
    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl jobs stop flinkctl-demo --wait --yes
    """
    from flinkctl.client.poller import new_trigger_id

    jid = job_id(job)
    client = state.client()
    confirm(f"Stop job {jid} with a savepoint?", yes)
    tid = new_trigger_id()
    operation = savepoint_operation("stop-with-savepoint", jid).ending_job(jid, timeout)
    client.stop_job(
        jid, tid, drain=drain, target_directory=savepoint_dir, format_type=fmt and fmt.value.upper()
    )
    operation.follow(tid, wait=wait, timeout=timeout)


def _existing(path: Path, what: str) -> Path:
    if not path.is_file():
        raise UsageError(f"{what} {str(path)!r} does not exist or is not a file")
    return path


def _artifact(value: str) -> tuple[str, Path]:
    name, sep, file = value.rpartition("=")
    path = _existing(Path(file), "artifact")
    return (name if sep else path.name), path


@app.command()
@with_output
def submit(
    job_graph: Annotated[
        Path,
        typer.Option(
            "--job-graph", help="Serialized JobGraph file (Java serialization).", show_default=False
        ),
    ],
    jar: Annotated[
        list[Path] | None, typer.Option("--jar", help="A jar the job needs (repeatable).")
    ] = None,
    artifact: Annotated[
        list[str] | None,
        typer.Option("--artifact", help="[NAME=]FILE for the distributed cache (repeatable)."),
    ] = None,
) -> None:
    """Submit a serialized JobGraph with its jars and artifacts (POST /jobs).

    The multipart submission Flink's own RestClusterClient uses; prints the job id.

    Example:

      flinkctl jobs submit --job-graph job.graph --jar udfs.jar
    """
    from flinkctl.output import render
    from flinkctl.output.lifecycle import STARTED

    graph = _existing(job_graph, "job graph")
    jars = [_existing(j, "jar") for j in jar or []]
    artifacts = [_artifact(a) for a in artifact or []]
    body = state.client().submit_job_graph(graph, jars, artifacts)
    render({"job-id": str(body.get("jobUrl", "")).rsplit("/", 1)[-1]}, STARTED)


def _vertex_setting(value: str) -> tuple[str, int]:
    name, sep, number = value.rpartition("=")
    if not sep or not name or not number.isdigit() or int(number) < 1:
        raise UsageError(f"--vertex {value!r}: expected VERTEX=N with N >= 1")
    return name, int(number)


@app.command()
@with_output
def rescale(
    job: JobArgument,
    parallelism: Annotated[
        int | None,
        typer.Option("--parallelism", "-p", min=1, help="New parallelism of every vertex."),
    ] = None,
    vertex: Annotated[
        list[str] | None,
        typer.Option(
            "--vertex", help="VERTEX=N: parallelism of one vertex (id, prefix or name; repeatable)."
        ),
    ] = None,
    wait: WaitOption = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
) -> None:
    """Change a running job's parallelism (PUT /jobs/:jobid/resource-requirements, Flink 1.18+).

    Needs the adaptive scheduler (jobmanager.scheduler: adaptive; try it locally with
    `flinkctl local up --demo -D jobmanager.scheduler=adaptive`). Sets each vertex's upper
    bound; with --wait, returns once every vertex runs at its new parallelism. On clusters
    older than 1.18, uses the legacy PATCH /jobs/:jobid/rescaling where it is still enabled.

    Example:

      flinkctl jobs rescale flinkctl-demo -p 4 --vertex Count=2 --wait
    """
    from flinkctl.client.resolve import vertex as resolve_vertex
    from flinkctl.output import render
    from flinkctl.output.lifecycle import rescale_view

    settings = [_vertex_setting(v) for v in vertex or []]
    if parallelism is None and not settings:
        raise UsageError("give -p N and/or --vertex VERTEX=N")
    jid = job_id(job)
    client = state.client()
    if not client.rescales_in_place():
        return _rescale_legacy(jid, parallelism, settings, wait=wait, timeout=timeout)
    details = client.job(jid)
    wanted = {v["id"]: parallelism for v in details.get("vertices") or []}
    for name, n in settings:
        wanted[resolve_vertex(details, name)] = n
    try:
        before, after = client.set_parallelism(jid, wanted)
    except RescaleUnsupported as exc:
        exc.hint = (
            "set 'jobmanager.scheduler: adaptive' in the cluster's configuration, or stop with a "
            f"savepoint and run again: {command('jobs', 'stop', jid, '--wait')}, "
            "then jars run ... --from-savepoint PATH -p N"
        )
        raise
    if wait:
        targets = {vid: req["parallelism"]["upperBound"] for vid, req in after.items()}
        waiting(
            f"rescale of job {jid}",
            lambda p: p.until(
                lambda: client.job(jid), lambda j: _rescaled(j, targets), what="rescale"
            ),
            timeout=timeout,
            resume=None,
        )
    names = {v["id"]: v.get("name") for v in details.get("vertices") or []}
    render(after, rescale_view(names, before))


def _rescaled(job: dict, targets: dict[str, int]) -> bool:
    from flinkctl.errors import OperationFailed

    if job.get("state") in ENDED_STATES:
        raise OperationFailed(f"job {job.get('jid')} is {job.get('state')}")
    return job.get("state") == "RUNNING" and all(
        v.get("parallelism") == targets.get(v["id"], v.get("parallelism"))
        and v.get("status") == "RUNNING"
        for v in job.get("vertices") or []
    )


def _rescale_legacy(
    jid: str, parallelism: int | None, settings: list, *, wait: bool, timeout: float
) -> None:
    """The legacy rescaling of clusters before Flink 1.18 (one parallelism for the job)."""
    if settings or parallelism is None:
        raise UsageError("--vertex needs Flink 1.18 or newer (resource requirements)")
    client = state.client()
    try:
        tid = client.rescale_legacy(jid, parallelism)["request-id"]
    except RescaleUnsupported as exc:
        stop = command("jobs", "stop", jid, "--wait")
        exc.hint = f"stop with a savepoint ({stop}) and run again with -p"
        raise
    if not wait:
        note(f"rescale of job {jid} triggered ({tid})")
        return
    waiting(
        f"rescale of job {jid}",
        lambda p: p.operation(lambda: client.rescaling_status(jid, tid), what="rescale"),
        timeout=timeout,
        resume=None,
    )
    note(f"job {jid} rescaled to {parallelism}")
