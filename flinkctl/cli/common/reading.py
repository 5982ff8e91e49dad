"""Read commands: one GET, printed with one view (most `list`, `show` and `config` commands)."""

from collections.abc import Callable
from importlib import import_module
from typing import Any, Literal

from flinkctl.cli.common.arguments import ApplicationArgument, JobArgument, application_id, job_id
from flinkctl.cli.common.options import options_from, with_output
from flinkctl.cli.invocation import Invocation


def _cluster() -> tuple[str, ...]:
    return ()


def _job(inv: Invocation, job: JobArgument) -> tuple[str, ...]:
    return (job_id(inv, job),)


def _application(inv: Invocation, application: ApplicationArgument) -> tuple[str, ...]:
    return (application_id(inv, application),)


SUBJECTS: dict[str, Callable[..., tuple[str, ...]]] = {
    "cluster": _cluster,
    "job": _job,
    "application": _application,
}


def read_command(
    fetch: Callable[..., Any], view: str, of: Literal["cluster", "job", "application"] = "cluster"
) -> Callable[..., None]:
    """A command printing FETCH(client, *ids) with VIEW ("module.NAME" in flinkctl.output,
    imported when it runs). OF: the cluster's (no argument), or a JOB's or an APPLICATION's
    (the argument, resolved to its id). Register it with its help, as a status command:
    `app.command("config", help=...)(read_command(lambda c, jid: c.job_config(jid), ...))`."""
    module, name = view.rsplit(".", 1)

    def read(inv: Invocation, ids: tuple[str, ...]) -> None:
        inv.emit(
            fetch(inv.client(), *ids), getattr(import_module(f"flinkctl.output.{module}"), name)
        )

    return with_output(options_from(SUBJECTS[of], into="ids")(read))
