"""Log files, as `kubectl logs` prints them: the main log of the JobManager or of one or more
task managers (`jobmanager logs`, `taskmanagers logs`, `jobs logs`), the last --tail lines,
--follow; --list for the files; and the --tail/--follow options `local logs` offers too."""

import time
from collections.abc import Callable, Sequence
from typing import Annotated

import typer

from flinkctl.cli.invocation import Invocation
from flinkctl.errors import NotFoundError, UsageError
from flinkctl.flink import LogList

TailOption = Annotated[
    int | None, typer.Option("--tail", "-n", min=0, help="Print only the last N lines.")
]
FollowOption = Annotated[
    bool, typer.Option("--follow", "-f", help="Keep printing new lines (Ctrl-C stops).")
]
ListOption = Annotated[
    bool, typer.Option("--list", "-l", help="List the log files instead of printing one.")
]
FileArgument = Annotated[
    str | None, typer.Argument(help="A log file from --list (default: the main log).")
]

# A log to print: its label (a task manager id; None for a single log) and how to read it
Source = tuple[str | None, Callable[[], str]]


def last(lines: list[str], tail: int | None) -> list[str]:
    """The last TAIL of LINES (all of them without --tail)."""
    return lines if tail is None else lines[len(lines) - tail :]


def show(
    inv: Invocation,
    files: Callable[[], LogList],
    read: Callable[[str | None], str],
    name: str | None,
    *,
    list_: bool,
    tail: int | None,
    follow: bool,
    hint: str,
) -> None:
    """With --list, the log FILES; else READ(NAME) (NAME None: the main log), the last TAIL
    lines, then new ones with FOLLOW. A file the server cannot send gets HINT (how to --list)."""
    from flinkctl.output.cluster import LOG_FILES

    if list_:
        if name is not None or tail is not None or follow:
            raise UsageError("--list takes no file NAME, --tail or --follow")
        inv.emit(files(), LOG_FILES)
        return
    try:
        stream(inv, [(None, lambda: read(name))], tail, follow)
    except NotFoundError as exc:
        exc.hint = exc.hint or hint
        raise


def stream(
    inv: Invocation,
    sources: Sequence[Source],
    tail: int | None,
    follow: bool,
    interval: float = 2.0,
) -> None:
    """Print each source's text (its last TAIL lines), then, with FOLLOW, what each adds every
    INTERVAL seconds (several sources are read concurrently). With several sources every line
    starts with `[label] `, whole lines only, as `kubectl logs` prefixes pods."""
    client = inv.client()
    prefix = len(sources) > 1
    seen = [0] * len(sources)  # characters of each source printed (or skipped by --tail)

    def write(i: int, text: str, start: int, whole_lines: bool) -> None:
        end = text.rfind("\n") + 1 if whole_lines else len(text)
        chunk = text[start:end]
        seen[i] = max(end, start)
        if prefix:
            label = f"[{sources[i][0]}] "
            chunk = "".join(f"{label}{line}\n" for line in chunk.splitlines())
        inv.io.write(chunk)

    texts = client.fan_out(lambda source: source[1](), sources)
    for i, text in enumerate(texts):
        lines = last(text.splitlines(keepends=True), tail)
        write(i, text, len(text) - sum(map(len, lines)), whole_lines=prefix and follow)
    inv.io.out.flush()
    while follow:
        time.sleep(interval)
        for i, text in enumerate(client.fan_out(lambda source: source[1](), sources)):
            if len(text) < seen[i]:  # rotated
                seen[i] = 0
            write(i, text, seen[i], whole_lines=prefix)
        inv.io.out.flush()
