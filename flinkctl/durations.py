"""Durations as people type them: `45s`, `30m`, `12h`, `7d` (also `1h30m`, `1.5h`, `90`).

One parser for every option that reads a duration (--max-age, --older-than, --timeout, ...);
a bare number is seconds. No typer or rich here.
"""

from __future__ import annotations

import math
import re

UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|[smhdw])")


def parse(text: str) -> float:
    """Seconds in TEXT: a number (seconds) or number-unit pairs with units ms, s, m, h, d, w.

    ValueError names what is wrong; a negative, infinite or unitless mix is refused.
    """
    value = text.strip().lower()
    try:
        seconds = float(value)
    except ValueError:
        seconds = _units(value, text)
    if not 0 <= seconds < math.inf:  # also NaN
        raise ValueError(f"invalid duration {text!r}: expected a finite one, 0 or more")
    return seconds


def _units(value: str, text: str) -> float:
    pos, total = 0, 0.0
    for match in _PART.finditer(value):
        if match.start() != pos:
            break
        total += float(match[1]) * UNITS[match[2]]
        pos = match.end()
    if not value or pos != len(value):
        raise ValueError(
            f"invalid duration {text!r}: expected e.g. 45s, 30m, 12h, 7d or a number of seconds"
        )
    return total


def humanize(ms: float | None) -> str:
    """Milliseconds -> '850ms', '12.3s', '4m05s', '3h12m', '2d04h'; None or negative -> '-'."""
    if ms is None or ms < 0:
        return "-"
    if ms < 1000:
        return f"{ms:.0f}ms"
    s = ms / 1000
    if s < 60:
        return f"{s:.1f}s"
    m, sec = divmod(int(s), 60)
    if m < 60:
        return f"{m}m{sec:02d}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h{m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d{h:02d}h"
