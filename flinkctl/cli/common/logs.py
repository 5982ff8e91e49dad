"""Log files shared by `jobmanager logs` and `taskmanagers logs` (list, print, tail, follow),
and the --tail/--follow options `local logs` offers too."""

import sys
import time
from typing import Annotated

import typer

from flinkctl.cli.invocation import Invocation, emit
from flinkctl.errors import UsageError

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
    prefix: str, name: str | None, tail: int | None, follow: bool, interval: float = 2.0
) -> None:
    """Without NAME list PREFIX's log files; with it print the file (last TAIL lines, --follow)."""
    from flinkctl.output.cluster import LOG_FILES

    client = Invocation.current().client()
    if name is None:
        if tail is not None or follow:
            raise UsageError("--tail and --follow need a log file NAME")
        emit(client.log_list(prefix), LOG_FILES)
        return
    text = client.log_file(prefix, name)
    sys.stdout.write("".join(last(text.splitlines(keepends=True), tail)))
    sys.stdout.flush()
    seen = len(text)
    while follow:
        time.sleep(interval)
        text = client.log_file(prefix, name)
        if len(text) < seen:  # rotated
            seen = 0
        sys.stdout.write(text[seen:])
        sys.stdout.flush()
        seen = len(text)
