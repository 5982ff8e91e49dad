"""`--watch/-w [SECONDS]`: re-fetch and re-render a view until Ctrl-C (one home for every watch).

A command offers it like this:

    @app.command("list", cls=watching.Command)   # lets -w go without a value (then 2 s)
    @with_output
    def list_(interval: watching.WatchOption = None) -> None:
        client = Invocation.current().client()
        watching.watch(interval, client.taskmanagers, TASKMANAGERS)

`watch(interval, fetch, view)`: FETCH() returns the data (normally the REST body, unchanged);
VIEW is the View that renders it, or a function(data) that renders it (e.g. one that first
collects per-vertex metrics: it then runs on every refresh). Without an interval it renders
once, as if there were no watch. With one, until Ctrl-C (exit 130, as any interrupt):

- table/wide/name on a terminal: a Rich Live view redrawn in place, under a line naming the
  interval and the time of the last refresh;
- table/wide/name piped: the output once per refresh, refreshes separated by a blank line;
- json: one compact JSON document per line per refresh (flushed; --query applies);
- yaml: one YAML document per refresh, separated by `---`.

Errors (cluster gone, job gone) end the watch with their usual exit code. `cls=watching.Command`
is needed only for a bare `-w`: Typer's options cannot take an optional value by themselves.
"""

import io
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

# Click's parser internals (`_Option`, `parser._short_opt`/`_long_opt`, `state.rargs`), as bundled
# by Typer: private, they may change on a Typer upgrade (the watch tests would fail).
from typer._click.parser import _Option
from typer.core import TyperCommand

from flinkctl.cli.invocation import Invocation, emit

if TYPE_CHECKING:
    from flinkctl.output.render import View

DEFAULT_INTERVAL = 2.0
MIN_INTERVAL = 0.1

WatchOption = Annotated[
    Optional[float],  # noqa: UP045 (typer needs Optional here)
    typer.Option(
        "--watch",
        "-w",
        metavar="[SECONDS]",
        min=MIN_INTERVAL,
        show_default=False,
        help=f"Refresh every SECONDS ({DEFAULT_INTERVAL:g} when given alone) until Ctrl-C; "
        "with -o json, one JSON document per line.",
    ),
]


class _OptionalValue(_Option):
    """A parser option whose value may be left out: it takes the next word only if numeric."""

    def __init__(self, obj: Any, opts: list[str], dest: str | None, const: str) -> None:
        super().__init__(obj, opts, dest, action="store", nargs=0, const=const)

    def process(self, value: Any, state: Any) -> None:
        numeric = state.rargs and _is_number(state.rargs[0])
        value = state.rargs.pop(0) if numeric else self.const
        state.opts[self.dest] = value
        state.order.append(self.obj)


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


class Command(TyperCommand):
    """A command whose `--watch/-w` may be given without SECONDS (then DEFAULT_INTERVAL)."""

    def make_parser(self, ctx: Any) -> Any:
        parser = super().make_parser(ctx)
        for param in self.get_params(ctx):
            if "--watch" in getattr(param, "opts", ()):
                option = _OptionalValue(param, param.opts, param.name, f"{DEFAULT_INTERVAL:g}")
                parser._short_opt.update(dict.fromkeys(option._short_opts, option))
                parser._long_opt.update(dict.fromkeys(option._long_opts, option))
        return parser


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def watch(
    interval: float | None, fetch: Callable[[], Any], view: "View | Callable[[Any], None]"
) -> None:
    """Render FETCH() with VIEW once, or every INTERVAL seconds until Ctrl-C (see module doc)."""
    from flinkctl.output.render import is_tty

    settings = Invocation.current().output
    show: Callable[[Any], None] = view if callable(view) else (lambda data: emit(data, view))
    if interval is None:
        show(fetch())
        return

    def piped(data: Any, first: bool) -> None:
        if not first:
            sys.stdout.write("\n")
        show(data)

    if settings.format in ("json", "jsonl"):
        _repeat(interval, fetch, lambda data, first: _json_line(data, settings.query))
    elif settings.format == "yaml":
        _repeat(interval, fetch, lambda data, first: _yaml_document(data, first, settings.query))
    elif is_tty():
        _live(interval, lambda: show(fetch()), settings.color)
    else:
        _repeat(interval, fetch, piped)


def _repeat(interval: float, fetch: Callable[[], Any], emit: Callable[[Any, bool], None]) -> None:
    """EMIT(FETCH(), first) and flush, every INTERVAL seconds."""
    first = True
    while True:
        emit(fetch(), first)
        sys.stdout.flush()
        first = False
        _sleep(interval)


def _json_line(data: Any, query: str | None) -> None:
    import json

    from flinkctl.output.query import apply

    if query:
        data = apply(query, data)
    sys.stdout.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")


def _yaml_document(data: Any, first: bool, query: str | None) -> None:
    from flinkctl.output.query import apply
    from flinkctl.output.render import dump

    if query:
        data = apply(query, data)
    sys.stdout.write(("" if first else "---\n") + dump(data, "yaml"))


class _TerminalBuffer(io.StringIO):
    """Collects one frame of output while letting Rich believe it writes to the terminal."""

    def isatty(self) -> bool:
        return True


def _live(interval: float, draw: Callable[[], None], color: bool) -> None:
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    from flinkctl.output.render import console

    with Live(console=console(color=color), auto_refresh=False, redirect_stdout=False) as live:
        while True:
            buffer = _TerminalBuffer()
            with redirect_stdout(buffer), redirect_stderr(buffer):  # notes ("no jobs") in the frame
                draw()
            header = Text(
                f"Every {interval:g}s, last at {time.strftime('%H:%M:%S')} (Ctrl-C to stop)",
                style="dim",
            )
            frame = Text.from_ansi(buffer.getvalue().rstrip("\n"), no_wrap=True, overflow="crop")
            live.update(Group(header, Text(), frame), refresh=True)
            _sleep(interval)
