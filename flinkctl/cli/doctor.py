"""`flinkctl doctor`: a top-level command over flinkctl.workflows.doctor (rules, thresholds)."""

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flinkctl.cli.common import watching
from flinkctl.cli.common.arguments import JobOptionalArgument
from flinkctl.cli.common.fleet import Selection, each_context, items, with_selection
from flinkctl.cli.common.options import duration_option, with_output
from flinkctl.cli.invocation import Invocation
from flinkctl.errors import FindingsError

if TYPE_CHECKING:
    from flinkctl.cli.common.fleet import Results
    from flinkctl.client import FlinkClient

app = typer.Typer(no_args_is_help=True)


class Severity(str, Enum):
    """The least severe finding that fails the run (exit 7)."""

    warning = "warning"
    critical = "critical"


SampleOption = Annotated[
    float,
    duration_option(
        "--sample",
        help="Read the rate and time metrics over this window (every 10 s, Flink's metric "
        "refresh, or at both ends of a shorter window) and judge from the series; 0: one "
        "reading.",
    ),
]
FailOnOption = Annotated[
    Severity,
    typer.Option("--fail-on", help="Exit 7 when a finding is this severe or more."),
]


@app.command("doctor", cls=watching.Command)
@with_output
@with_selection
def doctor(
    inv: Invocation,
    job: JobOptionalArgument = None,
    *,
    selection: Selection,
    sample: SampleOption = 30.0,
    fail_on: FailOnOption = Severity.critical,
    interval: watching.WatchOption = None,
) -> None:
    """Diagnose a job (or --all): what is wrong, ranked, with the numbers behind each finding.

    Reads the job's graph, per-subtask busy and backpressured time and record rates (sampled
    over --sample), watermarks, checkpoints with their per-subtask details, the exception
    history and its TaskManagers' GC and heap, then applies the rules of Flink's documentation
    and the Kubernetes operator's autoscaler: the root of backpressure, skew between subtasks,
    checkpoints not completing or slow by phase, restarts with their causes, stalled or lagging
    watermarks, the bottleneck's headroom, TaskManager pressure, and what could not be judged
    (README, "Diagnosing", lists every rule and threshold).

    Prints the findings most severe first (critical, warning, info) and, on a terminal, a
    per-vertex summary. -o json: the report object (a list of them with --all); -o jsonl: one
    finding per line, for alerting. Exit 7 when a finding is at or above --fail-on (default
    critical), so `doctor --all -A` is a health check for cron or CI; 3 when --all matches no
    job on any context that answered.

    Example:

      flinkctl doctor flinkctl-demo --sample 30s --fail-on warning
      flinkctl doctor --all -A --sample 0 -o jsonl >> findings.jsonl
    """
    selection.check(bool(job), jobs="a JOB", wanted="the JOB to diagnose", across="diagnoses jobs")
    last: list[Results] = []

    def fetch() -> Any:
        results = each_context(
            inv,
            selection.all_contexts,
            lambda client: _diagnosed(client, job, selection.glob, sample),
            keep_failure=selection.all_jobs,
        )
        last[:] = [results]
        return _data(results, selection)

    from flinkctl.output.doctor import DOCTOR
    from flinkctl.output.formats import OutputFormat

    if interval is None:
        data = fetch()
        _emit(inv, data)
        _exit(last[0], data, selection, fail_on.value)
    elif inv.output.format is OutputFormat.JSONL:  # one finding per line, as without --watch
        watching.repeat(inv.io, interval, fetch, lambda data, _: _emit(inv, data))
    else:
        watching.watch(inv, interval, fetch, DOCTOR)


def _diagnosed(
    client: "FlinkClient", job: str | None, glob: str | None, sample: float
) -> list[dict[str, Any]]:
    """The report object of JOB, or those of every job that has not ended (matching GLOB),
    with a note for each that left the cluster after it was listed."""
    from flinkctl.client.resolve import job as resolve
    from flinkctl.workflows.doctor import active_jobs, doctor, listed

    if job:
        return [doctor(client, resolve(client, job), sample).to_json()]
    return client.fan_out(lambda j: listed(client, *j, sample), active_jobs(client, glob))


def _data(results: "Results", selection: Selection) -> Any:
    """The report (one JOB) or the list of reports, contexts that failed and found nothing."""
    from flinkctl.workflows.savepoints import logged

    reports = items(results, selection.all_contexts)
    if not selection.all_jobs:  # one JOB on this context: its report (a failure ended the run)
        return logged(reports)[0]
    return logged(reports + results.notes(selection.nothing) + results.failed_lines())


def _emit(inv: Invocation, data: Any) -> None:
    from flinkctl.output.doctor import DOCTOR
    from flinkctl.output.formats import OutputFormat
    from flinkctl.workflows.doctor import finding_lines

    if inv.output.format is OutputFormat.JSONL:
        inv.emit(finding_lines(data if isinstance(data, list) else [data]), DOCTOR)
    else:
        inv.emit(data, DOCTOR)


def _exit(results: "Results", data: Any, selection: Selection, fail_on: str) -> None:
    from flinkctl.workflows.doctor import SEVERITIES

    every = data if isinstance(data, list) else [data]
    reports = [r for r in every if "findings" in r]
    notes = [r for r in every if "note" in r and "job" not in r]  # contexts where nothing runs
    for gone in (r for r in every if "note" in r and "job" in r):
        where = f"context {gone['context']}: " if "context" in gone else ""
        results.inv.note(f"{where}job {gone['name']} ({gone['job']}): {gone['note']}")
    nothing = bool(selection.all_jobs and results.values and not reports)
    results.nothing_found(nothing, selection.nothing, notes, selection.all_contexts)
    limit = SEVERITIES.index(fail_on)
    found = [
        (r, f) for r in reports for f in r["findings"] if SEVERITIES.index(f["severity"]) <= limit
    ]
    if found:
        jobs = dict.fromkeys(
            f"{r['context'] + '/' if 'context' in r else ''}{r['name']}" for r, _ in found
        )
        rules = dict.fromkeys(f["rule"] for _, f in found)
        results.fail(
            FindingsError(
                f"{len(found)} finding(s) at or above {fail_on} in {', '.join(jobs)}: "
                + ", ".join(rules)
            )
        )
    results.exit()
