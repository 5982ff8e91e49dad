"""YAML text of plain JSON data, byte for byte what PyYAML's safe_dump writes, several times faster.

PyYAML represents every scalar through Python code even with libyaml (10,000 checkpoints: ~2 s).
Flink's REST bodies are plain data: dicts, lists, str, int, float, bool and None. `dump` writes
them in PyYAML's block style (indent 2, sequences in mappings not indented, empty collections as
`{}`/`[]`) while every string is one PyYAML writes plain and cannot wrap; for anything else (a
string to quote or long enough to wrap, a non-str key, a shared container) it returns None and
the caller lets PyYAML write the document.
"""

from __future__ import annotations

import re
from typing import Any

WIDTH = 80  # PyYAML's best_width: plain scalars with spaces wrap past it
SIMPLE_KEY = 128  # longer keys are written as `? key`

# letters, digits and a few punctuation marks that start no YAML indicator, single spaces
# inside; a colon never before a space or at the end
_CHAR = r"[\w./()+=@-]|:(?=[\w./()+=@:-])"
_PLAIN = re.compile(rf"[\w(](?:{_CHAR})*(?: (?:{_CHAR})+)*")
_STR = "tag:yaml.org,2002:str"


class _Unplain(Exception):
    """A value this emitter leaves to PyYAML."""


def dump(data: Any) -> str | None:
    """The YAML of DATA as yaml.dump(..., SafeDumper, sort_keys=False, default_flow_style=False,
    allow_unicode=True) writes it; None when DATA needs PyYAML."""
    if not isinstance(data, (dict, list)) or not data:
        return None
    emitter = _Emitter()
    try:
        if isinstance(data, dict):
            emitter.mapping(data, 0, "")
        else:
            emitter.sequence(data, 0, "")
    except _Unplain:
        return None
    return "\n".join(emitter.lines) + "\n"


class _Emitter:
    def __init__(self) -> None:
        from yaml.nodes import ScalarNode
        from yaml.resolver import Resolver

        self.lines: list[str] = []
        self.seen: set[int] = set()
        self.texts: dict[str, str | None] = {}
        self._resolver, self._node = Resolver(), ScalarNode

    def mapping(self, data: dict, indent: int, lead: str) -> None:
        """DATA's entries at INDENT, the first after LEAD (the `- ` of a sequence item)."""
        self._once(data)
        pad = " " * indent
        for key, value in data.items():
            text = self._text(key) if isinstance(key, str) and len(key) < SIMPLE_KEY else None
            if text is None:
                raise _Unplain
            head = f"{lead or pad}{text}:"
            lead = ""
            if isinstance(value, dict) and value:
                self.lines.append(head)
                self.mapping(value, indent + 2, "")
            elif isinstance(value, list) and value:
                self.lines.append(head)
                self.sequence(value, indent, "")
            else:
                self.lines.append(f"{head} {self.scalar(value, len(head) + 1)}")

    def sequence(self, data: list, indent: int, lead: str) -> None:
        """DATA's items at INDENT, the first after LEAD."""
        self._once(data)
        pad = " " * indent
        for item in data:
            head = f"{lead or pad}- "
            lead = ""
            if isinstance(item, dict) and item:
                self.mapping(item, indent + 2, head)
            elif isinstance(item, list) and item:
                self.sequence(item, indent + 2, head)
            else:
                self.lines.append(head + self.scalar(item, len(head)))

    def scalar(self, value: Any, column: int) -> str:
        """VALUE as PyYAML writes it starting at COLUMN."""
        if isinstance(value, str):
            text = self._text(value)
            if text is None or len(text) + column > WIDTH and " " in text:
                raise _Unplain
            return text
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return _float(value)
        if isinstance(value, dict):
            self._once(value)
            return "{}"
        if isinstance(value, list):
            self._once(value)
            return "[]"
        raise _Unplain

    def _text(self, value: str) -> str | None:
        """VALUE as PyYAML writes it: plain, or in single quotes when plain it would read back
        as another type ('123', 'true', ''); None when PyYAML would do something else."""
        if value in self.texts:
            return self.texts[value]
        text = None
        if value == "":
            text = "''"
        elif _PLAIN.fullmatch(value) and (value.isascii() or max(value) <= "\uffff"):  # libyaml
            # escapes characters beyond the Basic Multilingual Plane
            plain = self._resolver.resolve(self._node, value, (True, False)) == _STR
            text = value if plain else f"'{value}'"
        self.texts[value] = text
        return text

    def _once(self, container: Any) -> None:
        """PyYAML anchors a container met twice: leave such data to it."""
        if id(container) in self.seen:
            raise _Unplain
        self.seen.add(id(container))


def _float(value: float) -> str:
    """SafeRepresenter.represent_float."""
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text
