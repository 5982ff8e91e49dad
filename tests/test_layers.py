"""The layers of CONTRIBUTING.md ("Layout"), checked on the source: flinkctl/client/ is the
only code that knows REST paths, client/ and output/ never import each other, the library layers
(client/, config.py, flink.py, local/, catalog.py, sensitive.py, durations.py) never import
typer or rich, and workflows/ imports neither those nor the CLI or output."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "flinkctl"
CLIENT = PACKAGE / "client"
OUTPUT = PACKAGE / "output"
LIBRARY = [
    CLIENT,
    PACKAGE / "config.py",
    PACKAGE / "flink.py",
    PACKAGE / "local",
    PACKAGE / "catalog.py",
    PACKAGE / "sensitive.py",
    PACKAGE / "durations.py",
]
# the verbs of a generic request, on a receiver that is a client or an HTTP transport
REQUEST_METHODS = {"get", "request", "_get", "_send", "post", "put", "patch", "delete"}
TRANSPORT = re.compile(r"(?:\b|_)(?:client|http)(?:\(\))?$")


def sources(under: Path = PACKAGE) -> list[Path]:
    return sorted(under.rglob("*.py")) if under.is_dir() else [under]


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', '?')}"


def docstrings(tree: ast.Module) -> set[int]:
    """ids of the docstring nodes (help texts name endpoints; that is fine)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def string_pieces(tree: ast.Module) -> Iterator[tuple[ast.AST, str]]:
    """Every string literal and every literal part of an f-string, docstrings left out."""
    skip = docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node, node.value


def path_segments() -> set[str]:
    """The literal segments of the REST paths the client requests ("jobs", "metrics", ...)."""
    segments: set[str] = set()
    for path in sources(CLIENT):
        for _, text in string_pieces(parse(path)):
            if text.startswith("/"):
                pieces = text.split("?")[0].split("/")
                segments.update(s for s in pieces if re.fullmatch(r"[a-z][\w-]*", s))
    return segments


SEGMENTS = path_segments()
REST_PATH = re.compile(rf"^/(?:{'|'.join(map(re.escape, sorted(SEGMENTS)))})(?:[/?]|$)")


def test_the_segments_come_from_the_client():
    roots = {"jobs", "jars", "taskmanagers", "jobmanager", "overview", "config", "cluster"}
    assert roots | {"savepoint-disposal", "datasets", "applications", "metrics"} <= SEGMENTS


def imports(tree: ast.Module) -> Iterator[tuple[ast.AST, str]]:
    """(node, module) for every import, at the top or inside a function."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node, node.module


def _outside_client() -> list[Path]:
    return [p for p in sources() if CLIENT not in p.parents]


@pytest.mark.parametrize("path", _outside_client(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_rest_path_outside_the_client(path):
    tree = parse(path)
    found = [
        f"{where(path, node)}: {text!r}"
        for node, text in string_pieces(tree)
        if REST_PATH.match(text)
    ]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in REQUEST_METHODS
            and TRANSPORT.search(ast.unparse(node.func.value))
        ):
            found.append(f"{where(path, node)}: {ast.unparse(node)}")
    assert not found, "REST paths belong in flinkctl/client (one method per endpoint):\n" + (
        "\n".join(found)
    )


@pytest.mark.parametrize(
    "layer, other",
    [(CLIENT, "flinkctl.output"), (OUTPUT, "flinkctl.client")],
    ids=["client", "output"],
)
def test_client_and_output_do_not_import_each_other(layer, other):
    found = [
        f"{where(path, node)}: {module}"
        for path in sources(layer)
        for node, module in imports(parse(path))
        if module == other or module.startswith(other + ".")
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("layer", LIBRARY, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_library_layers_import_no_typer_or_rich(layer):
    found = [
        f"{where(path, node)}: {module}"
        for path in sources(layer)
        for node, module in imports(parse(path))
        if module.split(".")[0] in ("typer", "rich", "click")
    ]
    assert not found, "\n".join(found)


def test_the_domain_module_sits_below_everything():
    path = PACKAGE / "flink.py"
    found = [
        f"{where(path, node)}: {module}"
        for node, module in imports(parse(path))
        if module.split(".")[0] in ("flinkctl", "httpx", "yaml", "typer", "rich")
    ]
    assert not found, "\n".join(found)


def test_workflows_import_neither_the_cli_nor_output_nor_typer_and_rich():
    """workflows/ sits under cli/ and beside output/: it reports through plain objects."""
    found = []
    for path in sources(PACKAGE / "workflows"):
        for node in ast.walk(parse(path)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in ("typer", "rich") or name.split(".")[:2] in (
                    ["flinkctl", "cli"],
                    ["flinkctl", "output"],
                ):
                    found.append(f"{where(path, node)} imports {name}")
    assert found == []
