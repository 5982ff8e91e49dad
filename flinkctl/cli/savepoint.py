"""`flinkctl savepoint`: trigger (one job, several, every job of a fleet), follow, dispose,
and the catalog's regime: list, latest, prune, check (flinkctl.workflows.savepoints)."""

from typing import TYPE_CHECKING, Annotated

import typer

from flinkctl.cli.common.arguments import (
    JobNameArgument,
    JobsArgument,
    SavepointPathArgument,
    job_id,
    savepoint_path,
)
from flinkctl.cli.common.confirm import YesOption, confirm
from flinkctl.cli.common.fleet import AllContextsOption, Results, each_context, tagged
from flinkctl.cli.common.operations import DISPOSAL, SAVEPOINT, status_command
from flinkctl.cli.common.options import (
    CatalogOption,
    DirAliasOption,
    SavepointDirOption,
    SavepointFormatOption,
    catalog_at,
    duration_option,
    savepoint_target,
    with_output,
)
from flinkctl.cli.common.waiting import WAIT_TIMEOUT, Wait, with_wait
from flinkctl.cli.invocation import Invocation, emit, note
from flinkctl.errors import ExitCode, FlinkctlError, NotFoundError, StaleError, UsageError

if TYPE_CHECKING:
    from flinkctl.catalog import Catalog
    from flinkctl.client import FlinkClient
    from flinkctl.workflows.savepoints import Target

app = typer.Typer(no_args_is_help=True)

AllJobsOption = Annotated[bool, typer.Option("--all", help="Every running job (see --name).")]
NameGlobOption = Annotated[
    str | None,
    typer.Option(
        "--name", help="With --all: only jobs whose name matches this glob, e.g. 'etl-*'."
    ),
]


MaxAgeOption = Annotated[
    float | None,
    duration_option(
        "--max-age",
        help="The age a savepoint may reach: 45s, 30m, 12h, 7d. Required.",
    ),
]
OlderThanOption = Annotated[
    float | None,
    duration_option(
        "--older-than",
        help="Dispose only savepoints older than this: 45s, 30m, 12h, 7d.",
    ),
]


def _one_of(name: str | None, all_names: bool, what: str) -> None:
    if bool(name) == bool(all_names):
        raise UsageError(f"give a job name or --all to {what}")


@app.command()
@with_output
@with_wait
def trigger(
    jobs: JobsArgument = None,
    all_jobs: AllJobsOption = False,
    name: NameGlobOption = None,
    savepoint_dir: SavepointDirOption = None,
    cancel: Annotated[
        bool, typer.Option("--cancel", help="Cancel the job after the savepoint.")
    ] = False,
    fmt: SavepointFormatOption = None,
    all_contexts: AllContextsOption = False,
    catalog: CatalogOption = None,
    directory: DirAliasOption = None,
    *,
    wait: Wait,
) -> None:
    """Trigger savepoints (POST /jobs/:jobid/savepoints) of one job, several, or --all; record them.

    The request carries a client-generated triggerId, so a retried request never takes a
    second savepoint, and a job with a savepoint in progress that another flinkctl run
    triggered (less than --timeout ago, per the catalog) joins it: both runs report the same
    path. Every savepoint is recorded in the catalog (`savepoint list`).

    One JOB: without --wait it prints the trigger id; with --wait the savepoint's location
    (-o json: job-id, trigger-id, status, location, duration-ms). Several JOBs or --all [--name
    GLOB] (-A: on every context): triggered concurrently, every job attempted, one result per
    job (-o json: a list, each with job-name and, on failure, error); the exit code is the
    worst failure's.

    Example:

      flinkctl savepoint trigger --all --name 'etl-*' -A --wait -o jsonl >> savepoints.jsonl
    """
    directory = savepoint_dir or directory  # --dir: the name before --savepoint-dir
    fmt_value = savepoint_target(directory, fmt)["format_type"]
    if jobs and all_jobs:
        raise UsageError("give JOBs or --all, not both")
    if not jobs and not all_jobs:
        raise UsageError("give the JOBs to savepoint, or --all")
    if name and not all_jobs:
        raise UsageError("--name selects jobs with --all")
    if all_contexts and not all_jobs:
        raise UsageError("--all-contexts takes savepoints with --all")
    with catalog_at(catalog) as local:
        if jobs and len(jobs) == 1:
            return _trigger_one(local, jobs[0], directory, cancel, fmt_value, wait)
        _trigger_many(local, jobs or [], name, all_contexts, directory, cancel, fmt_value, wait)


def _trigger_one(
    local: "Catalog", job: str, directory: str | None, cancel: bool, fmt: str | None, wait: Wait
) -> None:
    from flinkctl.workflows.savepoints import Options, Recording, job_name

    jid = job_id(job)
    client = Invocation.current().client()
    options = Options(directory, fmt, cancel, wait.wanted, wait.timeout)
    recording = Recording(client, local, jid, job_name(client, jid), options.kind, fmt,
                          options.join_within)  # fmt: skip
    SAVEPOINT.trigger(
        jid,
        lambda client, tid: client.trigger_savepoint(
            jid, tid, cancel_job=cancel, target_directory=directory, format_type=fmt
        ),
        wait,
        ends_job=cancel,
        recording=recording,
    )


def _trigger_many(
    local: "Catalog",
    jobs: list[str],
    glob: str | None,
    all_contexts: bool,
    directory: str | None,
    cancel: bool,
    fmt: str | None,
    wait: Wait,
) -> None:
    from flinkctl.output.fleet import per_context
    from flinkctl.output.savepoints import TAKEN
    from flinkctl.workflows.savepoints import Options, running_jobs, take

    options = Options(directory, fmt, cancel, wait.wanted, wait.timeout)

    def work(client: "FlinkClient") -> list[dict]:
        targets, unknown = _resolved(client, jobs) if jobs else (running_jobs(client, glob), [])
        return unknown + client.fan_out(lambda t: take(client, local, t, options), targets)

    results = each_context(all_contexts, work)
    items = [tagged(all_contexts, ctx, r) for ctx, found in results.values for r in found]
    emit(items, per_context(TAKEN, all_contexts))
    for item in items:
        if "error" in item:
            results.fail(_item_error(item))
    if not wait.wanted and items:
        note(f"{len(items)} savepoint(s) triggered; `flinkctl savepoint list` shows them")
    results.exit()


def _resolved(client: "FlinkClient", jobs: list[str]) -> tuple[list["Target"], list[dict]]:
    """JOBS as targets, and a failed result for each that does not resolve (every job is
    attempted, so one unknown JOB does not stop the others)."""
    from flinkctl.client.resolve import job as resolve
    from flinkctl.workflows.savepoints import Target, job_name

    targets, unknown = [], []
    for value in jobs:
        try:
            jid = resolve(client, value)
            targets.append(Target(jid, job_name(client, jid)))
        except FlinkctlError as exc:
            error = {"code": int(exc.code), "kind": exc.kind, "message": exc.message}
            unknown.append({"job-id": None, "job-name": value, "status": "FAILED", "error": error})
    return targets, unknown


def _item_error(item: dict) -> FlinkctlError:
    """A failed job's error from its result, named for its job (and context)."""
    error = item["error"]
    where = f"context {item['context']}: " if "context" in item else ""
    if item["job-id"] is not None:  # one that did not resolve names itself
        where += f"job {item['job-id']} ({item['job-name']}): "
    err = FlinkctlError(where + error["message"])
    err.code, err.kind = ExitCode(error["code"]), error["kind"]
    return err


app.command(
    "status",
    help="""Show a savepoint's or stop's status (GET /jobs/:jobid/savepoints/:triggerid).

    Without --wait: the status once (exit 1 if it failed). With --wait: as `trigger --wait`.

    Example:

      flinkctl savepoint status my-job 5e8c0bd2e4b54a2f8d6c1f3a9b7e0d41 --wait
    """,
)(status_command(SAVEPOINT))


@app.command()
@with_output
@with_wait
def dispose(path: SavepointPathArgument, wait: Wait, yes: YesOption = False) -> None:
    """Delete a savepoint's data and metadata (POST /savepoint-disposal).

    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl savepoint dispose file:///savepoints/savepoint-1f2e3d-0a1b2c3d4e5f --wait --yes
    """
    savepoint_path(path)
    confirm(f"Dispose savepoint {path}? Its files are deleted.", yes)
    DISPOSAL.trigger(path, lambda client, _: client.dispose_savepoint(path), wait)


app.command(
    "dispose-status",
    help="""Show a savepoint disposal's status (GET /savepoint-disposal/:triggerid).

    Example:

      flinkctl savepoint dispose-status 5e8c0bd2e4b54a2f8d6c1f3a9b7e0d41 --wait
    """,
)(status_command(DISPOSAL))


@app.command("list")
@with_output
def list_(
    name: JobNameArgument = None,
    all_contexts: AllContextsOption = False,
    catalog: CatalogOption = None,
) -> None:
    """List savepoints: the catalog merged with what Flink knows, one row per path, newest first.

    Flink's part: the savepoints in the checkpoint history and `latest.savepoint` of every job
    of that name it still knows, running or recently ended (GET /jobs/overview, GET
    /jobs/:jobid/checkpoints); those the catalog lacked are recorded in it. Columns: job
    name, taken, age, kind (savepoint, stop-with-savepoint, deploy), size, status
    (IN_PROGRESS, COMPLETED, FAILED, DISPOSED), path. -o json: the catalog rows.

    Example:

      flinkctl savepoint list orders -A -o wide
    """
    from flinkctl.output.fleet import per_context
    from flinkctl.output.savepoints import SAVEPOINTS
    from flinkctl.workflows.savepoints import known

    with catalog_at(catalog) as local:
        results = each_context(all_contexts, lambda client: known(client, local, name))
    rows = [
        tagged(all_contexts, ctx, {**s.to_json(), "context": ctx})
        for ctx, found in results.values
        for s in found.savepoints
    ]
    emit(rows, per_context(SAVEPOINTS, all_contexts))
    results.exit()


@app.command()
@with_output
def latest(
    name: Annotated[str, typer.Argument(help="The job's name.", metavar="JOB_NAME")],
    catalog: CatalogOption = None,
) -> None:
    """Print the path of a job name's newest completed savepoint that is not disposed.

    Alone on stdout, for `$(...)`; exit 3 when none is known (catalog and Flink merged, as
    `savepoint list`). -o json: its catalog row.

    Example:

      flinkctl jars run orders.jar --from-savepoint "$(flinkctl savepoint latest orders)"
    """
    from flinkctl.output.savepoints import LATEST
    from flinkctl.workflows.savepoints import known

    with catalog_at(catalog) as local:
        newest = known(Invocation.current().client(), local, name).newest(name)
    if newest is None:
        raise NotFoundError(
            f"no completed savepoint of job {name!r} is known here or on the cluster",
            hint=f"take one: flinkctl savepoint trigger {name} --wait",
        )
    emit(newest.to_json(), LATEST)


@app.command()
@with_output
def prune(
    name: JobNameArgument = None,
    all_names: Annotated[
        bool, typer.Option("--all", help="Every job name with savepoints.")
    ] = False,
    keep: Annotated[
        int | None, typer.Option("--keep", min=1, help="Keep the newest N of each job name.")
    ] = None,
    older_than: OlderThanOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan; dispose nothing.")
    ] = False,
    timeout: Annotated[
        float,
        duration_option(
            "--timeout",
            help="How long to wait for each disposal (seconds, or 45s, 10m; 0: forever).",
        ),
    ] = WAIT_TIMEOUT,
    yes: YesOption = False,
    catalog: CatalogOption = None,
) -> None:
    """Dispose old savepoints through Flink (POST /savepoint-disposal), waiting for each.

    Per job name, across job ids: disposes the completed savepoints beyond the newest --keep N
    and/or older than --older-than (with both: only those beyond N and older). Never the
    name's newest, one its running job was restored from (GET /jobs/:jobid/checkpoints,
    latest.restored), nor one a deploy record keeps for a rollback (the state the running
    and the newest revision started from). Disposed savepoints are marked in the catalog.
    Prints the plan: every savepoint, keep or dispose, and why. Asks on a terminal; needs
    --yes otherwise. Exit 1 if a disposal failed.

    Example:

      flinkctl savepoint prune orders --keep 5 --dry-run
    """
    from flinkctl.output.savepoints import PRUNE
    from flinkctl.workflows.savepoints import dispose, known, plan, rollback_states

    _one_of(name, all_names, "prune")
    if keep is None and older_than is None:
        raise UsageError("say what to keep: --keep N and/or --older-than DURATION")
    client = Invocation.current().client()
    with catalog_at(catalog) as local:
        found = known(client, local, name)
        names = [name] if name else sorted({s.job_name for s in found.completed()})
        protected: dict[str, str] = {}
        for each in names:
            protected.update(rollback_states(client, local, each))
        decisions = plan(found, names, keep=keep, older_than=older_than, protected=protected)
        doomed = [d for d in decisions if d.dispose]
        failures: list[FlinkctlError] = []
        if doomed and not dry_run:
            confirm(f"Dispose {len(doomed)} savepoint(s)? Their files are deleted.", yes)
            for decision in doomed:
                error = dispose(client, local, decision, timeout)
                if error is not None:
                    failures.append(error)
    emit([d.to_json() for d in decisions], PRUNE)
    verb = "would dispose" if dry_run else "disposed"
    note(f"{verb} {len(doomed) - len(failures)} of {len(decisions)} savepoint(s)")
    results: Results[None] = Results([])
    for error in failures:
        results.fail(error)
    results.exit()


@app.command()
@with_output
def check(
    name: JobNameArgument = None,
    all_jobs: AllJobsOption = False,
    max_age: MaxAgeOption = None,
    all_contexts: AllContextsOption = False,
    catalog: CatalogOption = None,
) -> None:
    """Check that every running job (of JOB_NAME, or --all) has a fresh savepoint, for monitoring.

    Exit 0 when each has a completed savepoint (of its name, catalog and Flink merged) younger
    than --max-age; otherwise exit 7 naming the stale jobs and their ages on stderr. A job
    name with no running job is exit 3. Prints one row per job: fresh, age, the savepoint.

    Example:

      flinkctl savepoint check --all --max-age 2h -A
    """
    from flinkctl.output.fleet import per_context
    from flinkctl.output.savepoints import CHECK
    from flinkctl.workflows.savepoints import freshness, known

    _one_of(name, all_jobs, "check")
    if max_age is None:
        raise UsageError("missing --max-age DURATION, e.g. --max-age 2h")
    with catalog_at(catalog) as local:
        age = max_age
        results = each_context(
            all_contexts, lambda client: freshness(known(client, local, name), age)
        )
    rows = [tagged(all_contexts, ctx, r) for ctx, found in results.values for r in found]
    emit(rows, per_context(CHECK, all_contexts))
    if name and not rows and not results.codes:
        raise NotFoundError(f"no job named {name!r} runs")
    stale = [r for r in rows if not r["fresh"]]
    if stale:
        results.fail(StaleError(_stale(stale, len(rows), max_age)))
    results.exit()


def _stale(stale: list[dict], total: int, max_age: float) -> str:
    from flinkctl.output.humanize import duration as human

    def one(row: dict) -> str:
        where = f"{row['context']}/" if "context" in row else ""
        age = human(row["age-ms"]) if row["age-ms"] is not None else "no savepoint"
        return f"{where}{row['job-name']} ({age})"

    return (
        f"{len(stale)} of {total} running job(s) have no savepoint younger than "
        f"{human(max_age * 1000)}: " + ", ".join(one(r) for r in stale)
    )
