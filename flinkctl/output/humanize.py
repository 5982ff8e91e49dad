"""Humanised durations, byte sizes and timestamps for tables (json/yaml stay raw)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from flinkctl.flink import local_time, number


def duration(ms: Any) -> str:
    """Milliseconds -> '850ms', '12.3s', '4m05s', '3h12m', '2d04h'; negative -> '-'."""
    from flinkctl.durations import humanize

    return humanize(number(ms))


def size(n: Any) -> str:
    """Bytes -> '512 B', '1.5 KiB', '3.2 GiB'; missing or negative -> '-'."""
    n = number(n)
    if n is None or n < 0:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return "-"  # pragma: no cover


# Flink's epoch-millisecond timestamps as local 'YYYY-MM-DD HH:MM:SS'; unset -> '-'
timestamp = local_time


def count(n: Any) -> str:
    """Large counts with thousands separators."""
    value = number(n)
    if value is None:
        return "-" if n is None else str(n)
    n = value
    if isinstance(n, float) and not n.is_integer():
        return f"{n:,.2f}"
    return f"{int(n):,}"


def ratio(x: Any) -> str:
    """0.25 -> '25%'."""
    x = number(x)
    if x is None or x < 0:
        return "-"
    return f"{x * 100:.0f}%"


def text(value: Any) -> str:
    """Anything else, with None as '-', a list of scalars joined by commas, and an object or a
    list of objects or lists as compact JSON."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)) and not any(isinstance(v, (dict, list)) for v in value):
        return ",".join(text(v) for v in value) or "-"
    if isinstance(value, (dict, list, tuple)):
        from flinkctl.output import jsontext

        return jsontext.dumps(value, compact=True)
    return str(value)


# a column's kind (Column.kind): how its raw value is humanised
Kind = Literal["text", "duration", "bytes", "time", "count", "ratio"]
KINDS: dict[Kind, Callable[[Any], str]] = {
    "text": text,
    "duration": duration,
    "bytes": size,
    "time": timestamp,
    "count": count,
    "ratio": ratio,
}
