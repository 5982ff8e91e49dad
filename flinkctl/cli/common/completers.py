"""Dynamic shell-completion values: `autocompletion=` callbacks for Typer arguments and options.

Each callback gets the click context being completed and the incomplete word, and returns
`(value, help)` pairs. Contexts come from the config file only; everything else comes from the
current context's cluster with a 1 s timeout and no retries. Any failure yields no candidates:
completion must never print an error or hang the shell. Heavy imports stay inside functions.
(`flinkctl.cli.completion` is the `completion` command and the protocol the shells speak.)
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from flinkctl.client import FlinkClient

TIMEOUT = 1.0


def _client(ctx: typer.Context) -> "FlinkClient":
    """A FlinkClient for the cluster the command line points at: 1 s timeouts, no retries."""
    from flinkctl.cli.invocation import Invocation
    from flinkctl.client import FlinkClient

    target = Invocation.typed(ctx).resolve_context()
    target.timeout = min(target.timeout, TIMEOUT)
    target.connect_timeout = min(target.connect_timeout, TIMEOUT)
    target.retry_budget = 0  # a TAB must not hang
    return FlinkClient(target)


def _fetch(ctx: typer.Context, endpoint: Callable[["FlinkClient"], Any]) -> Any:
    """ENDPOINT(client)'s body, or None on any failure."""
    try:
        with _client(ctx) as client:
            return endpoint(client)
    except Exception:
        return None


def _candidates(
    body: Any, items: str, key: str, note: Callable[[dict], str], incomplete: str
) -> list[tuple[str, str]]:
    """(item[KEY], NOTE(item)) for BODY[ITEMS]'s items whose KEY starts with INCOMPLETE."""
    found = body.get(items) if isinstance(body, dict) else None
    found = [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []
    return [(str(i.get(key)), note(i)) for i in found if str(i.get(key)).startswith(incomplete)]


def _listed(
    endpoint: Callable[["FlinkClient"], Any], items: str, key: str, note: Callable[[dict], str]
) -> Callable:
    """A callback offering the KEY of every item under ITEMS in ENDPOINT's body, NOTE(item) as
    help."""

    def callback(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
        return _candidates(_fetch(ctx, endpoint), items, key, note, incomplete)

    return callback


def contexts(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Context names from the config file, with their URLs as help."""
    try:
        from flinkctl.cli.invocation import Invocation
        from flinkctl.config import load

        cfg = load(Invocation.typed(ctx).config)
    except Exception:
        return []
    return [(n, c.url) for n, c in sorted(cfg.contexts.items()) if n.startswith(incomplete)]


# job ids with name and state, jar ids with the file name, task manager ids with free slots
jobs = _listed(
    lambda c: c.jobs_overview(), "jobs", "jid", lambda j: f"{j.get('name')} ({j.get('state')})"
)
jars = _listed(lambda c: c.jars(), "files", "id", lambda j: str(j.get("name")))
taskmanagers = _listed(
    lambda c: c.taskmanagers(),
    "taskmanagers",
    "id",
    lambda t: f"{t.get('freeSlots')}/{t.get('slotsNumber')} slots free",
)


def vertices(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Vertex names of the command's `job` argument given earlier, with ids as help.

    The job is resolved as on the command line: a full id, a unique id prefix or a job name.
    """
    if not ctx.params.get("job"):
        return []
    try:
        from flinkctl.client.resolve import job

        with _client(ctx) as client:
            details = client.job(job(client, ctx.params["job"]))
    except Exception:
        return []
    return _candidates(details, "vertices", "name", lambda v: str(v.get("id")), incomplete)
