"""`flinkctl jobs cancel | stop | submit | rescale`: end, start and rescale jobs."""

from pathlib import Path
from typing import Annotated

import typer

from flinkctl.cli.common.arguments import JobArgument, job_id
from flinkctl.cli.common.confirm import YesOption, confirm
from flinkctl.cli.common.operations import SAVEPOINT
from flinkctl.cli.common.options import (
    CatalogOption,
    DrainOption,
    SavepointDirOption,
    SavepointFormatOption,
    catalog_at,
    savepoint_target,
    with_output,
)
from flinkctl.cli.common.waiting import Wait, until_job_ended, waiting, with_wait
from flinkctl.cli.invocation import Invocation
from flinkctl.errors import RescaleUnsupported, UsageError
from flinkctl.flink import ENDED_STATES, all_running, objects

app = typer.Typer()


@app.command()
@with_output
@with_wait
def cancel(inv: Invocation, job: JobArgument, wait: Wait, yes: YesOption = False) -> None:
    """Cancel a job without a savepoint (PATCH /jobs/:jobid?mode=cancel).

    With --wait, returns once the job has reached a terminal state.
    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl jobs cancel flinkctl-demo --wait --yes
    """
    jid = job_id(inv, job)
    confirm(inv, f"Cancel job {jid}? Its state is not saved.", yes)
    inv.client().cancel_job(jid)
    if not wait.wanted:
        inv.note(f"job {jid} is being cancelled")
        return
    inv.note(f"job {jid} is {until_job_ended(inv, jid, 'cancellation', wait.timeout)}")


@app.command()
@with_output
@with_wait
def stop(
    inv: Invocation,
    job: JobArgument,
    drain: DrainOption = False,
    savepoint_dir: SavepointDirOption = None,
    fmt: SavepointFormatOption = None,
    catalog: CatalogOption = None,
    *,
    wait: Wait,
    yes: YesOption = False,
) -> None:
    """Stop a job with a savepoint (POST /jobs/:jobid/stop), recorded in the catalog.

    Without --wait it prints the trigger id; with --wait the savepoint's location
    (-o json: job-id, trigger-id, status, location, duration-ms).
    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl jobs stop my-job --drain --savepoint-dir s3://bucket/sp --wait
    """
    from flinkctl.workflows.savepoints import Recording, job_name

    jid = job_id(inv, job)
    confirm(inv, f"Stop job {jid} with a savepoint?", yes)
    target = savepoint_target(savepoint_dir, fmt)
    client = inv.client()
    with catalog_at(inv, catalog) as local:
        recording = Recording(client, local, jid, job_name(client, jid), "stop-with-savepoint",
                              target["format_type"])  # fmt: skip
        SAVEPOINT.trigger(
            inv,
            jid,
            lambda client, tid: client.stop_job(jid, tid, drain=drain, **target),
            wait,
            name="stop-with-savepoint",
            ends_job=True,
            recording=recording,
        )


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
    inv: Invocation,
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
    from flinkctl.output.lifecycle import STARTED

    graph = _existing(job_graph, "job graph")
    jars = [_existing(j, "jar") for j in jar or []]
    artifacts = [_artifact(a) for a in artifact or []]
    body = inv.client().submit_job_graph(graph, jars, artifacts)
    inv.emit({"job-id": str(body.get("jobUrl", "")).rsplit("/", 1)[-1]}, STARTED)


def _vertex_setting(value: str) -> tuple[str, int]:
    name, sep, number = value.rpartition("=")
    if not sep or not name or not number.isdigit() or int(number) < 1:
        raise UsageError(f"--vertex {value!r}: expected VERTEX=N with N >= 1")
    return name, int(number)


@app.command()
@with_output
@with_wait
def rescale(
    inv: Invocation,
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
    *,
    wait: Wait,
) -> None:
    """Change a running job's parallelism (PUT /jobs/:jobid/resource-requirements, Flink 1.18+).

    Needs the adaptive scheduler (jobmanager.scheduler: adaptive; try it locally with
    `flinkctl local up --demo -D jobmanager.scheduler=adaptive`). Sets each vertex's upper
    bound; with --wait, returns once every vertex runs at its new parallelism.

    Example:

      flinkctl jobs rescale flinkctl-demo -p 4 --vertex Count=2 --wait
    """
    from flinkctl.client.resolve import vertex as resolve_vertex
    from flinkctl.output.rescale import rescale_view

    settings = [_vertex_setting(v) for v in vertex or []]
    if parallelism is None and not settings:
        raise UsageError("give -p N and/or --vertex VERTEX=N")
    jid = job_id(inv, job)
    client = inv.client()
    client.require("1.18", "jobs rescale")
    details = client.job(jid)
    wanted = {v["id"]: parallelism for v in objects(details.get("vertices"))}
    for name, n in settings:
        wanted[resolve_vertex(details, name)] = n
    try:
        before, after = client.set_parallelism(jid, wanted)
    except RescaleUnsupported as exc:
        exc.hint = (
            "set 'jobmanager.scheduler: adaptive' in the cluster's configuration, or stop with a "
            f"savepoint and run again: {inv.command_line('jobs', 'stop', jid, '--wait')}, "
            "then jars run ... --from-savepoint PATH -p N"
        )
        raise
    if wait.wanted:
        targets = {vid: req["parallelism"]["upperBound"] for vid, req in after.items()}
        waiting(
            inv,
            f"rescale of job {jid}",
            lambda p: p.until(
                lambda: client.job(jid), lambda j: _rescaled(j, targets), what="rescale"
            ),
            timeout=wait.timeout,
            resume=None,
        )
    names = {v["id"]: v.get("name") for v in objects(details.get("vertices"))}
    inv.emit(after, rescale_view(names, before))


def _rescaled(job: dict, targets: dict[str, int]) -> bool:
    from flinkctl.errors import OperationFailed

    if job.get("state") in ENDED_STATES:
        raise OperationFailed(f"job {job.get('jid')} is {job.get('state')}")
    return all_running(job) and all(
        v.get("parallelism") == targets.get(v["id"], v.get("parallelism"))
        for v in objects(job.get("vertices"))
    )
