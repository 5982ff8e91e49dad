"""The README stays true: exit codes match errors.py, the quick start has exactly two lines, links
(also CONTRIBUTING's and CHANGELOG's) resolve, every environment variable is documented, and the
Python example runs against the real API."""

import ast
import inspect
import re
import sys
from pathlib import Path

import pytest

from flinkctl.errors import EXIT_CODE_MEANINGS

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def test_exit_code_table_matches_errors_py():
    table = README.split("<!-- BEGIN EXIT CODES -->")[1].split("<!-- END EXIT CODES -->")[0]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", table, re.M)
    assert {int(code): meaning for code, meaning in rows} == {
        int(code): meaning for code, meaning in EXIT_CODE_MEANINGS.items()
    }


def test_the_severity_order_matches_errors_py():
    from flinkctl.errors import SEVERITY

    order = README.split("<!-- BEGIN SEVERITY -->")[1].split("<!-- END SEVERITY -->")[0]
    assert [int(code) for code in order.split(", ")] == [int(code) for code in SEVERITY]


def test_quick_start_is_two_copy_paste_lines():
    section = README.split("## Quick start")[1].split("\n## ")[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert [b.strip() for b in blocks] == [
        "pip install . && flinkctl local up --demo && flinkctl jobs list",
        "scripts/test",
    ]


def test_the_command_reference_lives_in_docs_not_in_the_readme():
    assert "COMMAND REFERENCE" not in README
    assert "](docs/reference.md)" in README


def _anchors(markdown: str) -> set[str]:
    from flinkctl.docgen.reference import anchor

    return {anchor(h) for h in re.findall(r"^#+ (.+)$", markdown, re.M)}


LINKS = [
    (doc, target)
    for doc in ("README.md", "CONTRIBUTING.md", "CHANGELOG.md")
    for target in sorted(set(re.findall(r"\]\(([^)\s]+)\)", (REPO / doc).read_text())))
    if not target.startswith(("http://", "https://"))
]


@pytest.mark.parametrize("doc,target", LINKS, ids=[f"{d}:{t}" for d, t in LINKS])
def test_links_resolve(doc, target):
    path, _, fragment = target.partition("#")
    markdown = (REPO / path if path else REPO / doc).read_text()
    if fragment:
        assert fragment in _anchors(markdown), f"no heading #{fragment} in {path or doc}"


def test_commands_table_links_every_group():
    from flinkctl.docgen.tree import load

    for group in load().commands:
        if group.commands and not group.hidden:
            assert f"[`{group.name}`](docs/reference.md#flinkctl-{group.name})" in README


def test_every_environment_variable_is_documented():
    names = {"NO_COLOR"}
    for source in (REPO / "flinkctl").rglob("*.py"):
        names |= set(re.findall(r"[\"'`$](FLINKCTL_[A-Z_]+)", source.read_text()))
    section = README.split("\n## Environment\n")[1].split("\n## ")[0]
    assert {n for n in names if f"| `{n}` |" not in section} == set()


def _python_example() -> ast.Module:
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) == 1, "one Python example in the README"
    tree = ast.parse(blocks[0], "README.md")
    compile(tree, "README.md", "exec")
    return tree


def test_python_example_imports_the_documented_library_api_and_the_standard_library():
    import flinkctl

    imports = [
        n for n in ast.walk(_python_example()) if isinstance(n, (ast.Import, ast.ImportFrom))
    ]
    assert imports
    for node in imports:
        if isinstance(node, ast.Import):
            assert {a.name for a in node.names} <= sys.stdlib_module_names, ast.unparse(node)
            continue
        assert node.module == "flinkctl", ast.unparse(node)
        for alias in node.names:
            assert alias.name in flinkctl.__all__, alias.name
            assert getattr(flinkctl, alias.name)


def test_python_example_calls_what_exists_with_parameters_that_exist():
    """Every call on an imported name, on `with X(...) as name`, on `X(...).method` and on
    `except X as name` resolves to a real callable whose signature takes those arguments."""
    import flinkctl

    tree = _python_example()
    imported = {
        a.asname or a.name: getattr(flinkctl, a.name)
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom)
        for a in n.names
    }
    bound: dict[str, object] = {}  # a name in the example -> the class or object it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
            call = node.context_expr
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name):
                bound[node.optional_vars.id] = imported[call.func.id]
        if isinstance(node, ast.ExceptHandler) and node.name and isinstance(node.type, ast.Name):
            bound[node.name] = imported[node.type.id]("an example error")

    def owner(expr: ast.expr) -> object | None:
        if isinstance(expr, ast.Name):
            return bound.get(expr.id)
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
            return imported.get(expr.func.id)  # X(...).method: X's method
        return None

    checked = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and owner(node.value) is not None:
            assert hasattr(owner(node.value), node.attr), ast.unparse(node)
        if not isinstance(node, ast.Call):
            continue
        func, unbound = None, False
        if isinstance(node.func, ast.Name) and node.func.id in imported:
            func = imported[node.func.id]
        elif isinstance(node.func, ast.Attribute) and owner(node.func.value) is not None:
            obj = owner(node.func.value)
            func = getattr(obj, node.func.attr)
            unbound = inspect.isclass(obj) and inspect.isfunction(func)
        if func is None:
            continue
        args = [None] * (len(node.args) + unbound)
        inspect.signature(func).bind(*args, **{k.arg: None for k in node.keywords if k.arg})
        checked += 1
    assert checked >= 5, "the example's calls were not found"


def test_python_example_takes_a_savepoint(flink, httpserver, expect):
    """The example, run against recorded responses: the job by name, trigger, wait, location."""
    from flinkctl import Config, Context, load_config

    url = httpserver.url_for("").rstrip("/")
    Config(load_config().path, {"prod": Context("prod", url=url)}).save()
    tid = flink.body("savepoint-trigger")["request-id"]
    trigger = {"triggerId": tid, "cancel-job": False, "target-directory": "s3://flink/savepoints"}
    expect("jobs-overview")
    expect("savepoint-trigger", json=trigger)
    expect("savepoint-status-completed")
    example = {"__name__": "readme_example"}
    exec(compile(_python_example(), "README.md", "exec"), example)
    example["new_trigger_id"] = lambda: tid
    location = example["savepoint"]("flinkctl-demo")
    assert location == flink.body("savepoint-status-completed")["operation"]["location"]
