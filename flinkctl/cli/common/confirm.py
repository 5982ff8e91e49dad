"""Confirmation for destructive commands."""

import sys
from typing import Annotated

import typer

from flinkctl.cli.invocation import Invocation
from flinkctl.errors import UsageError

YesOption = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Do not ask for confirmation.", envvar="FLINKCTL_YES"),
]


def confirm(inv: Invocation, question: str, yes: bool) -> None:
    """Ask QUESTION on INV's stderr, a terminal's answer on stdin; without a terminal, require
    --yes (exit 2 otherwise).
    Declining prints "aborted" and exits 1."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            "refusing to act without confirmation", hint="pass --yes (or set FLINKCTL_YES=1)"
        )
    # Click's prompt writes its last space to stdout, which carries data only: ask on stderr
    inv.io.err.write(f"{question} [y/N]: ")
    inv.io.err.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        inv.io.say("aborted")
        raise typer.Exit(1)
