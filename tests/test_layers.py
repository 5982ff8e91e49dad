"""The layers of CONTRIBUTING.md ("Layout"), checked on the source: flinkctl/client/ is the
only code that knows REST paths, client/ and output/ never import each other, the library layers
(client/, config.py, flink.py, local/, catalog.py, sensitive.py, durations.py, strenum.py,
signals.py) never import typer or rich, and workflows/ imports neither those nor the CLI or
output."""

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
    PACKAGE / "strenum.py",
    PACKAGE / "signals.py",
    PACKAGE / "workflows",
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


# Flink's request-body keys (and the multipart request of POST /jobs): the client spells them,
# in flinkctl/client/requests.py (Program, Restore) and its trigger methods; everything else says
# what it wants with those objects and keyword arguments. Left out, as they are also keys of
# Flink's answers that other code reads: parallelism, the resource requirements' upperBound and
# lowerBound (sent back as GET answers them), drain and savepoint-path (names of flinkctl's own).
REQUEST_KEYS = {
    # POST /jars/:jarid/plan, run, run-application
    "programArgsList",
    "programArgs",
    "entryClass",
    "flinkConfiguration",
    "savepointPath",
    "claimMode",
    "restoreMode",
    "allowNonRestoredState",
    "jobId",
    # asynchronous triggers: savepoints, stop-with-savepoint, checkpoints
    "triggerId",
    "target-directory",
    "targetDirectory",
    "cancel-job",
    "formatType",
    "checkpointType",
    # POST /jobs
    "jobGraphFileName",
    "jobJarFileNames",
    "jobArtifactFileNames",
}


def request_keys(tree: ast.Module) -> Iterator[tuple[ast.AST, str]]:
    """The string literals of TREE that are a Flink request-body key (docstrings left out)."""
    return ((node, text) for node, text in string_pieces(tree) if text in REQUEST_KEYS)


def test_the_request_key_check_finds_a_body_built_by_hand():
    tree = ast.parse('''
def run(client, jar, args):
    """Sends programArgsList: a help text may name it."""
    body = {"entryClass": "x.Y"}
    body["programArgsList"] = list(args)
    return client.run_jar(jar, body, note=f"{len(args)} programArgs")
''')
    assert [text for _, text in request_keys(tree)] == ["entryClass", "programArgsList"]


def _speakers() -> list[Path]:
    """Modules that could send a request: not the client, not the views (they read answers,
    whose keys may share a name with a request's)."""
    return [p for p in _outside_client() if OUTPUT not in p.parents]


@pytest.mark.parametrize("path", _speakers(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_request_body_key_outside_the_client(path):
    found = [f"{where(path, node)}: {text!r}" for node, text in request_keys(parse(path))]
    assert not found, (
        "Flink's request-body keys belong in flinkctl/client (build a "
        "flinkctl.client.requests object, or pass the client method's keyword arguments):\n"
        + "\n".join(found)
    )


# -- explicit dependencies: the invocation and its streams are handed down, never looked up ----


def attribute_uses(tree: ast.Module, owner: str, name: str) -> list[ast.AST]:
    """The nodes of TREE that read OWNER.NAME (e.g. Invocation.current, sys.stdout)."""
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == name
        and isinstance(node.value, ast.Name)
        and node.value.id == owner
    ]


def test_no_module_looks_the_invocation_up():
    """Command bodies take the invocation as `inv` (cli/common/options.py's `with_invocation`
    hands it over); nothing calls Invocation.current(), which is gone."""
    from flinkctl.cli.invocation import Invocation

    assert not hasattr(Invocation, "current")
    found = [
        where(path, node)
        for path in sources()
        for node in attribute_uses(parse(path), "Invocation", "current")
    ]
    assert found == []


def test_only_the_typer_adapter_reads_clicks_current_context():
    adapter = PACKAGE / "cli" / "common" / "options.py"
    found = [
        str(path.relative_to(PACKAGE))
        for path in sources()
        if path != adapter and "get_current_context" in path.read_text(encoding="utf-8")
    ]
    assert found == []


def test_output_keeps_no_state_in_context_variables():
    """Colour, -o wide and the streams travel as arguments (IO, Page), not in ContextVars."""
    found = [
        f"{where(path, node)}: {module}"
        for path in sources(OUTPUT)
        for node, module in imports(parse(path))
        if module == "contextvars"
    ]
    assert found == []


def test_watch_draws_into_its_own_buffer():
    """--watch renders each frame into an IO of its own (IO.buffer), not by redirecting stdout."""
    text = (PACKAGE / "cli" / "common" / "watching.py").read_text(encoding="utf-8")
    assert "redirect_stdout" not in text.replace("redirect_stdout=False", "")
    assert "redirect_stderr" not in text


# the modules that may touch the process's streams: IO.system, failures.run's closed-pipe
# handling, main's flush before os._exit
PROCESS_STREAMS = {
    OUTPUT / "streams.py",
    PACKAGE / "cli" / "common" / "failures.py",
    PACKAGE / "cli" / "main.py",
}


@pytest.mark.parametrize(
    "path",
    [p for p in sources(OUTPUT) + sources(PACKAGE / "cli") if p not in PROCESS_STREAMS],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_views_and_commands_write_to_the_invocations_streams(path):
    tree = parse(path)
    found = [
        f"{where(path, node)}: {ast.unparse(node)}"
        for stream in ("stdout", "stderr")
        for node in attribute_uses(tree, "sys", stream)
    ]
    found += [
        f"{where(path, node)}: {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "print"
        or isinstance(node, ast.Call)
        and ast.unparse(node.func) == "typer.echo"
    ]
    assert not found, "write to inv.io / a Page's io instead:\n" + "\n".join(found)


# -- the output format is an OutputFormat: its members say what a format means ----------------

FORMAT_NAMES = {
    "table", "wide", "json", "jsonl", "yaml", "name", "custom-columns", "dot",
}  # fmt: skip
FORMAT_SUBJECT = re.compile(r"(?:\b|_)(?:format|fmt)(?:\.value)?$")  # fmt, inv.output.format


def _format_literal(node: ast.AST) -> bool:
    """NODE is a format's name ("wide"), or a tuple, list or set literal holding one."""
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_format_literal(e) for e in node.elts)
    return isinstance(node, ast.Constant) and node.value in FORMAT_NAMES


def format_comparisons(tree: ast.Module) -> Iterator[ast.AST]:
    """The comparisons of an output format with a string: `fmt == "json"`, `settings.format in
    ("table", "wide")`, `"yaml" != inv.output.format`; and the tuples of format names
    (`HUMAN = ("table", "wide")`, then `fmt in HUMAN`)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_format_literal(o) for o in operands) and any(
                FORMAT_SUBJECT.search(ast.unparse(o)) for o in operands
            ):
                yield node
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            names = [e for e in node.elts if _format_literal(e)]
            if len(names) >= 2:
                yield node


def test_the_format_check_finds_a_format_compared_with_a_string():
    tree = ast.parse("""
def note(inv, fmt, settings, text):
    if inv.output.format in ("table", "wide"):
        pass
    if fmt != "jsonl" or "yaml" == settings.format or fmt.value == "dot":
        pass
    HUMAN = ["table", "wide"]
    if fmt is OutputFormat.WIDE or fmt.is_human or text == "json" or kind in ("name", "id"):
        pass
""")
    found = {ast.unparse(node) for node in format_comparisons(tree)}
    assert found == {
        "inv.output.format in ('table', 'wide')",
        "('table', 'wide')",
        "fmt != 'jsonl'",
        "'yaml' == settings.format",
        "fmt.value == 'dot'",
        "['table', 'wide']",
    }


@pytest.mark.parametrize(
    "path",
    [p for p in sources() if p != OUTPUT / "formats.py"],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_no_module_compares_the_output_format_with_a_string(path):
    """Settings.format is an OutputFormat (output/formats.py, the one module that spells the
    formats' names): ask it (`fmt.is_human`, `fmt.is_document`, `fmt is OutputFormat.WIDE`)."""
    found = [
        f"{where(path, node)}: {ast.unparse(node)}" for node in format_comparisons(parse(path))
    ]
    assert not found, "compare with OutputFormat's members or properties:\n" + "\n".join(found)


def test_the_format_names_are_output_formats():
    from flinkctl.output.formats import OutputFormat

    assert {f.value for f in OutputFormat} == FORMAT_NAMES
