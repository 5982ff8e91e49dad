"""The metrics pattern shared by every metrics command: list names, or show (aggregated) values."""

from collections.abc import Callable
from typing import Annotated

import typer

from flinkctl.cli.invocation import Invocation
from flinkctl.errors import UsageError
from flinkctl.flink import DEFAULT_AGGREGATIONS, METRIC_AGGREGATIONS, Metric, objects

GetOption = Annotated[
    str | None,
    typer.Option("--get", help="Comma-separated metric ids; globs like 'numRecords*' expand."),
]
AggOption = Annotated[
    str | None,
    typer.Option("--agg", help=f"Comma-separated aggregations: {', '.join(METRIC_AGGREGATIONS)}."),
]


def split(value: str | None) -> list[str]:
    """'a, b' -> ['a', 'b']."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def show(
    inv: Invocation,
    fetch: Callable[..., list[Metric]],
    get: str | None,
    agg: str | None = None,
    *,
    aggregated: bool = False,
) -> None:
    """List the metric ids FETCH (a client metrics method) gives, or show values for --get
    (expanding globs client-side). An AGGREGATED endpoint shows the default aggregations
    of --get's metrics unless --agg names others."""
    from fnmatch import fnmatchcase

    from flinkctl.output.cluster import METRIC_NAMES, metric_values

    if aggregated and not agg and get:
        agg = ",".join(DEFAULT_AGGREGATIONS)
    aggs = split(agg)
    bad = [a for a in aggs if a not in METRIC_AGGREGATIONS]
    if bad:
        choices = ", ".join(METRIC_AGGREGATIONS)
        raise UsageError(f"unknown aggregation {bad[0]!r} (choose from {choices})")
    wanted = split(get)
    params = {"agg": aggs} if aggs else {}
    if not wanted:
        inv.emit(fetch(**params), METRIC_NAMES)
        return
    if any(ch in w for w in wanted for ch in "*?["):
        names = [str(m.get("id")) for m in objects(fetch(**params))]
        expanded = [n for n in names if any(fnmatchcase(n, w) for w in wanted)]
        if not expanded:
            raise UsageError(f"no metric matches {', '.join(wanted)}")
        wanted = expanded
    inv.emit(fetch(get=wanted, **params), metric_values(bool(aggs)))
