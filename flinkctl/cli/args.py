"""Argument types shared by commands: one home for JOB, VERTEX, TM, JAR, CONTEXT and their resolution."""

from typing import Annotated

import typer

from flinkctl.cli import complete
from flinkctl.cli.state import state
from flinkctl.flink import JobDetails

JobArgument = Annotated[
    str,
    typer.Argument(
        help="Job id, unique id prefix (4+ chars) or exact job name.",
        metavar="JOB",
        show_default=False,
        autocompletion=complete.jobs,
    ),
]
VertexArgument = Annotated[
    str,
    typer.Argument(
        help="Vertex id, unique id prefix or exact vertex name.",
        metavar="VERTEX",
        show_default=False,
        autocompletion=complete.vertices,
    ),
]


def job_id(value: str) -> str:
    """Resolve a JOB argument to a job id (one GET /jobs/overview unless it is a full id)."""
    from flinkctl.client.resolve import job

    return job(state.client(), value)


def job_and_vertex(job_value: str, vertex_value: str) -> tuple[str, str, JobDetails]:
    """Resolve JOB and VERTEX; returns (job id, vertex id, the job's details)."""
    from flinkctl.client.resolve import vertex

    jid = job_id(job_value)
    details = state.client().job(jid)
    return jid, vertex(details, vertex_value), details
