"""Fleets: one piece of work on every context of the config, concurrently (bounded).

Each context gets its own client with a short retry budget, so a cluster that is down costs a
few seconds, not the whole run; its error is its outcome, and the others go on. No typer or rich.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from flinkctl.errors import FlinkctlError

if TYPE_CHECKING:
    from flinkctl.client import FlinkClient
    from flinkctl.config import Context

T = TypeVar("T")
CONTEXTS_AT_ONCE = 4
FLEET_RETRY_BUDGET = 5.0  # seconds: a context that is down fails fast


@dataclass
class Outcome(Generic[T]):
    """What WORK gave for one context: its VALUE, or the ERROR it raised."""

    context: str
    value: T | None = None
    error: FlinkctlError | None = None


def over(
    contexts: list[Context], work: Callable[[FlinkClient], T], *, verbose: bool = False
) -> list[Outcome[T]]:
    """WORK(client) for every context in CONTEXTS, CONTEXTS_AT_ONCE at a time; in their order."""
    from flinkctl.client.base import bounded_map

    def one(ctx: Context) -> Outcome[T]:
        from flinkctl.client import FlinkClient

        ctx.retry_budget = min(ctx.retry_budget, FLEET_RETRY_BUDGET)
        try:
            with FlinkClient(ctx, verbose=verbose) as client:
                return Outcome(ctx.name, value=work(client))
        except FlinkctlError as exc:
            return Outcome(ctx.name, error=exc)

    return bounded_map(one, contexts, CONTEXTS_AT_ONCE)
