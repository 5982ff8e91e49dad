"""--query (JMESPath applied to json/yaml output) and -o custom-columns=NAME:EXPR,..."""

from __future__ import annotations

from typing import Any

from flinkctl.errors import UsageError


def compile_query(expr: str, what: str = "--query expression"):
    """Compile EXPR, or raise UsageError (exit 2) naming WHAT with the parse error."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.compile(expr)
    except JMESPathError as exc:
        first = str(exc).splitlines()[0]
        raise UsageError(f"invalid {what} {expr!r}: {first}") from exc


def apply(expr: str, data: Any) -> Any:
    """Evaluate EXPR against DATA."""
    return compile_query(expr).search(data)


def bare(result: Any) -> list[str] | None:
    """The lines of RESULT printed bare, as `jq -r` would: a string as it is, a list of scalars one
    per line (strings bare, numbers, booleans and null as JSON); None for anything else."""
    import json

    if isinstance(result, str):
        return [result]
    if isinstance(result, list) and not any(isinstance(v, (dict, list)) for v in result):
        return [v if isinstance(v, str) else json.dumps(v) for v in result]
    return None


def custom_columns(spec: str) -> list[tuple[str, Any]]:
    """Parse 'NAME:EXPR,NAME:EXPR' (commas inside brackets, parentheses or quotes stay)."""
    chunks, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(spec):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'`\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            chunks.append(spec[start:i])
            start = i + 1
    chunks.append(spec[start:])  # unbalanced brackets or quotes end up here: a parse error
    return [_column(chunk) for chunk in chunks]


def _column(chunk: str) -> tuple[str, Any]:
    name, sep, expr = chunk.partition(":")
    if not sep or not name.strip() or not expr.strip():
        raise UsageError(
            f"invalid custom column {chunk!r}: expected NAME:EXPRESSION",
            hint="e.g. -o custom-columns=ID:jid,NAME:name,STATE:state",
        )
    return name.strip(), compile_query(expr.strip(), f"custom column {name.strip()!r} expression")
