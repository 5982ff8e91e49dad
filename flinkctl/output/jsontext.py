"""JSON text of the data flinkctl prints (-o json and jsonl, --watch, --query's bare values, an
object in a table cell): always valid JSON, a NaN or an infinity (which JSON cannot hold: a
`--query` literal such as `1e400`, a gateway's body) as null, as tables show it as '-'
(`flinkctl.flink.number`)."""

from __future__ import annotations

import json
import math
from typing import Any


def dumps(data: Any, compact: bool = False) -> str:
    """DATA as JSON, indented by 2, or COMPACT on one line (no spaces), non-ASCII kept."""
    layout: dict[str, Any] = {"separators": (",", ":")} if compact else {"indent": 2}
    try:
        return json.dumps(data, ensure_ascii=False, allow_nan=False, **layout)
    except ValueError:  # a NaN or an infinity: rare, so only then is DATA copied without them
        return json.dumps(_finite(data), ensure_ascii=False, **layout)


def _finite(data: Any) -> Any:
    """DATA with every NaN and infinity as None."""
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data
