"""--query (JMESPath applied to json/yaml output) and -o custom-columns=NAME:EXPR,..."""

from __future__ import annotations

from typing import Any

from flinkctl.errors import UsageError
from flinkctl.output import jsontext

QUERY = "--query expression"
VALUE_MAX = 60  # the most characters of a value a type error names (an object can be long)


def compile_query(expr: str, what: str = QUERY):
    """Compile EXPR, or raise UsageError (exit 2) naming WHAT with the parse error."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.compile(expr)
    except JMESPathError as exc:
        raise UsageError(f"invalid {what} {expr!r}: {_problem(exc)}") from exc


def search(compiled: Any, data: Any, what: str = QUERY) -> Any:
    """COMPILED (from compile_query) evaluated against DATA, or UsageError (exit 2) naming WHAT
    when it fails there: a function given a value of another type, or one that does not exist."""
    from jmespath.exceptions import JMESPathError

    try:
        return compiled.search(data)
    except JMESPathError as exc:
        raise UsageError(f"invalid {what} {compiled.expression!r}: {_problem(exc)}") from exc


def apply(expr: str, data: Any) -> Any:
    """Evaluate the --query expression EXPR against DATA."""
    return search(compile_query(expr), data)


def _problem(exc: Exception) -> str:
    """JMESPath's message of EXC, its first line; the value a type error names as JSON, cut to
    VALUE_MAX characters."""
    from jmespath.exceptions import JMESPathTypeError

    if isinstance(exc, JMESPathTypeError) and isinstance(exc.current_value, (dict, list)):
        value = jsontext.dumps(exc.current_value, compact=True)
        exc.current_value = value if len(value) <= VALUE_MAX else value[: VALUE_MAX - 1] + "…"
    return str(exc).splitlines()[0]


def bare(result: Any) -> list[str] | None:
    """The lines of RESULT printed bare, as `jq -r` would: a string as it is, a list of scalars one
    per line (strings bare, numbers, booleans and null as JSON); None for anything else."""
    if isinstance(result, str):
        return [result]
    if isinstance(result, list) and not any(isinstance(v, (dict, list)) for v in result):
        return [v if isinstance(v, str) else jsontext.dumps(v) for v in result]
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
    return name.strip(), compile_query(expr.strip(), column_expression(name.strip()))


def column_expression(name: str) -> str:
    """What an error calls the expression of custom column NAME."""
    return f"custom column {name!r} expression"
