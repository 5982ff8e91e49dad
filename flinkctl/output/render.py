"""render(data, view): one entry point for json | yaml | table | wide | name output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from flinkctl.errors import UsageError
from flinkctl.flink import (
    FAILURE_STATES,
    RECOVERING_STATES,
    STARTING_STATES,
    UNSUCCESSFUL_STATES,
    objects,
)
from flinkctl.output.humanize import KINDS

FORMATS = ("table", "wide", "json", "jsonl", "yaml", "name")
DOCUMENT_FORMATS = ("json", "jsonl", "yaml")  # formats that print the data, not a view of it
STATE_STYLES = {
    **dict.fromkeys(STARTING_STATES | {"IN_PROGRESS"}, "cyan"),
    "RUNNING": "green",
    "COMPLETED": "green",
    **dict.fromkeys(RECOVERING_STATES, "magenta"),
    "FINISHED": "blue",
    **dict.fromkeys(FAILURE_STATES, "red"),
    **dict.fromkeys(UNSUCCESSFUL_STATES - FAILURE_STATES, "yellow"),  # cancelled, suspended
}


@dataclass
class Settings:
    """Output options of one invocation (the CLI keeps them on its Invocation)."""

    format: str = "table"
    color: bool = True
    query: str | None = None
    columns: list = field(default_factory=list)  # -o custom-columns: (header, JMESPath)


# The colour choice of the render in progress: views draw through `table`, `details` and
# `console`, which take no settings, so `render` lends them its settings' colour for the call.
_color: ContextVar[bool] = ContextVar("color", default=True)


@dataclass
class Column:
    """One table column: a header, a key path or function, and how to humanise it."""

    header: str
    get: str | Callable[[Any], Any]
    kind: str = "text"
    wide: bool = False

    def value(self, row: Any) -> Any:
        """The raw value of this column for ROW."""
        if callable(self.get):
            return self.get(row)
        value = row
        for part in self.get.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def cell(self, row: Any) -> str:
        """The humanised cell text."""
        return KINDS[self.kind](self.value(row))


@dataclass
class View:
    """How a resource renders: rows picked out of the body, columns, and its -o name id.

    `detail=True` renders one object as FIELD/VALUE lines; `table` replaces the table
    renderer entirely (trees, stack traces, log text) and receives (data, wide).
    """

    columns: list[Column] = field(default_factory=list)
    rows: Callable[[Any], list] = lambda data: objects(data) if isinstance(data, list) else [data]
    name: str | Callable[[Any], Any] | None = None
    detail: bool = False
    table: Callable[[Any, bool], None] | None = None


def out(text: str = "") -> None:
    """Write one line of data to stdout."""
    sys.stdout.write(text + "\n")


def render(data: Any, view: View, settings: Settings) -> None:
    """Print DATA with VIEW in SETTINGS' format: json/yaml unchanged, tables humanised."""
    token = _color.set(settings.color)
    try:
        _render(data, view, settings)
    finally:
        _color.reset(token)


def _render(data: Any, view: View, settings: Settings) -> None:
    fmt = settings.format
    if fmt in DOCUMENT_FORMATS:
        if settings.query:
            from flinkctl.output.query import apply

            data = apply(settings.query, data)
        text = dump(data, fmt).rstrip("\n")
        if text or fmt != "jsonl":  # an empty list is no line at all in JSON Lines
            out(text)
    elif fmt == "name":
        if view.name is None:
            raise UsageError("-o name is not supported by this command")
        getter = Column("", view.name)
        for row in view.rows(data):
            out(str(getter.value(row)))
    elif fmt == "custom-columns":
        rows = [data] if view.detail else view.rows(data)
        table(
            [name for name, _ in settings.columns],
            [[KINDS["text"](expr.search(row)) for _, expr in settings.columns] for row in rows],
        )
    elif view.table is not None:
        view.table(data, fmt == "wide")
    elif view.detail:
        pairs = [(c.header, c.cell(data)) for c in view.columns if fmt == "wide" or not c.wide]
        details(pairs)
    else:
        cols = [c for c in view.columns if fmt == "wide" or not c.wide]
        rows = view.rows(data)
        table([c.header for c in cols], [[c.cell(r) for c in cols] for r in rows])


def dump(data: Any, fmt: str) -> str:
    """JSON (indented), JSON Lines (a list: one compact document per item; anything else: one
    line) or YAML text of DATA, never through Rich markup."""
    if fmt == "jsonl":
        items = data if isinstance(data, list) else [data]
        return "".join(
            json.dumps(i, ensure_ascii=False, separators=(",", ":")) + "\n" for i in items
        )
    if fmt == "yaml":
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when available: 10x faster
        return yaml.dump(
            data, Dumper=dumper, sort_keys=False, default_flow_style=False, allow_unicode=True
        )
    return json.dumps(data, indent=2, ensure_ascii=False)


def is_tty() -> bool:
    """Whether stdout is a terminal (tables get Rich boxes and colour).

    FLINKCTL_FORCE_TTY=1 makes flinkctl draw as on a terminal when piped (tests, benchmarks,
    `| less -R`); NO_COLOR (see `console`) still turns the colour off.
    """
    return sys.stdout.isatty() or os.environ.get("FLINKCTL_FORCE_TTY") == "1"


def console(stderr: bool = False, color: bool | None = None):
    """A Rich console honouring --no-color (COLOR; by default the render in progress's) and
    NO_COLOR. FLINKCTL_FORCE_TTY: see `is_tty`."""
    from rich.console import Console

    color = _color.get() if color is None else color
    no_color = not color or bool(os.environ.get("NO_COLOR"))
    return Console(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=False)


RICH_MAX_ROWS = 500  # Rich's layout pass takes seconds for tens of thousands of rows


def table(headers: list[str], rows: list[list[str]]) -> None:
    """A Rich table on a terminal; tab-separated, untruncated lines when piped."""
    if not is_tty():
        lines = ["\t".join(headers)] + ["\t".join(r) for r in rows]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    if len(rows) > RICH_MAX_ROWS:
        aligned(headers, rows)
        return
    from rich import box
    from rich.table import Table

    tbl = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for h in headers:
        tbl.add_column(h, overflow="fold")
    state_cols = [i for i, h in enumerate(headers) if h in ("STATE", "STATUS")]
    for r in rows:
        tbl.add_row(*(_styled(c) if i in state_cols else c for i, c in enumerate(r)))
    console().print(tbl)


def aligned(headers: list[str], rows: list[list[str]]) -> None:
    """A terminal table without Rich's layout pass: space-aligned columns, a rule under the header."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = [
        "   ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()
        for cells in [headers, *rows]
    ]
    lines.insert(1, "─" * (sum(widths) + 3 * (len(widths) - 1)))
    out("\n".join(lines))


def rows_table(columns: list[Column], rows: list, wide: bool) -> None:
    """A table of ROWS over COLUMNS (wide-only columns with WIDE), for views with sections."""
    cols = [c for c in columns if wide or not c.wide]
    table([c.header for c in cols], [[c.cell(r) for c in cols] for r in rows])


def fields(
    data: dict, columns: list[Column], wide: bool = True, labels: bool = False
) -> list[tuple[str, str]]:
    """FIELD/VALUE pairs of DATA over COLUMNS (wide-only columns with WIDE), for `details`;
    LABELS turns table headers into field labels ('TASK MANAGER' -> 'Task manager')."""
    return [
        (_label(c.header) if labels else c.header, c.cell(data))
        for c in columns
        if wide or not c.wide
    ]


def _label(header: str) -> str:
    return header if header in ("ID", "UUID") else header.capitalize()


def _styled(cell: str):
    from rich.text import Text

    return Text(cell, style=STATE_STYLES.get(cell, ""))


def details(pairs: list[tuple[str, str]]) -> None:
    """FIELD: VALUE lines for one object (aligned; bold field names on a terminal)."""
    width = max((len(k) for k, _ in pairs), default=0) + 1
    if not is_tty():
        for k, v in pairs:
            out(f"{k + ':':<{width}} {v}")
        return
    from rich.text import Text

    con = console()
    for k, v in pairs:
        line = Text(f"{k + ':':<{width}} ", style="bold")
        line.append(v, style=STATE_STYLES.get(v, ""))
        con.print(line)
