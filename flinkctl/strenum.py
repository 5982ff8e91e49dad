"""StrEnum: Python 3.11's enum.StrEnum for 3.10, for flinkctl's words (deploy results, step
statuses, health verdicts, upgrade modes). A member is its value: it equals the string, prints
as it ("deployed", not "Result.DEPLOYED") in f-strings and messages, and serialises as it. No
typer or rich here."""

from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):
    """A str-valued Enum whose members print as their values."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)
