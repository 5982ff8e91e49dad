"""Log files shared by `jobmanager logs` and `taskmanagers logs`: list, print, tail, follow."""

from __future__ import annotations

import sys
import time

from flinkctl.cli.state import state
from flinkctl.errors import UsageError


def show(prefix: str, name: str | None, tail: int | None, follow: bool, interval: float = 2.0) -> None:
    """Without NAME list PREFIX's log files; with it print the file (last TAIL lines, --follow)."""
    from flinkctl.output import render
    from flinkctl.output.cluster import LOG_FILES

    client = state.client()
    if name is None:
        if tail is not None or follow:
            raise UsageError("--tail and --follow need a log file NAME")
        render(client.log_list(prefix), LOG_FILES)
        return
    if tail is not None and tail < 0:
        raise UsageError("--tail must be zero or more")
    text = client.log_file(prefix, name)
    lines = text.splitlines(keepends=True)
    if tail is not None:
        lines = lines[-tail:] if tail else []
    sys.stdout.write("".join(lines))
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
