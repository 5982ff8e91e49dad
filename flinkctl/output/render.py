"""render(data, view, settings, io): one entry point for every output format (OutputFormat).

A view draws on a `Page`: the run's streams (an `IO`) and whether it is -o wide; nothing here
writes anywhere else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from flinkctl.errors import UsageError
from flinkctl.flink import (
    FAILURE_STATES,
    RECOVERING_STATES,
    STARTING_STATES,
    UNSUCCESSFUL_STATES,
    objects,
)
from flinkctl.output import jsontext
from flinkctl.output.formats import OutputFormat
from flinkctl.output.humanize import KINDS, Kind
from flinkctl.output.streams import IO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

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

    format: OutputFormat = OutputFormat.TABLE
    query: str | None = None
    bare: bool = False  # --query without an explicit -o json|yaml: strings print bare
    # -o custom-columns: (header, compiled JMESPath expression)
    columns: list[tuple[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.format = OutputFormat(self.format)  # a script's Settings(format="json") too


# How a column fits a terminal narrower than its table (see `table`):
Fit = Literal["id", "free", "keep"]
ID: Fit = "id"  # an id: never cut, wrapped or dropped
FREE: Fit = "free"  # free text (a name, a path, a message): shortened with an ellipsis first
KEEP: Fit = "keep"  # anything else: shown whole, or dropped (rightmost first) if still too wide


@dataclass
class Column:
    """One table column: a header, a key path or function, how to humanise it, and how it fits
    a narrow terminal (ID, FREE or KEEP; a view's column order is its priority)."""

    header: str
    get: str | Callable[[Any], Any]
    kind: Kind = "text"
    wide: bool = False
    fit: Fit = KEEP

    def value(self, row: Any) -> Any:
        """The raw value of this column for ROW."""
        if callable(self.get):
            return self.get(row)
        if "." not in self.get:
            return row.get(self.get) if isinstance(row, dict) else None
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
    renderer entirely (trees, stack traces, log text) and receives (data, page).
    """

    columns: list[Column] = field(default_factory=list)
    rows: Callable[[Any], list[Any]] = lambda data: (
        objects(data) if isinstance(data, list) else [data]
    )
    name: str | Callable[[Any], Any] | None = None
    detail: bool = False
    table: Callable[[Any, Page], None] | None = None
    empty: str | None = None  # the note for an empty list at a terminal: "no jobs"


def render(data: Any, view: View, settings: Settings, io: IO) -> None:
    """Print DATA with VIEW in SETTINGS' format on IO: json/yaml unchanged, tables humanised."""
    fmt = settings.format
    page = Page(io, wide=fmt is OutputFormat.WIDE)
    if fmt.is_document:
        if settings.query:
            from flinkctl.output.query import apply, bare

            data = apply(settings.query, data)
            if settings.bare and (lines := bare(data)) is not None:
                io.write("".join(line + "\n" for line in lines))
                return
        text = dump(data, fmt).rstrip("\n")
        if text or fmt is not OutputFormat.JSONL:  # an empty list is no line at all in JSON Lines
            io.line(text)
    elif fmt is OutputFormat.NAME:
        if view.name is None:
            raise UsageError("-o name is not supported by this command")
        getter = Column("", view.name)
        for row in view.rows(data):
            io.line(str(getter.value(row)))
    elif fmt is OutputFormat.CUSTOM_COLUMNS:
        from flinkctl.output.query import column_expression, search

        rows = [data] if view.detail else view.rows(data)
        columns = [(expr, column_expression(name)) for name, expr in settings.columns]
        page.table(
            [name for name, _ in settings.columns],
            [[KINDS["text"](search(expr, row, what)) for expr, what in columns] for row in rows],
        )
    elif view.table is not None:
        view.table(data, page)
    elif view.detail:
        pairs = [(c.header, c.cell(data)) for c in view.columns if page.wide or not c.wide]
        page.details(pairs)
    else:
        page.rows_table(view.columns, view.rows(data), view.empty)


def dump(data: Any, fmt: OutputFormat | str) -> str:
    """JSON (indented), JSON Lines (a list: one compact document per item; anything else: one
    line) or YAML text of DATA, never through Rich markup. FMT: a document format, or its name."""
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.JSONL:
        items = data if isinstance(data, list) else [data]
        return "".join(jsontext.dumps(i, compact=True) + "\n" for i in items)
    if fmt is OutputFormat.YAML:
        from flinkctl.output.yamltext import dump as plain_yaml

        text = plain_yaml(data)  # PyYAML's text of plain data, faster; else PyYAML itself
        if text is not None:
            return text
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when available: 10x faster
        return yaml.dump(
            data, Dumper=dumper, sort_keys=False, default_flow_style=False, allow_unicode=True
        )
    return jsontext.dumps(data)


COLOR_MAX_ROWS = 500  # styling each cell of tens of thousands of rows takes seconds
GAP = 3  # spaces between the columns of a terminal table
FREE_MIN = 12  # the fewest cells free text is shortened to before columns are dropped


def fit_widths(
    natural: list[int], headers: list[str], fits: list[Fit], limit: int
) -> list[int | None]:
    """Column widths for a terminal LIMIT cells wide (None: the column is dropped). Columns keep
    their NATURAL width if the table fits; otherwise FREE text shrinks (to FREE_MIN cells or its
    header), then KEEP columns are dropped from the right (never the first), then the FREE
    columns share what is left. ID columns never shrink: a table of ids alone may run past."""
    widths: list[int | None] = list(natural)

    def total() -> int:
        shown = [w for w in widths if w is not None]
        return sum(shown) + GAP * (len(shown) - 1)

    if total() <= limit:
        return widths
    free = [i for i, f in enumerate(fits) if f == FREE]
    for i in free:
        widths[i] = min(natural[i], max(FREE_MIN, len(headers[i])))
    droppable = [i for i, f in enumerate(fits) if f == KEEP and i > 0]
    while total() > limit and droppable:
        widths[droppable.pop()] = None
    for n, i in enumerate(sorted(free, key=lambda i: natural[i])):  # the shortest first
        share = max(0, limit - total()) // (len(free) - n)
        widths[i] = min(natural[i], (widths[i] or 0) + share)
    return widths


def _line(cells: list[Any], shown: list[int], widths: list[Any], line: Text) -> Text:
    """One row of a terminal table into LINE (a Rich Text): the SHOWN CELLS (text or Text,
    keeping their styles) padded to WIDTHS, or cut with an ellipsis (FREE text only gets
    narrower than its cells, see `fit_widths`)."""
    from rich.text import Text

    for n, i in enumerate(shown):
        cell = cells[i] if isinstance(cells[i], Text) else Text(cells[i])
        if n:
            line.append(" " * GAP)
        if cell.cell_len > widths[i]:
            cell.truncate(widths[i], overflow="ellipsis")
        elif i != shown[-1]:
            cell.pad_right(widths[i] - cell.cell_len)
        line.append_text(cell)
    line.rstrip()
    return line


def _fitted(cells: list[str], width: int, pad: bool) -> list[str]:
    """CELLS cut to WIDTH terminal cells with an ellipsis, and with PAD padded to it."""
    if "".join(cells).isascii():  # one cell per character
        cut = [c if len(c) <= width else c[: width - 1] + "…" for c in cells]
        return [c.ljust(width) for c in cut] if pad else cut
    from rich.cells import set_cell_size

    cut = [c if _cells(c) <= width else set_cell_size(c, width - 1) + "…" for c in cells]
    return [set_cell_size(c, width) for c in cut] if pad else cut


def _cells(text: str) -> int:
    """How many terminal cells TEXT takes (wide characters take two)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def fields(
    data: dict[str, Any], columns: list[Column], wide: bool = True, labels: bool = False
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


@dataclass
class Page:
    """What a view draws on: the run's streams and whether it is -o wide (rows then run past a
    terminal's edge rather than shrink, and wide-only columns show)."""

    io: IO
    wide: bool = False

    @property
    def terminal(self) -> bool:
        """Whether the data goes to a terminal (tables get rules and colour, see `table`)."""
        return self.io.out_is_terminal

    def out(self, text: str = "") -> None:
        """One line of data."""
        self.io.line(text)

    def console(self) -> Console:
        """A Rich console on the data stream (see IO.console)."""
        return self.io.console()

    def table(
        self,
        headers: list[str],
        rows: list[list[Any]],
        fits: list[Fit] | None = None,
        empty: str | None = None,
    ) -> None:
        """Tab-separated, untruncated lines when piped. On a terminal: aligned columns under a
        rule, fitted to its width (see `fit_widths`; -o wide runs past the edge instead), states
        coloured; an empty table is EMPTY's note on stderr instead, when given. Cells are text
        or Rich Text."""
        if not self.terminal:
            lines = ["\t".join(headers)] + ["\t".join(map(str, r)) for r in rows]
            self.io.write("\n".join(lines) + "\n")
            return
        if not rows and empty:
            self.io.say(empty)
            return
        from rich.text import Text

        con = self.console()
        fits = fits or [KEEP] * len(headers)
        columns = [  # column by column: a 10,000-row table is laid out in a few list passes
            [h, *(c.plain if isinstance(c, Text) else c.replace("\n", " ") for c in col)]
            for h, col in zip(
                headers, zip(*rows, strict=True) if rows else [()] * len(headers), strict=True
            )
        ]
        natural = [max(_cells(c) for c in col) for col in columns]
        widths = natural if self.wide else fit_widths(natural, headers, fits, con.width)
        shown = [i for i, w in enumerate(widths) if w is not None]
        rule = "─" * (sum(widths[i] or 0 for i in shown) + GAP * (len(shown) - 1))
        if len(rows) > COLOR_MAX_ROWS:
            cells = [_fitted(columns[i], widths[i] or 0, pad=i != shown[-1]) for i in shown]
            lines = [(" " * GAP).join(line).rstrip() for line in zip(*cells, strict=True)]
            lines.insert(1, rule)
            self.out("\n".join(lines))
            return
        con.print(_line(headers, shown, widths, Text(style="bold")), soft_wrap=True)
        con.print(rule, soft_wrap=True)
        state_cols = {i for i, h in enumerate(headers) if h in ("STATE", "STATUS")}
        for r in rows:
            row = [c if isinstance(c, Text) else Text(c.replace("\n", " ")) for c in r]
            for i in state_cols:
                row[i].stylize(STATE_STYLES.get(row[i].plain, ""))
            con.print(_line(row, shown, widths, Text()), soft_wrap=True)

    def rows_table(self, columns: list[Column], rows: list[Any], empty: str | None = None) -> None:
        """A table of ROWS over COLUMNS (wide-only columns with -o wide); EMPTY: see `table`."""
        cols = [c for c in columns if self.wide or not c.wide]
        cells = [[c.cell(r) for c in cols] for r in rows]
        self.table([c.header for c in cols], cells, [c.fit for c in cols], empty)

    def details(self, pairs: list[tuple[str, str]]) -> None:
        """FIELD: VALUE lines for one object (aligned; bold field names on a terminal)."""
        width = max((len(k) for k, _ in pairs), default=0) + 1
        if not self.terminal:
            for k, v in pairs:
                self.out(f"{k + ':':<{width}} {v}")
            return
        from rich.text import Text

        con = self.console()
        for k, v in pairs:
            line = Text(f"{k + ':':<{width}} ", style="bold")
            line.append(v, style=STATE_STYLES.get(v, ""))
            con.print(line)
