"""Options shared by every command: `-o/--output` and `--query`, added by one decorator."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, Optional

import typer

from flinkctl.errors import UsageError

OUTPUT_HELP = "Output format: table, wide, json, yaml, name."
QUERY_HELP = "JMESPath expression applied to json/yaml output, e.g. 'jobs[].jid'."


def set_output(output: str | None, query: str | None = None) -> None:
    """Validate and store the output options (command level wins over root level)."""
    from flinkctl.output.render import FORMATS, settings

    fmt = output or settings.format
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r} (choose from {', '.join(FORMATS)})")
    settings.format = fmt
    if query is not None:
        from flinkctl.output.query import compile_query

        compile_query(query)
        settings.query = query
        if settings.format not in ("json", "yaml"):
            settings.format = "json"


def with_output(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add `-o/--output` and `--query` to a command and apply them before it runs."""
    sig = inspect.signature(fn, eval_str=True)
    extra = [
        inspect.Parameter(
            "output",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                Optional[str],  # noqa: UP045 (typer needs Optional here)
                typer.Option("--output", "-o", help=OUTPUT_HELP, rich_help_panel="Output"),
            ],
        ),
        inspect.Parameter(
            "query",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                Optional[str],  # noqa: UP045
                typer.Option("--query", help=QUERY_HELP, rich_help_panel="Output"),
            ],
        ),
    ]

    @functools.wraps(fn)
    def wrapper(*args: Any, output: str | None = None, query: str | None = None, **kw: Any):
        set_output(output, query)
        return fn(*args, **kw)

    params = [p for p in sig.parameters.values()]
    wrapper.__signature__ = sig.replace(parameters=params + extra)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**fn.__annotations__, **{p.name: p.annotation for p in extra}}
    return wrapper
