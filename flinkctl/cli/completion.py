"""`flinkctl completion bash|zsh|fish`: shell completion scripts, and the protocol they speak.

The scripts run flinkctl with `_FLINKCTL_COMPLETE=complete_<shell>` (Typer's instruction order)
and the command line up to the cursor in `_TYPER_COMPLETE_ARGS`; flinkctl answers with one
candidate per line, then exits. Candidates come from Click's completion machinery: commands,
options, choices and the dynamic values in `flinkctl.cli.common.completers`. `register` hands
Click the three shell classes below (the root app sets `add_completion=False`, so Typer
registers none), and nothing here imports rich, httpx or yaml.
"""

import os
import re
from pathlib import Path

import typer

# Click's completion classes as bundled by Typer: a private module that may move on an upgrade.
from typer._click.shell_completion import CompletionItem, ShellComplete, add_completion_class
from typer._click.shell_completion import split_arg_string as _split

from flinkctl.cli.common.options import with_invocation
from flinkctl.cli.invocation import Invocation

# the scripts, one file each (completions/ at the top of the repository links to them)
SCRIPTS = Path(__file__).with_name("completions")
SCRIPT_FILES = {"bash": "flinkctl.bash", "zsh": "_flinkctl", "fish": "flinkctl.fish"}

_BASH_SPECIAL = re.compile(r"""([\s!"#$&'()*;<>?\[\\\]`{|}~^])""")


class _Complete(ShellComplete):
    """Reads the line up to the cursor; one line per candidate; file candidates left to the shell."""

    def source_vars(self) -> dict:
        return {}

    def source(self) -> str:
        return script(self.name)

    def get_completion_args(self) -> tuple[list[str], str]:
        line = os.environ.get("_TYPER_COMPLETE_ARGS", "")
        words = _split(line)[1:]
        if words and not line.endswith((" ", "\t")):
            return words[:-1], words[-1]
        return words, ""

    def complete(self) -> str:
        args, incomplete = self.get_completion_args()
        # `--opt=val`: Click completes `val`; the shells need the whole word back.
        prefix = (
            incomplete.partition("=")[0] + "="
            if incomplete[:1] == "-" and "=" in incomplete
            else ""
        )
        items = [i for i in self.get_completions(args, incomplete) if i.type == "plain"]
        return "\n".join(self.render(prefix + i.value, i.help, incomplete) for i in items)

    def render(self, word: str, note: str | None, incomplete: str) -> str:
        raise NotImplementedError

    def format_completion(self, item: CompletionItem) -> str:
        return self.render(item.value, item.help, "")


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


class BashComplete(_Complete):
    """Backslash-escapes candidates and trims what bash split off at COMP_WORDBREAKS (`:`, `=`)."""

    name = "bash"

    def render(self, word: str, note: str | None, incomplete: str) -> str:
        typed = _BASH_SPECIAL.sub(r"\\\1", incomplete)
        cur = os.environ.get("_FLINKCTL_COMPLETE_WORD", "")
        head = typed[: len(typed) - len(cur)] if cur and typed.endswith(cur) else ""
        word = _BASH_SPECIAL.sub(r"\\\1", word)
        return word[len(head) :] if word.startswith(head) else word


class ZshComplete(_Complete):
    """`value:help` lines for `_describe`, colons in values escaped."""

    name = "zsh"

    def render(self, word: str, note: str | None, incomplete: str) -> str:
        word = word.replace("\\", "\\\\").replace(":", "\\:")
        return f"{word}:{_one_line(note)}" if note else word


class FishComplete(_Complete):
    """`value<TAB>help` lines."""

    name = "fish"

    def render(self, word: str, note: str | None, incomplete: str) -> str:
        return f"{word}\t{_one_line(note)}" if note else word


SHELLS = {cls.name: cls for cls in (BashComplete, ZshComplete, FishComplete)}


def register() -> None:
    """Make Click answer `_FLINKCTL_COMPLETE=complete_<shell>` with the classes above."""
    for name, cls in SHELLS.items():
        add_completion_class(cls, name)


def script(shell: str) -> str:
    """The completion script for SHELL (bash, zsh or fish)."""
    return (SCRIPTS / SCRIPT_FILES[shell]).read_text()


app = typer.Typer(no_args_is_help=True)


@app.command()
@with_invocation
def bash(inv: Invocation) -> None:
    """Print the bash completion script.

    Install it as a bash-completion file, or load it from ~/.bashrc with
    `source <(flinkctl completion bash)`.

    Example:

      flinkctl completion bash > ~/.local/share/bash-completion/completions/flinkctl
    """
    inv.io.write(script("bash"))


@app.command()
@with_invocation
def zsh(inv: Invocation) -> None:
    """Print the zsh completion script.

    Save it as _flinkctl in a directory on $fpath before compinit runs (e.g. ~/.zfunc with
    `fpath+=~/.zfunc` in ~/.zshrc), or source it after compinit.

    Example:

      flinkctl completion zsh > ~/.zfunc/_flinkctl
    """
    inv.io.write(script("zsh"))


@app.command()
@with_invocation
def fish(inv: Invocation) -> None:
    """Print the fish completion script.

    Example:

      flinkctl completion fish > ~/.config/fish/completions/flinkctl.fish
    """
    inv.io.write(script("fish"))
