"""Signals as exceptions: SIGTERM (what CI sends on cancel) and SIGHUP (a closed terminal) raise
in the main thread as Ctrl-C does, so that a command cleans up, says what it leaves and exits
143 or 130 (`failures.run` turns SIGTERM into one for every command)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from types import FrameType
from typing import Any

_Handler = Callable[[int, FrameType | None], Any] | int | None  # what signal.signal returns


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt: what catches one catches both."""


def raise_terminated(signum: int, frame: object) -> None:
    """The process's SIGTERM handler (`flinkctl.cli.entry` installs it): raise Terminated."""
    raise Terminated


@contextlib.contextmanager
def signals_interrupt(
    signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGHUP),
) -> Iterator[list[int]]:
    """Turn SIGNALS into exceptions for the block: SIGTERM into Terminated, another (SIGHUP)
    into KeyboardInterrupt. The list collects the signals seen. Off the main thread, where
    Python runs no handler, nothing changes."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def interrupt(signum: int, frame: object) -> None:
        received.append(signum)
        raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in signals}
    try:
        yield received
    finally:
        _restore(previous)


HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def held_back() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back for the block (a file being replaced, processes
    being stopped, a module being imported, a report being printed): the first that arrives
    meanwhile is raised again right after it, to the handler it would have met. Not a signal
    mask: another thread (an HTTP server, a pool) would take the signal for the main thread.
    In the main thread only; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _: pending.append(signum)) for sig in HELD}
    try:
        yield
    finally:
        _restore(previous)
        if pending:
            signal.raise_signal(pending[0])


def _restore(previous: Mapping[signal.Signals, _Handler]) -> None:
    """Put the handlers back (None: one installed outside Python, the default then)."""
    for sig, handler in previous.items():
        signal.signal(sig, signal.SIG_DFL if handler is None else handler)
