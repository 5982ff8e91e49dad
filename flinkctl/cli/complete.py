"""Dynamic shell-completion values: `autocompletion=` callbacks for Typer arguments and options.

Each callback gets the click context being completed and the incomplete word, and returns
`(value, help)` pairs. Contexts come from the config file only; everything else comes from the
current context's cluster with a 1 s timeout and no retries. Any failure yields no candidates:
completion must never print an error or hang the shell. Heavy imports stay inside functions.
"""

from typing import Any

import typer

TIMEOUT = 1.0


def _root(ctx: typer.Context) -> tuple[Any, str | None, str | None]:
    """--config (as a Path), --context and --url given earlier on the command line (or by env)."""
    params = ctx.find_root().params
    config = params.get("config")
    if config:
        from pathlib import Path

        config = Path(config).expanduser()
    return config or None, params.get("context"), params.get("url")


def _client(ctx: typer.Context):
    """A FlinkClient for the cluster the command line points at: 1 s timeouts, no retries."""
    from flinkctl.client import FlinkClient
    from flinkctl.config import resolve

    target = resolve(*_root(ctx))
    target.timeout = min(target.timeout, TIMEOUT)
    target.connect_timeout = min(target.connect_timeout, TIMEOUT)
    return FlinkClient(target, retries=0)


def _get(ctx: typer.Context, path: str) -> Any:
    """GET PATH, or None on any failure."""
    try:
        with _client(ctx) as client:
            return client.get(path)
    except Exception:  # noqa: BLE001 - completion stays silent
        return None


def _items(body: Any, key: str) -> list[dict]:
    items = body.get(key) if isinstance(body, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def contexts(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Context names from the config file, with their URLs as help."""
    try:
        from flinkctl.config import load

        cfg = load(_root(ctx)[0])
    except Exception:  # noqa: BLE001
        return []
    return [(n, c.url) for n, c in sorted(cfg.contexts.items()) if n.startswith(incomplete)]


def jobs(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Job ids (GET /jobs/overview), with name and state as help."""
    found = _items(_get(ctx, "/jobs/overview"), "jobs")
    return [
        (str(j.get("jid")), f"{j.get('name')} ({j.get('state')})")
        for j in found
        if str(j.get("jid")).startswith(incomplete)
    ]


def jars(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Uploaded jar ids (GET /jars), with the file name as help."""
    found = _items(_get(ctx, "/jars"), "files")
    return [(str(j.get("id")), str(j.get("name"))) for j in found if str(j.get("id")).startswith(incomplete)]


def taskmanagers(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Task manager ids (GET /taskmanagers), with free/total slots as help."""
    found = _items(_get(ctx, "/taskmanagers"), "taskmanagers")
    return [
        (str(t.get("id")), f"{t.get('freeSlots')}/{t.get('slotsNumber')} slots free")
        for t in found
        if str(t.get("id")).startswith(incomplete)
    ]


def vertices(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Vertex names of the command's `job` argument given earlier, with ids as help.

    The job is resolved as on the command line: a full id, a unique id prefix or a job name.
    """
    if not ctx.params.get("job"):
        return []
    try:
        from flinkctl.client.resolve import job

        with _client(ctx) as client:
            details = client.get(f"/jobs/{job(client, ctx.params['job'])}")
    except Exception:  # noqa: BLE001
        return []
    found = _items(details, "vertices")
    return [(str(v.get("name")), str(v.get("id"))) for v in found if str(v.get("name")).startswith(incomplete)]
