"""Resolve what a user typed (id, unique prefix, name) to one resource; one home for every noun."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flinkctl.errors import NotFoundError, UsageError


def pick(
    value: str,
    items: Sequence[dict],
    *,
    noun: str,
    key: str = "id",
    name_key: str | None = None,
    describe: Callable[[dict], str] | None = None,
    min_prefix: int = 1,
    prefer: Callable[[dict], bool] | None = None,
) -> dict:
    """The one item whose KEY equals VALUE, starts with it, or whose NAME_KEY equals it.

    Exact ids win, then unique prefixes (at least MIN_PREFIX chars), then exact names.
    Among several matches PREFER (e.g. "not terminal") narrows to one if it can.
    Ambiguity is a UsageError listing the candidates; no match is NotFoundError.
    """
    describe = describe or (lambda item: str(item.get(key)))
    exact = [i for i in items if str(i.get(key)) == value]
    if exact:
        return exact[0]
    matches: list[dict] = []
    if len(value) >= min_prefix:
        matches = [i for i in items if str(i.get(key, "")).startswith(value)]
    if not matches and name_key:
        matches = [i for i in items if str(i.get(name_key)) == value]
    if len(matches) > 1 and prefer is not None:
        preferred = [i for i in matches if prefer(i)]
        if len(preferred) == 1:
            return preferred[0]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFoundError(f"{noun} {value!r} not found")
    listing = "; ".join(describe(i) for i in matches[:10])
    more = f" (and {len(matches) - 10} more)" if len(matches) > 10 else ""
    raise UsageError(f"{noun} {value!r} is ambiguous: {listing}{more}")


def taskmanager(client: Any, value: str) -> str:
    """A task manager id from a full id or a unique prefix."""
    items = client.taskmanagers().get("taskmanagers", [])
    return pick(value, items, noun="task manager")["id"]
