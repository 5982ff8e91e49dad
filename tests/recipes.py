"""The recipes as the tests run them: a marked block's text, a crontab's lines, a user's home as
cron sees it, and a command run the way cron runs it (tests/test_recipes.py over a served fake,
tests/e2e/test_cron.py over a real cluster).

A recipe is a fenced block under a marker `<!-- recipe: NAME[; note] -->`, in docs/recipes.md
(every block there has one), in another guide (docs/contexts.md's gateway context) or in the
README's "Uses", whose blocks are tastes of docs/recipes.md's (`; a taste of NAME`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
GUIDES = sorted((REPO / "docs").glob("*.md"))  # docs/reference.md among them: generated
DOCS = [README, *GUIDES]
RECIPES = (REPO / "docs" / "recipes.md").read_text()
USES = README.read_text().split("\n## Uses\n")[1].split("\n## ")[0]  # the README's tastes
MARKED = re.compile(r"<!-- recipe: ([\w-]+)(;[^>]*)?[^>]*-->\n```(\w+)\n(.*?)```", re.S)
TASTE = re.compile(r"; a taste of ([\w-]+)")
FLINKCTL = str(Path(sys.executable).with_name("flinkctl"))
# Actions' shells (docs.github.com: "Using a specific shell")


def marked() -> dict[str, tuple[Path, re.Match[str]]]:
    """Every marked block of the README and the guides by its name, with the file it is in."""
    found: dict[str, tuple[Path, re.Match[str]]] = {}
    for path in DOCS:
        for m in MARKED.finditer(path.read_text()):
            assert m.group(1) not in found, f"two recipes named {m.group(1)}"
            found[m.group(1)] = (path, m)
    return found


def recipe(name: str) -> str:
    """The text of the block marked `<!-- recipe: NAME ... -->`, in whichever document."""
    return marked()[name][1].group(4)


def crontab(text: str) -> tuple[dict[str, str], list[str]]:
    """The NAME=value lines (literal, as crontab(5) says: no expansion) and the commands."""
    env, commands = {}, []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        assignment = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$", line)
        if assignment and not re.match(r"^[\d*/,-]+\s", line):
            env[assignment.group(1)] = assignment.group(2).strip("'\"")
            continue
        fields = line.split(None, 5)
        assert len(fields) == 6, f"not a crontab line: {line}"
        assert "%" not in fields[5], "cron turns % into a newline: escape it"
        commands.append(fields[5])
    return env, commands


def cron_home(tmp_path: Path, url: str) -> Path:
    """A user's home as the recipe expects it: flinkctl in ~/.local/bin, a config with the
    context `prod` (the served cluster) in ~/.config/flinkctl/config.yaml."""
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "flinkctl").symlink_to(FLINKCTL)
    config = home / ".config" / "flinkctl" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(
        yaml.safe_dump({"current-context": "prod", "contexts": {"prod": {"url": url}}})
    )
    config.chmod(0o600)
    return home


def as_cron(home: Path, assignments: dict[str, str], command: str) -> subprocess.CompletedProcess:
    """COMMAND as cron runs it: a clean environment, /bin/sh -c, in HOME."""
    env = {"HOME": str(home), "LOGNAME": "flink", "USER": "flink", "SHELL": "/bin/sh",
           "PATH": "/usr/bin:/bin", **assignments}  # fmt: skip
    argv = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), "/bin/sh", "-c", command]
    return subprocess.run(argv, cwd=home, capture_output=True, text=True, timeout=120)
