"""`--watch/-w [INTERVAL]`: re-fetch and re-render a view until Ctrl-C (one home for every watch).

A command offers it like this:

    @app.command("list", cls=watching.Command)   # lets -w go without a value (then 2 s)
    @with_output
    def list_(inv: Invocation, interval: watching.WatchOption = None) -> None:
        watching.watch(inv, interval, inv.client().taskmanagers, TASKMANAGERS)

`watch(inv, interval, fetch, view)`: FETCH() returns the data (normally the REST body,
unchanged); VIEW is the View that renders it, or a function(data) that returns what to render
and with which View (e.g. one that first collects per-vertex metrics: it then runs on every
refresh). Each refresh renders on the invocation's streams, or on a terminal into a frame of its
own (`IO.buffer`) that a Rich Live view shows. Without an interval it renders
once, as if there were no watch. With one, until Ctrl-C (exit 130, as any interrupt):

- table/wide/name on a terminal: a Rich Live view redrawn in place, under a line naming the
  interval and the time of the last refresh;
- table/wide/name piped: the output once per refresh, refreshes separated by a blank line;
- json: one compact JSON document per line per refresh (flushed; --query applies);
- yaml: one YAML document per refresh, separated by `---`.

Errors (cluster gone, job gone) end the watch with their usual exit code. `cls=watching.Command`
is needed only for a bare `-w`: Typer's options cannot take an optional value by themselves.
"""

import time
from collections.abc import Callable
from dataclasses import replace
from io import StringIO
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

# Click's parser internals (`_Option`, `parser._short_opt`/`_long_opt`, `state.rargs`), as bundled
# by Typer: private, they may change on a Typer upgrade (the watch tests would fail).
from typer._click.parser import _Option
from typer.core import TyperCommand

from flinkctl.cli.common.options import duration
from flinkctl.cli.invocation import Invocation

if TYPE_CHECKING:
    from flinkctl.output.render import View
    from flinkctl.output.streams import IO

DEFAULT_INTERVAL = 2.0
MIN_INTERVAL = 0.1
MAX_INTERVAL = 86400.0


def _interval(text: str | float) -> float:
    """--watch's value: a duration (`5`, `5s`, `1m`) from MIN_INTERVAL to MAX_INTERVAL."""
    seconds = duration(text)
    if seconds < MIN_INTERVAL:
        raise typer.BadParameter(f"{text} is shorter than {MIN_INTERVAL:g}s")
    if seconds > MAX_INTERVAL:
        raise typer.BadParameter(f"{text} is longer than a day")
    return seconds


WatchOption = Annotated[
    Optional[float],  # noqa: UP045 (typer needs Optional here)
    typer.Option(
        "--watch",
        "-w",
        metavar="[INTERVAL]",
        parser=_interval,
        show_default=False,
        help=f"Refresh every INTERVAL (seconds, or 5s, 1m; {DEFAULT_INTERVAL:g}s when given "
        "alone) until Ctrl-C; with -o json, one JSON document per line.",
    ),
]


class _OptionalValue(_Option):
    """A parser option whose value may be left out: it takes the next word only if it is a
    duration."""

    def __init__(self, obj: Any, opts: list[str], dest: str | None, const: str) -> None:
        super().__init__(obj, opts, dest, action="store", nargs=0, const=const)

    def process(self, value: Any, state: Any) -> None:
        given = state.rargs and _is_duration(state.rargs[0])
        value = state.rargs.pop(0) if given else self.const
        state.opts[self.dest] = value
        state.order.append(self.obj)


def _is_duration(word: str) -> bool:
    """Whether WORD is meant as INTERVAL: a duration, or a number (one out of range is then
    refused as an interval, not taken for an argument)."""
    from flinkctl.durations import parse

    for read in (parse, float):
        try:
            read(word)
        except ValueError:
            continue
        return True
    return False


class Command(TyperCommand):
    """A command whose `--watch/-w` may be given without INTERVAL (then DEFAULT_INTERVAL)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """`--watch=VALUE` always means VALUE as INTERVAL: a bad one is named as such."""
        for arg in args[: args.index("--") if "--" in args else len(args)]:
            if arg.startswith("--watch="):
                try:
                    _interval(arg.removeprefix("--watch="))
                except typer.BadParameter as e:
                    e.ctx, e.param_hint = ctx, "'--watch' / '-w'"
                    raise
        return super().parse_args(ctx, args)

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
    inv: Invocation,
    interval: float | None,
    fetch: Callable[[], Any],
    view: "View | Callable[[Any], tuple[Any, View]]",
) -> None:
    """Render FETCH() with VIEW on INV's streams once, or every INTERVAL seconds until Ctrl-C
    (see module doc)."""
    from flinkctl.output.formats import OutputFormat
    from flinkctl.output.render import render

    settings, io = inv.output, inv.io

    def show(data: Any, on: "IO") -> None:
        shown, how = view(data) if callable(view) else (data, view)
        render(shown, how, settings, on)

    if interval is None:
        show(fetch(), io)
        return

    def piped(data: Any, first: bool) -> None:
        # rendered whole first, then written in one piece: an interrupt never leaves a
        # separator without its table
        frame = replace(io, out=StringIO())
        show(data, frame)
        io.write(("" if first else "\n") + frame.out.getvalue())  # type: ignore[attr-defined]

    if settings.format.is_json:
        repeat(io, interval, fetch, lambda data, first: _json_line(io, data, settings.query))
    elif settings.format is OutputFormat.YAML:
        repeat(
            io, interval, fetch, lambda data, first: _yaml_document(io, data, first, settings.query)
        )
    elif io.out_is_terminal:
        _live(io, interval, lambda frame: show(fetch(), frame))
    else:
        repeat(io, interval, fetch, piped)


def repeat(
    io: "IO", interval: float, fetch: Callable[[], Any], emit: Callable[[Any, bool], None]
) -> None:
    """EMIT(FETCH(), first) and flush IO, every INTERVAL seconds until Ctrl-C: a watch whose
    command writes each refresh itself (doctor's jsonl: a line per finding)."""
    first = True
    while True:
        emit(fetch(), first)
        io.out.flush()
        first = False
        _sleep(interval)


def _json_line(io: "IO", data: Any, query: str | None) -> None:
    from flinkctl.output import jsontext
    from flinkctl.output.query import apply

    if query:
        data = apply(query, data)
    io.line(jsontext.dumps(data, compact=True))


def _yaml_document(io: "IO", data: Any, first: bool, query: str | None) -> None:
    from flinkctl.output.formats import OutputFormat
    from flinkctl.output.query import apply
    from flinkctl.output.render import dump

    if query:
        data = apply(query, data)
    io.write(("" if first else "---\n") + dump(data, OutputFormat.YAML))


def _live(io: "IO", interval: float, draw: Callable[["IO"], None]) -> None:
    """DRAW(frame) every INTERVAL seconds into a frame of its own (`IO.buffer`: stdout and
    stderr, so notes such as "no jobs" show in it), shown in place on IO's terminal."""
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    with Live(console=io.console(), auto_refresh=False, redirect_stdout=False) as live:
        while True:
            frame = io.buffer()
            draw(frame)
            header = Text(
                f"Every {interval:g}s, last at {time.strftime('%H:%M:%S')} (Ctrl-C to stop)",
                style="dim",
            )
            drawn = frame.out.getvalue()  # type: ignore[attr-defined]
            # a line past the terminal's edge wraps at a space, as the terminal would wrap it
            # without --watch (Live redraws in place, so it must know each line's height): an
            # id is never cut, and broken only on a terminal narrower than the id
            text = Text.from_ansi(drawn.rstrip("\n"), overflow="fold")
            live.update(Group(header, Text(), text), refresh=True)
            _sleep(interval)
