"""Log files shared by `jobmanager logs` and `taskmanagers logs` (list, print, tail, follow),
and the --tail/--follow options `local logs` offers too."""

import sys
import time
from collections.abc import Callable
from typing import Annotated

import typer

from flinkctl.cli.invocation import emit
from flinkctl.errors import UsageError
from flinkctl.flink import LogList

TailOption = Annotated[
    int | None, typer.Option("--tail", "-n", min=0, help="Print only the last N lines.")
]
FollowOption = Annotated[
    bool, typer.Option("--follow", "-f", help="Keep printing new lines (Ctrl-C stops).")
]


def last(lines: list[str], tail: int | None) -> list[str]:
    """The last TAIL of LINES (all of them without --tail)."""
    return lines if tail is None else lines[len(lines) - tail :]


def show(
    files: Callable[[], LogList],
    read: Callable[[str], str],
    name: str | None,
    tail: int | None,
    follow: bool,
    interval: float = 2.0,
) -> None:
    """Without NAME list the log FILES; with it READ the file (last TAIL lines, --follow)."""
    from flinkctl.output.cluster import LOG_FILES

    if name is None:
        if tail is not None or follow:
            raise UsageError("--tail and --follow need a log file NAME")
        emit(files(), LOG_FILES)
        return
    text = read(name)
    sys.stdout.write("".join(last(text.splitlines(keepends=True), tail)))
    sys.stdout.flush()
    seen = len(text)
    while follow:
        time.sleep(interval)
        text = read(name)
        if len(text) < seen:  # rotated
            seen = 0
        sys.stdout.write(text[seen:])
        sys.stdout.flush()
        seen = len(text)
