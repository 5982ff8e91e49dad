"""Confirmation for destructive commands."""

import sys

import typer

from flinkctl.errors import UsageError


def confirm(question: str, yes: bool) -> None:
    """Ask QUESTION on a terminal; without a terminal, require --yes (exit 2 otherwise)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("refusing to act without confirmation", hint="pass --yes to confirm")
    if not typer.confirm(question, default=False, err=True):
        raise typer.Exit(1)
