"""`flinkctl jobs`: list and inspect jobs (read commands live here; lifecycle in job_lifecycle)."""

from typing import Annotated, Optional

import typer

from flinkctl.cli.args import JobArgument, job_id
from flinkctl.cli.options import with_output
from flinkctl.cli.state import state

app = typer.Typer(help="Jobs: list, inspect, cancel, stop, rescale.", no_args_is_help=True)


@app.command("list")
@with_output
def list_(
    state_filter: Annotated[
        Optional[list[str]], typer.Option("--state", "-s", help="Only jobs in this state (repeatable).")
    ] = None,
) -> None:
    """List jobs with state, start time, duration and task counts (GET /jobs/overview).

    Example:

      flinkctl jobs list --state RUNNING -o name
    """
    from flinkctl.output import render
    from flinkctl.output.jobs import JOBS

    data = state.client().jobs_overview()
    if state_filter:
        wanted = {s.upper() for s in state_filter}
        data = {**data, "jobs": [j for j in data.get("jobs", []) if j.get("state") in wanted]}
    render(data, JOBS)


@app.command()
@with_output
def show(job: JobArgument) -> None:
    """Show a job: header and its vertices (GET /jobs/:jobid).

    Example:

      flinkctl jobs show flinkctl-demo
    """
    from flinkctl.output import render
    from flinkctl.output.jobs import JOB

    render(state.client().job(job_id(job)), JOB)
