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
from flinkctl.cli.common.fleet import (
    AllContextsOption,
    Selection,
    each_context,
    items,
    tagged,
    with_selection,
)
from flinkctl.cli.common.operations import DISPOSAL, SAVEPOINT, status_command
from flinkctl.cli.common.options import (
    CatalogOption,
    DirAliasOption,
    SavepointDirOption,
    SavepointFormatOption,
    catalog_at,
    duration_option,
    options_from,
    savepoint_target,
    with_output,
)
from flinkctl.cli.common.waiting import WAIT_TIMEOUT, Wait, with_wait
from flinkctl.cli.invocation import Invocation
from flinkctl.errors import ExitCode, FlinkctlError, NotFoundError, StaleError, UsageError

if TYPE_CHECKING:
    from flinkctl.catalog import Catalog
    from flinkctl.client import FlinkClient
    from flinkctl.workflows.savepoints import Decision, Target

app = typer.Typer(no_args_is_help=True)

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


def _name_or_all(
    name: JobNameArgument = None,
    all_names: Annotated[
        bool, typer.Option("--all", help="Every job name, instead of JOB_NAME.")
    ] = False,
) -> str | None:
    if bool(name) == all_names:
        raise UsageError("give a job name or --all")
    return name or None


# a command's `name` parameter, JOB_NAME or None for every name (--all), one of them required
with_name_or_all = options_from(_name_or_all, into="name")


@app.command()
@with_output
@with_wait
@with_selection
def trigger(
    inv: Invocation,
    jobs: JobsArgument = None,
    *,
    selection: Selection,
    savepoint_dir: SavepointDirOption = None,
    cancel: Annotated[
        bool, typer.Option("--cancel", help="Cancel the job after the savepoint.")
    ] = False,
    fmt: SavepointFormatOption = None,
    catalog: CatalogOption = None,
    directory: DirAliasOption = None,
    wait: Wait,
) -> None:
    """Trigger savepoints (POST /jobs/:jobid/savepoints) of one job, several, or --all; record them.

    The request carries a client-generated triggerId, so a retried request never takes a
    second savepoint. A job with a savepoint that another flinkctl run triggered less than
    --timeout ago (per the catalog) and that Flink still reports in progress (asked by its
    trigger id) is joined: both runs report the same path, and the result says when it was
    triggered (started-ms). One that Flink reports finished, or no longer knows, is settled
    in the catalog and a new savepoint is taken. Every savepoint is recorded in the catalog
    (`savepoint list`).

    One JOB: without --wait it prints the trigger id; with --wait the savepoint's location
    (-o json: job-id, trigger-id, joined, started-ms, status, location, duration-ms,
    logged-at). Several JOBs or --all [--name GLOB] (-A: on every context): triggered
    concurrently, every job attempted, one result per job (-o json: a list, each with
    job-name and, on failure, error). --all skips a job that is not running cleanly (not
    RUNNING, or a task neither RUNNING nor FINISHED): status SKIPPED and a reason, exit 1 as a
    failed savepoint. With -o json/jsonl a context that failed is an item too (context,
    error), and so is one where nothing matched (context, note); --all that selects no job on
    any context that answered is exit 3. Each item has logged-at (UTC, ISO 8601). The exit
    code is the worst failure's.

    Example:

      flinkctl savepoint trigger --all --name 'etl-*' -A --wait -o jsonl >> savepoints.jsonl
    """
    directory = savepoint_dir or directory  # --dir: the name before --savepoint-dir
    fmt_value = savepoint_target(directory, fmt)["format_type"]
    selection.check(
        bool(jobs), jobs="JOBs", wanted="the JOBs to savepoint", across="takes savepoints"
    )
    with catalog_at(inv, catalog) as local:
        if jobs and len(jobs) == 1:
            return _trigger_one(inv, local, jobs[0], directory, cancel, fmt_value, wait)
        _trigger_many(inv, local, jobs or [], selection, directory, cancel, fmt_value, wait)


def _trigger_one(
    inv: Invocation,
    local: "Catalog",
    job: str,
    directory: str | None,
    cancel: bool,
    fmt: str | None,
    wait: Wait,
) -> None:
    from flinkctl.workflows.savepoints import Options, Recording, job_name, logged

    jid = job_id(inv, job)
    client = inv.client()
    options = Options(directory, fmt, cancel, wait.wanted, wait.timeout)
    recording = Recording(client, local, jid, job_name(client, jid), options.kind, fmt,
                          options.join_within)  # fmt: skip
    SAVEPOINT.trigger(
        inv,
        jid,
        lambda client, tid: client.trigger_savepoint(
            jid, tid, cancel_job=cancel, target_directory=directory, format_type=fmt
        ),
        wait,
        ends_job=cancel,
        recording=recording,
        annotate=lambda item: logged([{**item, **recording.fields()}])[0],
    )


def _trigger_many(
    inv: Invocation,
    local: "Catalog",
    jobs: list[str],
    selection: Selection,
    directory: str | None,
    cancel: bool,
    fmt: str | None,
    wait: Wait,
) -> None:
    from flinkctl.output.fleet import per_context
    from flinkctl.output.savepoints import TAKEN
    from flinkctl.workflows.savepoints import Options, logged, running_jobs, take

    options = Options(directory, fmt, cancel, wait.wanted, wait.timeout)

    def work(client: "FlinkClient") -> list[dict]:
        targets, others = _resolved(client, jobs) if jobs else running_jobs(client, selection.glob)
        return client.fan_out(lambda t: take(client, local, t, options), targets) + others

    all_contexts = selection.all_contexts
    try:
        results = each_context(inv, all_contexts, work, keep_failure=True)
    except KeyboardInterrupt:
        inv.io.say(
            "stopped; a savepoint already triggered goes on on the cluster: "
            f"{inv.command_line('savepoint', 'list')} shows them"
        )
        raise
    taken = items(results, all_contexts)
    notes = [] if jobs else results.notes(selection.nothing)
    inv.emit(logged(taken + notes + results.failed_lines()), per_context(TAKEN, all_contexts))
    for item in taken:
        if "error" in item or item["status"] == "SKIPPED":
            results.fail(_item_error(item))
    # nothing at all on every context that answered
    nothing = bool(notes) and len(notes) == len(results.values)
    results.nothing_found(nothing, selection.nothing, notes, all_contexts)
    triggered = [i for i in taken if i.get("trigger-id")]
    if not wait.wanted and triggered:
        inv.note(f"{len(triggered)} savepoint(s) triggered; `flinkctl savepoint list` shows them")
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
    """A failed or skipped job's error from its result, named for its job (and context): a
    skipped job is exit 1, as a savepoint Flink refused."""
    where = f"context {item['context']}: " if "context" in item else ""
    if item["job-id"] is not None:  # one that did not resolve names itself
        where += f"job {item['job-id']} ({item['job-name']}): "
    if "error" not in item:
        return FlinkctlError(f"{where}skipped: {item['reason']}")
    error = item["error"]
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
def dispose(
    inv: Invocation, path: SavepointPathArgument, wait: Wait, yes: YesOption = False
) -> None:
    """Delete a savepoint's data and metadata (POST /savepoint-disposal).

    Asks for confirmation on a terminal; requires --yes when stdin is not a terminal.

    Example:

      flinkctl savepoint dispose file:///savepoints/savepoint-1f2e3d-0a1b2c3d4e5f --wait --yes
    """
    savepoint_path(path)
    confirm(inv, f"Dispose savepoint {path}? Its files are deleted.", yes)
    DISPOSAL.trigger(inv, path, lambda client, _: client.dispose_savepoint(path), wait)


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
    inv: Invocation,
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

    with catalog_at(inv, catalog) as local:
        results = each_context(inv, all_contexts, lambda client: known(client, local, name))
    rows = [
        tagged(all_contexts, ctx, {**s.to_json(), "context": ctx})
        for ctx, found in results.values
        for s in found.savepoints
    ]
    inv.emit(rows, per_context(SAVEPOINTS, all_contexts))
    results.exit()


@app.command()
@with_output
def latest(
    inv: Invocation,
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

    with catalog_at(inv, catalog) as local:
        newest = known(inv.client(), local, name).newest(name)
    if newest is None:
        raise NotFoundError(
            f"no completed savepoint of job {name!r} is known here or on the cluster",
            hint=f"take one: flinkctl savepoint trigger {name} --wait",
        )
    inv.emit(newest.to_json(), LATEST)


@app.command()
@with_output
@with_name_or_all
def prune(
    inv: Invocation,
    name: str | None,
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
    --yes otherwise. Exit 1 if a disposal failed; with --all, exit 3 when no job name has a
    completed savepoint. -o json/jsonl: each item has `logged-at` (UTC, ISO 8601); a cluster
    that fails has an item too (`{"context", "error": {"code", "kind", "message"}}`), and so
    has nothing to consider (`{"context", "note"}`).

    Example:

      flinkctl savepoint prune orders --keep 5 --dry-run
    """
    from flinkctl.output.savepoints import PRUNE
    from flinkctl.workflows.savepoints import dispose, logged

    if keep is None and older_than is None:
        raise UsageError("say what to keep: --keep N and/or --older-than DURATION")
    failures: list[FlinkctlError] = []
    doomed: list[Decision] = []
    with catalog_at(inv, catalog) as local:
        results = each_context(inv,
            False, lambda client: _prune_plan(client, local, name, keep, older_than),
            keep_failure=True,
        )  # fmt: skip
        decisions = [d for _, found in results.values for d in found]
        doomed = [d for d in decisions if d.dispose]
        if doomed and not dry_run:
            confirm(inv, f"Dispose {len(doomed)} savepoint(s)? Their files are deleted.", yes)
            client = inv.client()
            for decision in doomed:
                error = dispose(client, local, decision, timeout)
                if error is not None:
                    failures.append(error)
    what = f"no completed savepoint of job {name!r} is known" if name else (
        "no job has a completed savepoint known here or on the cluster")  # fmt: skip
    notes = results.notes(what)
    inv.emit(logged([d.to_json() for d in decisions] + notes + results.failed_lines()), PRUNE)
    if results.values:
        verb = "would dispose" if dry_run else "disposed"
        inv.note(f"{verb} {len(doomed) - len(failures)} of {len(decisions)} savepoint(s)")
    if name is None and notes:  # --all selected nothing
        results.fail(NotFoundError(what))
    for error in failures:
        results.fail(error)
    results.exit()


def _prune_plan(
    client: "FlinkClient",
    local: "Catalog",
    name: str | None,
    keep: int | None,
    older_than: float | None,
) -> list["Decision"]:
    """What prune does with each completed savepoint of NAME (or every name) on CLIENT's
    cluster: keep or dispose, and why (flinkctl.workflows.savepoints.plan)."""
    from flinkctl.workflows.savepoints import known, plan, rollback_states

    found = known(client, local, name)
    names = [name] if name else sorted({s.job_name for s in found.completed()})
    protected: dict[str, str] = {}
    for each in names:
        protected.update(rollback_states(client, local, each))
    return plan(found, names, keep=keep, older_than=older_than, protected=protected)


@app.command()
@with_output
@with_name_or_all
def check(
    inv: Invocation,
    name: str | None,
    max_age: MaxAgeOption = None,
    all_contexts: AllContextsOption = False,
    catalog: CatalogOption = None,
) -> None:
    """Check that every running job (of JOB_NAME, or --all) has a fresh savepoint, for monitoring.

    Exit 0 when each has a completed savepoint (of its name, catalog and Flink merged) younger
    than --max-age; otherwise exit 7 naming the stale jobs and their ages on stderr. A job
    name with no running job, or --all with no job running on any context that answered, is
    exit 3. Prints one row per job: fresh, age, the savepoint. -o json/jsonl: each item has
    `logged-at` (UTC, ISO 8601), and a context with no job or that failed has an item too
    (`{"context", "note"}`, `{"context", "error": {"code", "kind", "message"}}`).

    Example:

      flinkctl savepoint check --all --max-age 2h -A
    """
    from flinkctl.output.fleet import per_context
    from flinkctl.output.savepoints import CHECK
    from flinkctl.workflows.savepoints import freshness, known, logged

    if max_age is None:
        raise UsageError("missing --max-age DURATION, e.g. --max-age 2h")
    with catalog_at(inv, catalog) as local:
        age = max_age
        results = each_context(
            inv,
            all_contexts,
            lambda client: freshness(known(client, local, name), age),
            keep_failure=True,
        )
    rows = items(results, all_contexts)
    what = f"no job named {name!r} runs" if name else "no job runs"
    notes = results.notes(what)
    inv.emit(logged(rows + notes + results.failed_lines()), per_context(CHECK, all_contexts))
    # nothing at all to check on every context that answered
    results.nothing_found(bool(results.values and not rows), what, notes, all_contexts)
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
