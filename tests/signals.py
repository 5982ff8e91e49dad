"""A real flinkctl process signalled at a known step: the helpers of the tests of Ctrl-C and
SIGTERM (tests/test_interrupts.py, and the `local demo` ones in tests/test_local.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from conftest import FaultServer

# How long after the request that puts it there a process is signalled: the state under test
# (a stalled upload, a wait, a watch, retries, a stop) lasts until then, and longer.
SETTLE = 0.1


def start(
    *args: str,
    stdout=subprocess.PIPE,
    budget: str | None = "1",
    ignored: tuple[signal.Signals, ...] = (),
) -> subprocess.Popen:
    """flinkctl ARGS in a process of its own, with Ctrl-C's default meaning (a test runner in
    the background may have SIGINT ignored, which a child would inherit) and the IGNORED
    signals ignored (as `nohup` ignores SIGHUP)."""
    env = {k: v for k, v in os.environ.items() if k != "FLINKCTL_RETRY_BUDGET"}
    if budget is not None:
        env["FLINKCTL_RETRY_BUDGET"] = budget

    def dispositions() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        for sig in ignored:
            signal.signal(sig, signal.SIG_IGN)

    return subprocess.Popen(
        [sys.executable, "-m", "flinkctl", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=dispositions,
    )


def interrupt(
    proc: subprocess.Popen,
    server: FaultServer,
    path: str,
    *,
    count: int = 1,
    sig: signal.Signals = signal.SIGINT,
    release: threading.Event | None = None,
):
    """SIG (SIGINT) to PROC once COUNT requests for PATH (a prefix) reached SERVER, and SETTLE s
    more; then RELEASE the answers SERVER holds back, if any. Its exit code, stdout, stderr,
    and how long it took to exit (killed if it does not)."""
    try:
        assert server.wait_for(path, count), f"the process never got there: {proc.stderr}"
        time.sleep(SETTLE)
        proc.send_signal(sig)
        sent = time.monotonic()
        out, err = proc.communicate(timeout=30)
        return proc.returncode, out, err, time.monotonic() - sent
    finally:
        if release is not None:
            release.set()
        if proc.poll() is None:
            proc.kill()
