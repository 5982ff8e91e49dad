"""The CLI side of waiting: --wait/--timeout, a spinner on stderr, Ctrl-C and timeout hints.

The polling itself is flinkctl.client.poller; this module adds what a person or a CI log sees.
Ctrl-C stops waiting, never the operation, and prints the command that resumes the wait.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from flinkctl.cli.common.options import duration_option, options_from
from flinkctl.cli.invocation import Invocation
from flinkctl.errors import NotFoundError, WaitTimeout

if TYPE_CHECKING:
    from flinkctl.output.streams import IO

T = TypeVar("T")
WAIT_TIMEOUT = 600.0  # --timeout's default: how long --wait waits, seconds

WaitOption = Annotated[bool, typer.Option("--wait", help="Wait until the operation completes.")]
TimeoutOption = Annotated[
    float,
    duration_option(
        "--timeout",
        help="With --wait: give up waiting after this long (seconds, or 45s, 30m, 2h; 0: wait "
        "forever); exit 8.",
    ),
]


@dataclass(frozen=True)
class Wait:
    """--wait and --timeout: whether the command waits for what it started, and for how many
    seconds at most (0: forever)."""

    wanted: bool
    timeout: float


def _wait(wait: WaitOption = False, timeout: TimeoutOption = WAIT_TIMEOUT) -> Wait:
    return Wait(wait, timeout)


# `@with_wait`: --wait and --timeout in place of the command's `wait: Wait` parameter
with_wait = options_from(_wait, into="wait")


def waiting(
    inv: Invocation,
    what: str,
    poll: Callable[[Any], T],
    *,
    timeout: float,
    resume: str | None,
) -> T:
    """Run POLL(poller) with a spinner on INV's stderr when it is a terminal; turn Ctrl-C,
    timeout and 404 into hints.

    WHAT names the operation ("savepoint of job 1f2e..."); RESUME is the command that resumes
    the wait (None when the operation has no status command).
    """
    from flinkctl.client.poller import Poller

    resume_hint = f"resume waiting with: {resume}" if resume else None
    with _Spinner(what, inv.io) as spinner:
        poller = Poller(timeout, on_tick=spinner.tick)
        try:
            return poll(poller)
        except KeyboardInterrupt:
            spinner.stop()
            inv.io.say(f"stopped waiting; the {what} goes on on the cluster")
            if resume_hint:
                inv.io.say(f"hint: {resume_hint}")
            raise
        except WaitTimeout as exc:
            exc.hint = resume_hint
            raise
        except NotFoundError as exc:
            raise NotFoundError(
                f"the {what} can no longer be followed: {exc.message}",
                hint="the job may have ended or the JobManager restarted",
                status=exc.status,
                flink=exc.flink,
            ) from exc


def since(started: float) -> int:
    """Milliseconds since the monotonic time STARTED."""
    return int((time.monotonic() - started) * 1000)


def spinner(io: "IO", text: Any) -> Any:
    """A started, transient Rich spinner on IO's stderr beside TEXT (drawn with its
    `__rich__`, 8 times a second); None when stderr is not a terminal. Stop it with `.stop()`."""
    if not io.err_is_terminal:
        return None
    from rich.live import Live
    from rich.spinner import Spinner

    live = Live(
        Spinner("dots", text=text),
        console=io.console(stderr=True),
        transient=True,
        refresh_per_second=8,
    )
    live.start()
    return live


class _Spinner:
    """A transient Rich spinner with elapsed time on stderr, only when stderr is a terminal."""

    def __init__(self, what: str, io: "IO") -> None:
        self.what = what
        self.io = io
        self.status = ""
        self.started = time.monotonic()
        self.live: Any = None

    def __enter__(self) -> "_Spinner":
        self.live = spinner(self.io, self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def tick(self, elapsed: float, body: Any) -> None:
        if isinstance(body, dict):
            status = (body.get("status") or {}) if isinstance(body.get("status"), dict) else {}
            self.status = str(status.get("id") or body.get("state") or "")

    def __rich__(self) -> Any:
        from rich.text import Text

        from flinkctl.output.humanize import duration

        elapsed = duration((time.monotonic() - self.started) * 1000)
        status = f" {self.status}" if self.status else ""
        return Text(f"waiting for the {self.what}{status} ({elapsed}; Ctrl-C stops waiting)")


def until_job_ended(inv: Invocation, jid: str, what: str, timeout: float) -> str:
    """Wait until job JID has left its running states (after a cancel or a stop); its state."""
    from flinkctl.flink import ENDED_STATES

    client = inv.client()
    body = waiting(
        inv,
        f"{what} of job {jid}",
        lambda p: p.until(
            lambda: client.job(jid), lambda j: j.get("state") in ENDED_STATES, what=what
        ),
        timeout=timeout,
        resume=None,
    )
    return body.get("state")
