"""Reading a YAML file a user wrote (the config file, `deploy -f`): at most MAX_BYTES of UTF-8
text, a mapping's key once, and a problem told in one line with the file and the line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yaml import Node, SafeLoader

MAX_BYTES = 4 << 20  # such a file is a few lines; this stops `--config /dev/zero`


class Malformed(ValueError):
    """A file that is not what `read` and `parse` take: WHERE (`PATH:LINE`, or PATH) and the
    PROBLEM."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


def read(path: Path) -> tuple[str, int]:
    """The text of the file at PATH and its mode; OSError if it cannot be read, Malformed
    when it is larger than MAX_BYTES or not UTF-8 text (a byte-order mark is dropped)."""
    import os

    with path.open("rb") as fh:
        data = fh.read(MAX_BYTES + 1)
        mode = os.fstat(fh.fileno()).st_mode
    if len(data) > MAX_BYTES:
        raise Malformed(str(path), f"larger than {MAX_BYTES >> 20} MiB")
    try:
        return data.decode("utf-8-sig"), mode
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise Malformed(
            f"{path}:{line}", f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def parse(text: str, path: Path | str) -> tuple[Node | None, Any]:
    """TEXT's one YAML document: its node (for the lines of its keys) and its value, as
    `yaml.safe_load` reads it but that a mapping's key given twice is Malformed too."""
    import yaml

    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, None
            _unique_keys(loader, node)
            return node, loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
            mark = yaml.Mark(str(path), exc.position, text.count("\n", 0, exc.position), 0, None, 0)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise Malformed(where, problem) from exc
    except RecursionError:  # `[[[[...` a thousand deep: a few KB that no config needs
        raise Malformed(str(path), "nested too deeply") from None


def _unique_keys(loader: SafeLoader, root: Node) -> None:
    """ConstructorError at the first mapping of ROOT's tree that has a key twice, as written
    (PyYAML keeps the last silently). Checked before construction, which folds merged keys
    (`<<: *base`, which a mapping may override) into the mappings that merge them."""
    import yaml

    nodes, visited = [root], set()
    while nodes:  # not recursive: a document may be deep
        node = nodes.pop()
        if id(node) in visited:  # an alias, met again
            continue
        visited.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            nodes.extend(node.value)
        if not isinstance(node, yaml.MappingNode):
            continue
        seen: dict[object, int] = {}
        for key_node, value_node in node.value:
            nodes.append(value_node)
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(
                key_node, yaml.ScalarNode
            ):
                continue
            key = loader.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"duplicate key {key!r} (first on line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
