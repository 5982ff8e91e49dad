"""--query: JMESPath applied to json/yaml output."""

from __future__ import annotations

from typing import Any

from flinkctl.errors import UsageError


def compile_query(expr: str):
    """Compile EXPR, or raise UsageError (exit 2) with the parse error."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.compile(expr)
    except JMESPathError as exc:
        first = str(exc).splitlines()[0]
        raise UsageError(f"invalid --query expression {expr!r}: {first}") from exc


def apply(expr: str, data: Any) -> Any:
    """Evaluate EXPR against DATA."""
    return compile_query(expr).search(data)
