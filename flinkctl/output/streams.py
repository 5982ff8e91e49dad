"""IO: the streams one run of flinkctl writes to, and what it knows about them.

Built once per run from the process's stdout and stderr (`IO.system`); `--watch` draws each
frame into a buffer of its own (`IO.buffer`), and tests may build one around StringIOs. Nothing
in flinkctl writes to `sys.stdout` or `sys.stderr` directly: it writes to an IO it was handed.
The program guards the process's streams first (`guard`): stdout that cannot be written raises
StdoutError, stderr that cannot be written is let go.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TextIO, cast

if TYPE_CHECKING:
    from rich.console import Console


class StdoutError(OSError):
    """Standard output cannot be written: closed, full, an I/O error (a closed pipe stays a
    BrokenPipeError: `| head` ends flinkctl quietly, see failures.run)."""


class _Guarded:
    """The process's stdout or stderr (STREAM; None when it was closed at start), as `guard`
    installs it. A write or flush that fails raises StdoutError on stdout (a closed pipe as is);
    on stderr (LOSSY) it is let go, and stderr then points at /dev/null (`silence`): a message
    that cannot be written never changes the exit code."""

    def __init__(self, stream: TextIO | None, lossy: bool) -> None:
        self.stream = stream
        self.lossy = lossy

    def write(self, text: str) -> int:
        return self._call("write", text) or 0

    def flush(self) -> None:
        self._call("flush")

    def isatty(self) -> bool:
        return self.stream is not None and _isatty(self.stream)

    def __getattr__(self, name: str) -> Any:  # encoding, fileno, buffer, ...: STREAM's own
        return getattr(self.stream, name)

    def _call(self, method: str, *args: Any) -> Any:
        try:
            if self.stream is None:
                if any(args):
                    raise OSError(errno.EBADF, os.strerror(errno.EBADF))
                return None
            return getattr(self.stream, method)(*args)
        except (OSError, ValueError) as exc:  # ValueError: a closed file
            if self.lossy:
                silence(self)
                return None
            if isinstance(exc, BrokenPipeError):
                raise
            reason = getattr(exc, "strerror", None) or str(exc)
            raise StdoutError(getattr(exc, "errno", None), reason) from exc


def guard() -> None:
    """Put the process's stdout and stderr behind `_Guarded` (once): the program's first step."""
    if not isinstance(sys.stdout, _Guarded):
        sys.stdout = cast(TextIO, _Guarded(sys.stdout, lossy=False))
    if not isinstance(sys.stderr, _Guarded):
        sys.stderr = cast(TextIO, _Guarded(sys.stderr, lossy=True))


def silence(stream: TextIO | _Guarded) -> None:
    """Point STREAM's file descriptor at /dev/null (none: left alone), so that what it still
    buffers is flushed there, quietly, when the interpreter exits."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # closed at start, or no descriptor
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


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
