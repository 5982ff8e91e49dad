"""The README is the front door and the guides in docs/ stay true: the README is at most 200
lines and links every guide; the quick start has exactly two lines; exit codes and their severity
order (docs/output.md) match errors.py; links of the README, the guides, CONTRIBUTING and
CHANGELOG resolve; every environment variable is documented (docs/contexts.md); and the Python
examples (the README's taste, docs/recipes.md's script) run against the real API. The recipes'
shell blocks are tests/test_recipes.py's."""

import ast
import inspect
import re
import shlex
import sys
from pathlib import Path

import pytest
from recipes import GUIDES, MARKED, recipe

from flinkctl.errors import EXIT_CODE_MEANINGS

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
OUTPUT = (REPO / "docs" / "output.md").read_text()
CONTEXTS = (REPO / "docs" / "contexts.md").read_text()


def test_the_readme_is_a_front_door_of_at_most_200_lines():
    assert len(README.splitlines()) <= 200, "move the manual into a guide in docs/"


@pytest.mark.parametrize("guide", GUIDES, ids=[g.name for g in GUIDES])
def test_the_readme_links_every_guide(guide):
    assert f"](docs/{guide.name})" in README


def test_exit_code_table_matches_errors_py():
    table = OUTPUT.split("<!-- BEGIN EXIT CODES -->")[1].split("<!-- END EXIT CODES -->")[0]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", table, re.M)
    assert {int(code): meaning for code, meaning in rows} == {
        int(code): meaning for code, meaning in EXIT_CODE_MEANINGS.items()
    }


def test_the_severity_order_matches_errors_py():
    from flinkctl.errors import SEVERITY

    order = OUTPUT.split("<!-- BEGIN SEVERITY -->")[1].split("<!-- END SEVERITY -->")[0]
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


SHELL_DOCS = [REPO / "README.md", *(g for g in GUIDES if g.name != "reference.md")]


def _flinkctl_lines(doc: Path) -> list[tuple[str, list[str]]]:
    """Each `flinkctl ...` of DOC's sh, console and yaml blocks: the line and the words after
    flinkctl (up to a pipe, a redirection or a comment; `$(` and quotes dropped)."""
    found = []
    for lang, block in re.findall(r"```(\w+)\n(.*?)```", doc.read_text(), re.S):
        if lang not in ("sh", "console", "yaml"):
            continue
        for line in block.replace("\\\n", " ").splitlines():
            code = "" if line.lstrip().startswith("#") else line.removeprefix("$ ").split(" # ")[0]
            for m in re.finditer(r"(?:^|[\s(;|&])(?:\S*/)?flinkctl((?: [^|;&>)]*)?)", code):
                words = m.group(1).replace("$(", "").replace('"', " ")
                found.append((line.strip(), shlex.split(words, comments=True)))
    return found


def _problems(words: list[str]) -> list[str]:
    """What does not exist in a command line: a command, or an option of it or of the root."""
    import typer
    from typer._click import Context  # Typer's bundled Click: private, may break on upgrades

    from flinkctl.cli.main import app

    cmd = typer.main.get_command(app)
    options: dict[str, object] = {}
    problems, words = [], list(words)

    def learn(command) -> None:
        for p in command.params:
            options.update(dict.fromkeys([*p.opts, *getattr(p, "secondary_opts", [])], p))

    learn(cmd)
    while words:
        word = words.pop(0)
        if word.startswith("-") and word != "-":
            param = options.get(word.split("=")[0])
            if param is None:
                problems.append(f"no option {word}")
            elif "=" not in word and words and not getattr(param, "is_flag", False):
                words.pop(0)  # the option's value
        elif hasattr(cmd, "get_command"):
            sub = cmd.get_command(Context(cmd), word)
            if sub is None:
                return [*problems, f"no command {word}"]
            cmd = sub
            learn(cmd)
    return problems


@pytest.mark.parametrize("doc", SHELL_DOCS, ids=[d.name for d in SHELL_DOCS])
def test_every_command_of_the_examples_exists_with_its_options(doc):
    """The README's and the guides' sh, console and yaml blocks name real commands and options
    (the recipes also run: tests/test_recipes.py)."""
    lines = _flinkctl_lines(doc)
    assert [(line, p) for line, words in lines for p in _problems(words)] == []


def test_a_command_that_does_not_exist_is_found():
    assert sum(len(_flinkctl_lines(doc)) for doc in SHELL_DOCS) > 50  # the examples are read
    assert _problems(["jobs", "lisst"]) == ["no command lisst"]
    assert _problems(["--context", "prod", "jobs", "list", "--bogus"]) == ["no option --bogus"]
    assert _problems(["tm", "logs", "127.0.0.1", "--list", "-o", "json"]) == []


def _anchors(markdown: str) -> set[str]:
    from flinkctl.docgen.reference import anchor

    return {anchor(h) for h in re.findall(r"^#+ (.+)$", markdown, re.M)}


DOCS = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"]
DOCS += [g.relative_to(REPO).as_posix() for g in GUIDES if g.name != "reference.md"]  # generated:
# tests/test_docs.py checks its links
LINKS = [
    (doc, target)
    for doc in DOCS
    for target in sorted(set(re.findall(r"\]\(([^)\s]+)\)", (REPO / doc).read_text())))
    if not target.startswith(("http://", "https://"))
]


@pytest.mark.parametrize("doc,target", LINKS, ids=[f"{d}:{t}" for d, t in LINKS])
def test_links_resolve(doc, target):
    path, _, fragment = target.partition("#")
    markdown = ((REPO / doc).parent / path if path else REPO / doc).read_text()
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
    section = CONTEXTS.split("\n## Environment\n")[1].split("\n## ")[0]
    assert {n for n in names if f"| `{n}` |" not in section} == set()


EXAMPLES = {"library-taste": 4, "python-library": 5}  # each Python block: the calls it makes


def test_every_python_block_is_a_checked_example():
    found = []
    for doc in [REPO / "README.md", *GUIDES]:
        text = doc.read_text()
        marked = [m.group(1) for m in MARKED.finditer(text) if m.group(3) == "python"]
        assert len(marked) == text.count("```python\n"), f"{doc.name}: a Python block unmarked"
        found += marked
    assert sorted(found) == sorted(EXAMPLES)


def _python_example(name: str) -> ast.Module:
    tree = ast.parse(recipe(name), name)
    compile(tree, name, "exec")
    return tree


@pytest.mark.parametrize("name", EXAMPLES)
def test_python_example_imports_the_documented_library_api_and_the_standard_library(name):
    import flinkctl

    imports = [
        n for n in ast.walk(_python_example(name)) if isinstance(n, (ast.Import, ast.ImportFrom))
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


@pytest.mark.parametrize("name", EXAMPLES)
def test_python_example_calls_what_exists_with_parameters_that_exist(name):
    """Every call on an imported name, on `with X(...) as name`, on `X(...).method` and on
    `except X as name` resolves to a real callable whose signature takes those arguments."""
    import flinkctl

    tree = _python_example(name)
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
    assert checked >= EXAMPLES[name], "the example's calls were not found"


def test_python_example_takes_a_savepoint(flink, httpserver, expect):
    """docs/recipes.md's example, run against recorded responses: the job by name, trigger, wait, location."""
    from flinkctl import Config, Context, load_config

    url = httpserver.url_for("").rstrip("/")
    Config(load_config().path, {"prod": Context("prod", url=url)}).save()
    tid = flink.body("savepoint-trigger")["request-id"]
    trigger = {"triggerId": tid, "cancel-job": False, "target-directory": "s3://flink/savepoints"}
    expect("jobs-overview")
    expect("savepoint-trigger", json=trigger)
    expect("savepoint-status-completed")
    example = {"__name__": "recipes_example"}
    exec(compile(_python_example("python-library"), "docs/recipes.md", "exec"), example)
    example["new_trigger_id"] = lambda: tid
    location = example["savepoint"]("flinkctl-demo")
    assert location == flink.body("savepoint-status-completed")["operation"]["location"]


def test_the_readmes_python_taste_prints_a_jobs_state(flink, httpserver, expect, capsys):
    """The README's taste, run against recorded responses: the job by name, its details."""
    from flinkctl import Config, Context, load_config

    url = httpserver.url_for("").rstrip("/")
    Config(load_config().path, {"prod": Context("prod", url=url)}).save()
    expect("jobs-overview")
    expect("job")
    source = recipe("library-taste")
    assert '"orders"' in source
    source = source.replace('"orders"', '"flinkctl-demo"')  # the recorded job's name
    exec(compile(source, "README.md", "exec"), {"__name__": "readme_taste"})
    assert capsys.readouterr().out == f"{flink.body('job')['state']}\n"
