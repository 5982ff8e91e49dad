"""The metrics pattern shared by every metrics command: list names, or show (aggregated) values."""

from typing import Annotated, Any

import typer

from flinkctl.cli.invocation import Invocation, emit
from flinkctl.errors import UsageError

AGGREGATIONS = ("min", "max", "avg", "sum", "skew")

GetOption = Annotated[
    str | None,
    typer.Option("--get", help="Comma-separated metric ids; globs like 'numRecords*' expand."),
]
AggOption = Annotated[
    str | None,
    typer.Option("--agg", help=f"Comma-separated aggregations: {', '.join(AGGREGATIONS)}."),
]


def split(value: str | None) -> list[str]:
    """'a, b' -> ['a', 'b']."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def show(path: str, get: str | None, agg: str | None = None, **filters: Any) -> None:
    """List metric ids at PATH, or show values for --get (expanding globs client-side)."""
    from fnmatch import fnmatchcase

    from flinkctl.output.cluster import METRIC_NAMES, metric_values

    aggs = split(agg)
    bad = [a for a in aggs if a not in AGGREGATIONS]
    if bad:
        raise UsageError(f"unknown aggregation {bad[0]!r} (choose from {', '.join(AGGREGATIONS)})")
    client = Invocation.current().client()
    wanted = split(get)
    params = {k: v for k, v in filters.items() if v}
    if aggs:
        params["agg"] = aggs
    if not wanted:
        emit(client.metrics(path, **params), METRIC_NAMES)
        return
    if any(ch in w for w in wanted for ch in "*?["):
        names = [m["id"] for m in client.metrics(path, **params)]
        expanded = [n for n in names if any(fnmatchcase(n, w) for w in wanted)]
        if not expanded:
            raise UsageError(f"no metric matches {', '.join(wanted)}")
        wanted = expanded
    emit(client.metrics(path, get=wanted, **params), metric_values(bool(aggs)))
