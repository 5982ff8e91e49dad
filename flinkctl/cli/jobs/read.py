"""`flinkctl jobs list | show | status | plan | config | ...`: list and inspect jobs."""

from enum import Enum
from typing import TYPE_CHECKING, Annotated, cast

import typer

from flinkctl.cli.common import logs as logs_
from flinkctl.cli.common import metrics as metrics_
from flinkctl.cli.common import watching
from flinkctl.cli.common.arguments import JobArgument, job_id, taskmanager_id
from flinkctl.cli.common.fleet import AllContextsOption, each_context, tagged
from flinkctl.cli.common.options import options_from, with_output
from flinkctl.cli.common.reading import read_command
from flinkctl.cli.common.waiting import Wait, waiting, with_wait
from flinkctl.cli.invocation import Invocation
from flinkctl.errors import NotFoundError, UsageError
from flinkctl.flink import (
    ENDED_STATES,
    JOB_STATES,
    JobDetails,
    JobOverview,
    JobsOverview,
    is_hex_id,
    number,
    obj,
    objects,
)
from flinkctl.output.formats import OutputFormat

if TYPE_CHECKING:
    from flinkctl.client import FlinkClient
    from flinkctl.output.render import View

app = typer.Typer()


class Sort(str, Enum):
    """`jobs list --sort`: newest first, longest first, or by name."""

    start = "start"
    duration = "duration"
    name = "name"


SORT_KEYS = {
    Sort.start: (lambda j: number(j.get("start-time")) or 0, True),
    Sort.duration: (lambda j: number(j.get("duration")) or 0, True),
    Sort.name: (lambda j: str(j.get("name")), False),
}


def _select(
    data: JobsOverview, states: list[str], name: str | None, sort: Sort | None
) -> JobsOverview:
    """The overview body with only the jobs wanted, in the order wanted (same shape)."""
    from fnmatch import fnmatchcase

    jobs = cast("list[JobOverview]", objects(data.get("jobs")))
    if states:
        jobs = [j for j in jobs if j.get("state") in states]
    if name:
        jobs = [j for j in jobs if fnmatchcase(str(j.get("name")), name)]
    if sort:
        key, newest_first = SORT_KEYS[sort]
        jobs = sorted(jobs, key=key, reverse=newest_first)
    return {**data, "jobs": jobs}


WIDE_RESTARTS_CAP = 500  # `jobs list -o wide` asks at most this many jobs for their restarts


def _restarts_asked(inv: Invocation, jobs: list[JobOverview]) -> list[str]:
    """The ids of the jobs whose exception history `-o wide` asks for (their restarts): at most
    WIDE_RESTARTS_CAP, jobs that have not ended first; the others show `-`, with a note."""
    first = sorted(jobs, key=lambda j: j.get("state") in ENDED_STATES)  # stable: list order within
    ids = [j["jid"] for j in first if isinstance(j.get("jid"), str)]
    if len(ids) > WIDE_RESTARTS_CAP:
        inv.note(
            f"restarts of {len(ids) - WIDE_RESTARTS_CAP} of {len(ids)} jobs not asked (at most "
            f"{WIDE_RESTARTS_CAP}, those that have not ended first): narrow with --state or --name"
        )
    return ids[:WIDE_RESTARTS_CAP]


@app.command("list", cls=watching.Command)
@with_output
def list_(
    inv: Invocation,
    state_filter: Annotated[
        list[str] | None,
        typer.Option(
            "--state", "-s", help=f"Only jobs in this state (repeatable): {', '.join(JOB_STATES)}."
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Only jobs whose name matches this glob, e.g. 'etl-*'."),
    ] = None,
    sort: Annotated[
        Sort | None,
        typer.Option(
            "--sort",
            help="Order: start (newest first; the default with --watch), duration (longest "
            "first) or name.",
        ),
    ] = None,
    interval: watching.WatchOption = None,
    all_contexts: AllContextsOption = False,
) -> None:
    """List jobs with state, start time, duration and task counts (GET /jobs/overview).

    -o wide adds each job's restarts (failures in its exception history, one request per job,
    sent concurrently; at most 500 jobs, those that have not ended first). -o name prints job
    ids; -o json prints Flink's body with only the selected jobs, in order. -A: the jobs of every context, each with its `context`.

    Example:

      flinkctl jobs list --state RUNNING --sort start -o name
    """
    from flinkctl.output.jobs import JOBS, restarts

    states = [s.upper() for s in state_filter or []]
    unknown = [s for s in states if s not in JOB_STATES]
    if unknown:
        raise UsageError(f"unknown job state {unknown[0]!r} (choose from {', '.join(JOB_STATES)})")
    if interval is not None and sort is None:
        sort = Sort.start  # Flink's order changes between requests
    wide = inv.output.format is OutputFormat.WIDE

    def fetch(client: "FlinkClient") -> dict:
        data = _select(client.jobs_overview(), states, name, sort)
        if not wide:
            return dict(data)
        jobs = data.get("jobs") or []
        found = client.jobs_exceptions(_restarts_asked(inv, jobs))
        rows = [{**j, "restarts": restarts(found.get(str(j.get("jid"))))} for j in jobs]
        return {**data, "jobs": rows}

    if not all_contexts:
        watching.watch(inv, interval, lambda: fetch(inv.client()), JOBS)
        return
    if interval is not None:
        raise UsageError("--watch shows one context; leave out --all-contexts")
    from flinkctl.output.fleet import per_context

    results = each_context(inv, True, fetch)
    jobs = [tagged(True, ctx, j) for ctx, data in results.values for j in data.get("jobs") or []]
    inv.emit({"jobs": jobs}, per_context(JOBS))
    results.exit()


@app.command(cls=watching.Command)
@with_output
def show(inv: Invocation, job: JobArgument, interval: watching.WatchOption = None) -> None:
    """Show a job's header and its vertices with I/O, busy and backpressure (GET /jobs/:jobid).

    The header adds the restarts since the start and the last exception on one line (GET
    /jobs/:jobid/exceptions). The busy and backpressured ratios (max over subtasks) come from
    one request per vertex (GET /jobs/:jobid/vertices/:vertexid/subtasks/metrics), sent
    concurrently. -o json/yaml print GET /jobs/:jobid unchanged.

    Example:

      flinkctl jobs show flinkctl-demo --watch
    """
    from flinkctl.output.jobs import job_view

    client = inv.client()
    jid = job_id(inv, job)

    def view(details: JobDetails) -> "tuple[JobDetails, View]":
        if not inv.output.format.is_human:
            return details, job_view()
        failures = client.jobs_exceptions([jid])[jid]  # None (shown as "-") if unreadable
        return details, job_view(client.vertex_loads(jid, details), failures)

    watching.watch(inv, interval, lambda: client.job(jid), view)


app.command(
    "status",
    help="""Print a job's state, e.g. RUNNING (GET /jobs/:jobid/status).

    Example:

      flinkctl jobs status flinkctl-demo
    """,
)(read_command(lambda c, jid: c.job_status(jid), "jobs.STATUS", of="job"))


@app.command()
@with_output(extra=(OutputFormat.DOT,))
def plan(inv: Invocation, job: JobArgument) -> None:
    """Show a job's dataflow plan: a tree of operators and ship strategies (GET /jobs/:jobid/plan).

    -o dot prints a Graphviz digraph of the plan.

    Example:

      flinkctl jobs plan flinkctl-demo -o dot | dot -Tpng > plan.png
    """
    from flinkctl.output.plan import render_plan

    render_plan(inv.client().job_plan(job_id(inv, job)), inv.output, inv.io)


app.command(
    "config",
    help="""Show a job's execution configuration and user configuration (GET /jobs/:jobid/config).

    Example:

      flinkctl jobs config flinkctl-demo -o yaml
    """,
)(read_command(lambda c, jid: c.job_config(jid), "jobs.JOB_CONFIG", of="job"))


app.command(
    "jobmanager-config",
    help="""Show the JobManager configuration a job runs with (GET /jobs/:jobid/jobmanager/config).

    Example:

      flinkctl jobs jobmanager-config flinkctl-demo | grep checkpoint
    """,
)(read_command(lambda c, jid: c.job_jobmanager_config(jid), "cluster.CONFIG_ENTRIES", of="job"))


@app.command()
@with_output
def exceptions(
    inv: Invocation,
    job: JobArgument,
    max_exceptions: Annotated[
        int | None,
        typer.Option("--max", min=1, help="At most this many exceptions (newest first)."),
    ] = None,
) -> None:
    """Show a job's exception history, newest first (GET /jobs/:jobid/exceptions).

    One line per exception: time, task, location and the exception's first line.

    -o wide prints each full stack trace, with concurrent exceptions.

    Example:

      flinkctl jobs exceptions flinkctl-demo --max 5 -o wide
    """
    from flinkctl.output.jobs import EXCEPTIONS

    inv.emit(inv.client().job_exceptions(job_id(inv, job), max_exceptions), EXCEPTIONS)


@app.command()
@with_output
@with_wait
def result(inv: Invocation, job: JobArgument, wait: Wait) -> None:
    """Show a job's execution result (GET /jobs/:jobid/execution-result); exit 1 if the job failed.

    Without --wait a running job shows status IN_PROGRESS. With --wait, poll until the job
    is FINISHED, CANCELED or FAILED (exit 8 after --timeout).

    Example:

      flinkctl jobs result my-batch-job --wait --timeout 3600 -o json
    """
    from flinkctl.errors import OperationFailed
    from flinkctl.flink import trace_summary
    from flinkctl.output.jobs import EXECUTION_RESULT

    client = inv.client()
    jid = job_id(inv, job)
    if wait.wanted:
        body = waiting(
            inv,
            f"job {jid}",
            lambda poller: poller.until(
                lambda: client.job_execution_result(jid), _completed, what=f"job {jid}"
            ),
            timeout=wait.timeout,
            resume=inv.command_line("jobs", "result", jid, "--wait"),
        )
    else:
        body = client.job_execution_result(jid)
    inv.emit(body, EXECUTION_RESULT)
    outcome = obj(body.get("job-execution-result"))
    if outcome.get("application-status") == "FAILED":
        cause = obj(outcome.get("failure-cause"))
        failure = trace_summary(str(cause.get("stack-trace") or cause.get("class") or "")) or "-"
        raise OperationFailed(
            f"job {jid} failed: {failure}", flink=[str(cause.get("stack-trace") or "")]
        )


def _completed(body: dict) -> bool:
    return obj(body.get("status")).get("id") == "COMPLETED"


@app.command()
@with_output
def accumulators(
    inv: Invocation,
    job: JobArgument,
    include_serialized: Annotated[
        bool,
        typer.Option(
            "--include-serialized",
            help="Also fetch serialized (base64) values; -o wide shows them.",
        ),
    ] = False,
) -> None:
    """Show a job's accumulators, aggregated over subtasks (GET /jobs/:jobid/accumulators).

    Example:

      flinkctl jobs accumulators my-batch-job --include-serialized -o wide
    """
    from flinkctl.output.jobs import JOB_ACCUMULATORS

    accumulators = inv.client().job_accumulators(job_id(inv, job), include_serialized)
    inv.emit(accumulators, JOB_ACCUMULATORS)


@app.command()
@with_output
def metrics(
    inv: Invocation,
    job: Annotated[
        str | None,
        typer.Argument(help="Job id, prefix or name; aggregated over jobs when omitted."),
    ] = None,
    get: metrics_.GetOption = None,
    agg: metrics_.AggOption = None,
    jobs: Annotated[
        str | None,
        typer.Option(
            "--jobs",
            help="Without JOB: aggregate over these jobs only (comma-separated ids or names).",
        ),
    ] = None,
) -> None:
    """List or show job metrics, of one job or aggregated over jobs.

    Uses GET /jobs/:jobid/metrics, or GET /jobs/metrics without JOB. Without --get, lists the
    metric ids.

    Example:

      flinkctl jobs metrics flinkctl-demo --get 'uptime,numRestarts'
    """
    from functools import partial

    client = inv.client()
    if job is None:
        ids = [job_id(inv, j) for j in metrics_.split(jobs)]
        metrics_.show(inv, partial(client.jobs_metrics, jobs=ids), get, agg, aggregated=True)
        return
    if jobs or agg:
        raise UsageError("--jobs and --agg apply only without JOB (aggregated over jobs)")
    metrics_.show(inv, partial(client.job_metrics, job_id(inv, job)), get)


def _rescale_view(
    history: Annotated[
        bool, typer.Option("--history", help="Every rescale kept in the history.")
    ] = False,
    summary: Annotated[
        bool, typer.Option("--summary", help="Counts and duration statistics.")
    ] = False,
    config: Annotated[
        bool, typer.Option("--config", help="The adaptive scheduler's rescale settings.")
    ] = False,
    details: Annotated[
        str | None,
        typer.Option(
            "--details", metavar="UUID", help="One rescale: vertices, slots, scheduler states."
        ),
    ] = None,
) -> tuple[str, str | None]:
    """(the view, the rescale's UUID with --details) of `jobs rescales`'s options."""
    chosen = [w for w, on in (("history", history), ("summary", summary), ("config", config)) if on]
    if len(chosen) + (details is not None) > 1:
        raise UsageError("choose one of --history, --summary, --config, --details")
    if details is not None and not is_hex_id(details):
        raise UsageError(
            f"--details takes a rescale's full id (32 hex characters), not {details!r}",
            hint="the ids: flinkctl jobs rescales JOB --history",
        )
    return ("details" if details is not None else chosen[0] if chosen else "overview"), details


@app.command()
@with_output
@options_from(_rescale_view, into="view")
def rescales(inv: Invocation, job: JobArgument, view: tuple[str, str | None]) -> None:
    """Show a job's rescales under the adaptive scheduler (Flink 2.3+): the overview by default.

    Uses GET /jobs/:jobid/rescales/overview, or .../history, .../summary, .../config or
    .../details/:uuid. Needs jobmanager.scheduler: adaptive and a
    web.adaptive-scheduler.rescale-history.size above 0.

    Example:

      flinkctl jobs rescales flinkctl-demo --history -o wide
    """
    from flinkctl.output.rescale import RESCALE_VIEWS

    what, uuid = view
    client = inv.client()
    jid = job_id(inv, job)
    body = client.job_rescale(jid, uuid) if uuid is not None else client.job_rescales(jid, what)
    inv.emit(body, RESCALE_VIEWS[what])


@app.command()
@with_output
def logs(
    inv: Invocation,
    job: JobArgument,
    vertex: Annotated[
        str | None,
        typer.Option(
            "--vertex", help="Only the task managers running this vertex (id, prefix or name)."
        ),
    ] = None,
    tail: logs_.TailOption = None,
    follow: logs_.FollowOption = False,
) -> None:
    """Print the main logs of the task managers running a job (GET /taskmanagers/:id/log).

    The task managers are those of the job's subtasks (GET
    /jobs/:jobid/vertices/:vertexid/taskmanagers, for each vertex or just --vertex) that are
    registered (GET /taskmanagers). With several, every line starts with `[TM-ID] `;
    --follow follows them all at once.

    Example:

      flinkctl jobs logs flinkctl-demo --vertex Source --tail 20 -f
    """
    from functools import partial

    from flinkctl.client.resolve import vertex as vertex_id

    jid = job_id(inv, job)
    client = inv.client()
    details = client.job(jid)
    vertices = (
        [vertex_id(details, vertex)]
        if vertex
        else [v.get("id") for v in objects(details.get("vertices"))]
    )
    found = client.fan_out(partial(client.vertex_taskmanagers, jid), vertices)
    # a subtask not deployed has no task manager ("(unassigned)"); one gone since is no more
    known = {tm.get("id") for tm in objects(client.taskmanagers().get("taskmanagers"))}
    tms = dict.fromkeys(
        str(tm["taskmanager-id"])
        for body in found
        for tm in objects(body.get("taskmanagers"))
        if tm.get("taskmanager-id") in known
    )
    if not tms:
        raise NotFoundError(f"no task manager runs job {jid} ({details.get('state')})")
    logs_.stream(inv, [(tm, partial(client.taskmanager_log, tm)) for tm in tms], tail, follow)


@app.command("log-url")
@with_output
def log_url(
    inv: Invocation,
    job: JobArgument,
    taskmanager: Annotated[
        str | None,
        typer.Option(
            "--taskmanager", "--tm", help="A task manager's log URL (id or unique prefix)."
        ),
    ] = None,
) -> None:
    """Print the URL of the JobManager's (or a task manager's) logs for a job.

    Uses GET /jobs/:jobid/jobmanager/log-url, or GET /jobs/:jobid/taskmanagers/:tmid/log-url.
    Set historyserver.log.jobmanager.url-pattern / .taskmanager.url-pattern to point these at
    an external log service.

    Example:

      flinkctl jobs log-url flinkctl-demo --taskmanager localhost
    """
    from flinkctl.output.jobs import LOG_URL

    jid = job_id(inv, job)
    tm_id = taskmanager_id(inv, taskmanager) if taskmanager else None
    inv.emit(inv.client().job_log_url(jid, tm_id), LOG_URL)
