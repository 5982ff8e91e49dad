"""OutputFormat: what `-o` chose, and what each format means for a run (which stream carries
notes, whether the data prints as a document). The one place that spells the formats' names:
everything else asks a member (`fmt.is_human`, `fmt is OutputFormat.WIDE`); a test in
tests/test_layers.py keeps string comparisons of the format out."""

from __future__ import annotations

from flinkctl.errors import UsageError
from flinkctl.strenum import StrEnum


class OutputFormat(StrEnum):
    """An output format. Its value is what `-o` takes (custom-columns takes `=NAME:EXPR,...`,
    parsed into `Settings.columns`; DOT only where a command offers it, see `with_output`)."""

    TABLE = "table"
    WIDE = "wide"
    JSON = "json"
    JSONL = "jsonl"
    YAML = "yaml"
    NAME = "name"
    CUSTOM_COLUMNS = "custom-columns"
    DOT = "dot"  # Graphviz, printed by the plan commands themselves

    @property
    def is_human(self) -> bool:
        """A table for people (table, wide): status lines and progress go to stderr."""
        return self in (OutputFormat.TABLE, OutputFormat.WIDE)

    @property
    def is_document(self) -> bool:
        """The data itself, as a document (json, jsonl, yaml): not a view of it; --query
        applies to it."""
        return self in (OutputFormat.JSON, OutputFormat.JSONL, OutputFormat.YAML)

    @property
    def is_json(self) -> bool:
        """JSON (json, jsonl): errors print as a JSON object, --watch as JSON Lines."""
        return self in (OutputFormat.JSON, OutputFormat.JSONL)

    @classmethod
    def choose(cls, text: str, extra: tuple[OutputFormat, ...] = ()) -> OutputFormat:
        """The format `-o TEXT` names among FORMATS and a command's EXTRA ones (exit 2 for
        another, naming the choices); custom-columns=... is parsed by the caller."""
        offered = FORMATS + extra
        for fmt in offered:
            if text == fmt.value:
                return fmt
        choices = ", ".join([f.value for f in offered] + ["custom-columns=NAME:EXPR,..."])
        raise UsageError(f"unknown output format {text!r} (choose from {choices})")


# the formats every command takes, in the order help texts and errors list them
FORMATS = (
    OutputFormat.TABLE,
    OutputFormat.WIDE,
    OutputFormat.JSON,
    OutputFormat.JSONL,
    OutputFormat.YAML,
    OutputFormat.NAME,
)
