"""Signals as exceptions: SIGTERM (what CI sends on cancel) and SIGHUP (a closed terminal) raise
in the main thread as Ctrl-C does, so that a command cleans up, says what it leaves and exits
143 or 130 (`exit_code`; `failures.run` turns both into one for every command). A signal the
process ignores (SIGHUP under `nohup`) stays ignored."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from types import FrameType
from typing import Any, NoReturn

_Handler = Callable[[int, FrameType | None], Any] | int | None  # what signal.signal returns


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt: what catches one catches both."""

    signum = signal.SIGTERM


class HungUp(KeyboardInterrupt):
    """SIGHUP (a closed terminal), raised as Ctrl-C is, and ending a run as Ctrl-C does."""

    signum = signal.SIGHUP


_KINDS = (Terminated, HungUp)  # what `interrupt` raises, by the signal each stands for
RAISED = tuple(kind.signum for kind in _KINDS)  # the signals raised as Ctrl-C is raised


def signal_of(exc: KeyboardInterrupt) -> int:
    """The signal behind an interruption: SIGTERM, SIGHUP, else Ctrl-C's SIGINT."""
    return int(getattr(exc, "signum", signal.SIGINT))


_seen: list[int] = []  # the signals `interrupt` raised, in order: the one record of them


def interrupt(signum: int, frame: object) -> NoReturn:
    """The handler that turns SIGNUM into an exception: SIGTERM into Terminated, SIGHUP into
    HungUp, another into KeyboardInterrupt. The process's handler of both (`flinkctl.cli.entry`
    installs it), and each `signals_interrupt` block's."""
    _seen.append(signum)
    raise next((kind for kind in _KINDS if kind.signum == signum), KeyboardInterrupt)


def catch(sig: signal.Signals) -> _Handler:
    """Make `interrupt` SIG's handler, unless the process ignores SIG; the handler it had."""
    ignored = signal.getsignal(sig) == signal.SIG_IGN
    return signal.SIG_IGN if ignored else signal.signal(sig, interrupt)


def exit_code(received: Collection[int], exc: BaseException | None = None) -> int:
    """The exit code of a run a signal stopped: 143 when SIGTERM was among RECEIVED or EXC (the
    interruption, when at hand) is Terminated; otherwise 130, as after Ctrl-C."""
    return 143 if signal.SIGTERM in received or isinstance(exc, Terminated) else 130


@contextlib.contextmanager
def signals_interrupt() -> Iterator[list[int]]:
    """Turn the RAISED signals into exceptions for the block (`interrupt`), but for one the
    process ignores (`nohup` ignores SIGHUP). Once the block is left, the list holds the
    signals raised meanwhile, a nested block's too. Off the main thread, where Python runs no
    handler, nothing changes."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    start = len(_seen)
    previous = {sig: catch(sig) for sig in RAISED}
    try:
        yield received
    finally:
        _restore(previous)
        received.extend(_seen[start:])


HELD = (signal.SIGINT, *RAISED)


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
