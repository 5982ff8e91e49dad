"""Confirmation for destructive commands."""

import sys
from typing import Annotated

import typer

from flinkctl.errors import UsageError

YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def confirm(question: str, yes: bool) -> None:
    """Ask QUESTION on a terminal; without a terminal, require --yes (exit 2 otherwise)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("refusing to act without confirmation", hint="pass --yes to confirm")
    if not typer.confirm(question, default=False, err=True):
        raise typer.Exit(1)
