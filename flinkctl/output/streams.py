"""IO: the streams one run of flinkctl writes to, and what it knows about them.

Built once per run from the process's stdout and stderr (`IO.system`); `--watch` draws each
frame into a buffer of its own (`IO.buffer`), and tests may build one around StringIOs. Nothing
in flinkctl writes to `sys.stdout` or `sys.stderr` directly: it writes to an IO it was handed.
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stream-like object
        return False


@dataclass
class IO:
    """Where output goes: OUT (data) and ERR (notes, progress, errors), whether each is a
    terminal, whether colour is wanted (--no-color turns it off; NO_COLOR too, see `console`)
    and the width to draw to (None: the terminal's, as Rich finds it)."""

    out: TextIO
    err: TextIO
    out_is_terminal: bool = False
    err_is_terminal: bool = False
    color: bool = True
    width: int | None = None

    @classmethod
    def system(cls) -> IO:
        """The process's stdout and stderr. FLINKCTL_FORCE_TTY=1 makes flinkctl draw on stdout
        as on a terminal when piped (tests, benchmarks, `| less -R`)."""
        forced = os.environ.get("FLINKCTL_FORCE_TTY") == "1"
        return cls(
            out=sys.stdout,
            err=sys.stderr,
            out_is_terminal=forced or _isatty(sys.stdout),
            err_is_terminal=_isatty(sys.stderr),
        )

    @classmethod
    def strings(cls, **options: object) -> IO:
        """Two StringIOs (read them with `.out.getvalue()`), e.g. for a test or a frame."""
        return cls(out=io.StringIO(), err=io.StringIO(), **options)  # type: ignore[arg-type]

    def buffer(self) -> IO:
        """This IO drawing into one buffer of its own (both streams, as seen on a terminal): a
        frame of `--watch` (read it with `.out.getvalue()`)."""
        frame = _TerminalBuffer() if self.out_is_terminal else io.StringIO()
        return replace(self, out=frame, err=frame)

    def write(self, text: str) -> None:
        """TEXT on OUT, as is."""
        self.out.write(text)

    def line(self, text: str = "") -> None:
        """One line of data on OUT."""
        self.out.write(text + "\n")

    def say(self, text: str) -> None:
        """One line on ERR, flushed (a note, a warning, an error)."""
        self.err.write(text + "\n")
        self.err.flush()

    def console(self, stderr: bool = False) -> Console:
        """A Rich console on OUT (ERR with STDERR) honouring `color`, NO_COLOR and `width`."""
        from rich.console import Console

        no_color = not self.color or bool(os.environ.get("NO_COLOR"))
        return Console(
            file=self.err if stderr else self.out,
            no_color=no_color,
            highlight=False,
            soft_wrap=False,
            width=self.width,
        )


class _TerminalBuffer(io.StringIO):
    """Collects output while letting Rich believe it writes to the terminal."""

    def isatty(self) -> bool:
        return True
