"""Signals as exceptions: SIGTERM (what CI sends on cancel) and SIGHUP (a closed terminal) raise
in the main thread as Ctrl-C does, so that a command cleans up, says what it leaves and exits
143 or 130 (`failures.run` turns SIGTERM into one for every command)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


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
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def held_back() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back for the block (a file being replaced, processes
    being stopped): they take effect right after it (main thread only)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        yield
        return
    previous = signal.pthread_sigmask(
        signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    )
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
