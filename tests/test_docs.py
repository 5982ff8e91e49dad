"""Generated docs: every command documented in docs/reference.md and the man pages, groff-clean,
and gen-docs --check."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from flinkctl.cli.main import ALIASES, GROUPS, HELP, app
from flinkctl.docgen import main as gen_docs
from flinkctl.docgen import man, outputs, stale
from flinkctl.docgen.reference import PATH as REFERENCE
from flinkctl.docgen.tree import split_help, subcommands

REPO = Path(__file__).resolve().parents[1]
GEN_DOCS = REPO / "scripts" / "gen-docs"


def _commands(cmd, path="flinkctl"):
    """(path, click command) for every visible command and group, root included."""
    yield path, cmd
    for name, sub in subcommands(cmd).items():
        if not sub.hidden:
            yield from _commands(sub, f"{path} {name}")


COMMANDS = list(_commands(typer.main.get_command(app)))
LEAVES = [(p, c) for p, c in COMMANDS if not subcommands(c)]
GENERATED = {p.relative_to(REPO).as_posix(): text for p, text in outputs(REPO).items()}
MAN_PAGES = sorted(p for p in GENERATED if p.startswith("man/"))


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_has_help(path, cmd):
    assert (cmd.help or "").strip(), f"{path}: no help text (docstring or help=)"
    for param in cmd.params:
        if not getattr(param, "hidden", False):
            assert (param.help or "").strip(), f"{path}: {param.name} has no help"


@pytest.mark.parametrize("path,cmd", LEAVES, ids=[p for p, _ in LEAVES])
def test_every_command_takes_output_options(path, cmd):
    if path.startswith("flinkctl completion "):
        return  # prints a shell script, nothing else
    assert {"output", "query"} <= {p.name for p in cmd.params}, f"{path}: add @with_output"


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_no_typer_completion_installer_options(path, cmd):
    assert not {"install_completion", "show_completion"} & {p.name for p in cmd.params}


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_help_page_renders(path, cmd, capsys):
    from flinkctl.cli.common.failures import run

    assert run(app, [*path.split()[1:], "--help"]) == 0
    out, err = capsys.readouterr()
    assert "Usage: " in out and err == ""


@pytest.mark.parametrize("group", [g for g, *_ in GROUPS] + list(ALIASES))
def test_a_group_alone_prints_its_help_and_exits_2(cli, group):
    r = cli(group)
    assert r.code == 2
    assert r.err == ""
    assert HELP[ALIASES.get(group, group)] in " ".join(r.out.split())
    assert f"flinkctl {group} [OPTIONS] COMMAND [ARGS]..." in r.out


@pytest.mark.parametrize("path,cmd", LEAVES, ids=[p for p, _ in LEAVES])
def test_every_command_has_an_example(path, cmd):
    _, _, examples = split_help(cmd.help or "")
    assert examples, f"{path}: no 'Example:' line followed by an indented command line"
    assert any("flinkctl " in e for e in examples), examples


def test_split_help():
    summary, blocks, examples = split_help(
        """Do a thing.

        More about it,
        over two lines.

            literal block

        Example:

          flinkctl do thing --fast
          flinkctl do thing -o json
        """
    )
    assert summary == "Do a thing."
    assert blocks == ["More about it, over two lines.", ["literal block"]]
    assert examples == ["flinkctl do thing --fast", "flinkctl do thing -o json"]


def test_check_passes_on_the_tree():
    proc = subprocess.run(
        [sys.executable, str(GEN_DOCS), "--check"], capture_output=True, text=True, cwd=REPO
    )
    assert proc.returncode == 0, f"docs are stale; run scripts/gen-docs\n{proc.stderr}"
    assert proc.stdout == ""


def test_check_fails_when_a_help_string_changes(monkeypatch, capsys, request):
    from flinkctl.cli import cluster, main

    main._command.cache_clear()  # group commands are built once per process: rebuild them
    request.addfinalizer(main._command.cache_clear)
    info = cluster.app.registered_commands[0]  # groups load lazily: patch the source
    monkeypatch.setattr(
        info, "help", (info.help or info.callback.__doc__) + "\n\nA changed sentence."
    )
    root = typer.main.get_command(app)
    assert gen_docs(["--check"], repo=REPO, root=root) == 1
    err = capsys.readouterr().err
    assert "stale: man/flinkctl.1" in err
    assert f"stale: {REFERENCE}" in err
    changed, _ = stale(REPO, root)
    assert any("A changed sentence." in text for text in changed.values())


def test_check_lists_man_pages_no_longer_generated(tmp_path):
    for path, text in outputs(REPO).items():
        dest = tmp_path / path.relative_to(REPO)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    (tmp_path / "man" / "flinkctl-gone.1").write_text(".TH GONE 1\n")
    changed, extra = stale(tmp_path)
    assert not changed
    assert extra == [tmp_path / "man" / "flinkctl-gone.1"]


def test_reference_is_a_whole_generated_page_and_the_readme_and_guides_are_not_generated():
    page = GENERATED[REFERENCE]
    assert page.startswith("# flinkctl command reference\n\n<!-- Generated by scripts/gen-docs")
    assert "](../README.md)" in page
    guides = {g.relative_to(REPO).as_posix() for g in (REPO / "docs").glob("*.md")} - {REFERENCE}
    assert guides and not ({"README.md"} | guides) & set(GENERATED)


def test_reference_links_to_other_pages_resolve():
    page = GENERATED[REFERENCE]
    targets = set(re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page))
    assert {"../README.md", "output.md"} <= targets
    local = {t for t in targets if "://" not in t}
    assert {t for t in local if not (REPO / REFERENCE).parent.joinpath(t).is_file()} == set()


def _headings(markdown: str) -> set[str]:
    return set(re.findall(r"^#{2,3} (flinkctl .+)$", markdown, re.M))


def test_reference_documents_every_command():
    page = GENERATED[REFERENCE]
    assert _headings(page) == {path for path, _cmd in COMMANDS[1:]}
    for _path, cmd in LEAVES:
        for example in split_help(cmd.help)[2]:
            assert example in page


def test_reference_index_links_every_command_to_its_heading():
    page = GENERATED[REFERENCE]
    from flinkctl.docgen.reference import anchor

    anchors = {anchor(h) for h in _headings(page)}
    links = re.findall(r"^\| \[`(flinkctl [^`]+)`\]\(#([\w-]+)\)", page, re.M)
    assert {path for path, _ in links} == {path for path, _cmd in LEAVES}
    assert {target for _, target in links} <= anchors


def test_man_pages_mirror_the_reference():
    sections = set()
    for page in MAN_PAGES:
        sections |= set(re.findall(r'^\.SS "(.+)"$', GENERATED[page], re.M))
    assert {s.replace("\\-", "-") for s in sections} == {path for path, _cmd in LEAVES}


def test_man_pages_for_every_group_but_hidden_aliases():
    groups = {
        p.split()[1] for p, c in COMMANDS if p.count(" ") == 1 and getattr(c, "commands", None)
    }
    assert set(MAN_PAGES) == {"man/flinkctl.1", *(f"man/flinkctl-{g}.1" for g in groups)}
    assert "man/flinkctl-tm.1" not in MAN_PAGES and "man/flinkctl-jm.1" not in MAN_PAGES


@pytest.mark.shells
@pytest.mark.parametrize("page", MAN_PAGES)
def test_groff_reports_no_warnings(page):
    groff = shutil.which("groff")
    assert groff, "groff is missing: apt-get install groff (scripts/test does)"
    proc = subprocess.run(
        [groff, "-man", "-Tutf8", "-P-cbou", "-wall", "-ww"],
        input=GENERATED[page],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0
    assert proc.stderr == "", proc.stderr
    assert "NAME" in proc.stdout


def test_main_page_lists_every_command_and_the_reference_sections():
    page = GENERATED["man/flinkctl.1"]
    for path, _cmd in LEAVES:
        assert f'.SS "{man.esc(path)}"' in page, path
    for section in (
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "GLOBAL OPTIONS",
        "COMMANDS",
        "ENVIRONMENT",
        "FILES",
        "EXIT STATUS",
    ):
        assert f".SH {section}\n" in page
    for var in (
        "FLINKCTL_CONFIG",
        "FLINKCTL_CONTEXT",
        "FLINKCTL_URL",
        "FLINKCTL_OUTPUT",
        "FLINKCTL_DEBUG",
        "NO_COLOR",
    ):
        assert f"\\fB{man.esc(var)}\\fR" in page, var
    from flinkctl.errors import EXIT_CODE_MEANINGS

    for code in EXIT_CODE_MEANINGS:
        assert f".TP\n\\fB{int(code)}\\fR\n" in page


def test_roff_escaping():
    assert man.line(".hidden request") == "\\&.hidden request"
    assert man.line("'quote first") == "\\&'quote first"
    assert man.esc("--url C:\\x") == "\\-\\-url C:\\ex"
    assert man.esc("caf\u00e9 \u2014 ok") == "caf\\[u00E9] \\[u2014] ok"
    assert man.quoted('say "hi"') == '"say \\(dqhi\\(dq"'
