"""The command tree as plain data for the generators, read from the click objects Typer builds."""

from __future__ import annotations

import inspect
import re
import textwrap
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

EXAMPLE_HEADING = re.compile(r"^Examples?:\s*$")


@dataclass
class Param:
    """An option or argument as documented: `-o, --output OUTPUT` or `JOB`."""

    label: str
    help: str
    envvars: list[str]
    default: str | None
    argument: bool


@dataclass
class Command:
    """A command or a group; groups have `commands`."""

    path: str
    summary: str
    description: list[str | list[str]]  # paragraphs; a list of lines is a literal block
    examples: list[str]
    usage: str
    params: list[Param]
    hidden: bool
    commands: list[Command] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.rsplit(" ", 1)[-1]

    def walk(self) -> list[Command]:
        """This command and every visible command below it, depth first."""
        out = [self]
        for sub in self.commands:
            if not sub.hidden:
                out += sub.walk()
        return out


def load(root: Any = None) -> Command:
    """The flinkctl command tree (or ROOT's, a click command)."""
    if root is None:
        import typer

        from flinkctl.cli.main import app

        root = typer.main.get_command(app)
    return _command(root, "flinkctl")


def subcommands(cmd: Any) -> dict[str, Any]:
    """A click group's sub-commands by name (through list_commands, so lazy groups load)."""
    if not hasattr(cmd, "list_commands"):
        return {}
    # Typer's bundled Click is private API: this import may break on a Typer upgrade.
    from typer._click import Context

    ctx = Context(cmd)
    return {name: cmd.get_command(ctx, name) for name in cmd.list_commands(ctx)}


def _command(cmd: Any, path: str) -> Command:
    summary, description, examples = split_help(cmd.help or "")
    params = [_param(p) for p in cmd.params if not getattr(p, "hidden", False)]
    subs = subcommands(cmd)
    usage = [path]
    if any(not p.argument for p in params):
        usage.append("[OPTIONS]")
    usage += [p.label for p in params if p.argument]
    if subs:
        usage.append("COMMAND [ARGS]...")
    return Command(
        path=path,
        summary=summary,
        description=description,
        examples=examples,
        usage=" ".join(usage),
        params=params,
        hidden=bool(cmd.hidden),
        commands=[_command(c, f"{path} {n}") for n, c in subs.items()],
    )


def split_help(text: str) -> tuple[str, list[str | list[str]], list[str]]:
    """(summary, further paragraphs, example command lines) of a docstring.

    Paragraphs are joined into one line each; indented blocks stay literal. The lines indented
    under an `Example:` line are the examples.
    """
    blocks: list[str | list[str]] = []
    examples: list[str] = []
    in_example = False
    for chunk in re.split(r"\n\s*\n", inspect.cleandoc(text)):
        lines = chunk.splitlines()
        if not chunk.strip():
            continue
        if EXAMPLE_HEADING.match(lines[0].strip()):
            in_example = True
            examples += [ln.strip() for ln in lines[1:] if ln.strip()]
        elif lines[0][:1].isspace():
            if in_example:
                examples += [ln.strip() for ln in lines if ln.strip()]
            else:
                blocks.append(textwrap.dedent(chunk).rstrip().splitlines())
        else:
            in_example = False
            blocks.append(" ".join(ln.strip() for ln in lines))
    summary = ""
    if blocks and isinstance(first := blocks[0], str):
        summary = first
        del blocks[0]
    return summary, blocks, examples


def _param(p: Any) -> Param:
    argument = p.param_type_name == "argument"
    if argument:
        label = (p.metavar or p.name).upper()
        if p.nargs == -1:
            label += "..."
        if not p.required:
            label = f"[{label}]"
    else:
        label = ", ".join(sorted(p.opts, key=lambda o: o.startswith("--")))
        if p.secondary_opts:
            label += " / " + ", ".join(p.secondary_opts)
        if not p.is_flag:
            label += " " + _metavar(p)
    envvar = p.envvar or []
    return Param(
        label=label,
        help=" ".join((p.help or "").split()),
        envvars=[envvar] if isinstance(envvar, str) else list(envvar),
        default=_default(p),
        argument=argument,
    )


def _metavar(p: Any) -> str:
    if p.metavar:
        return p.metavar
    choices = getattr(getattr(p, "type", None), "choices", None)
    if choices:
        return "{" + ",".join(str(c.value if isinstance(c, Enum) else c) for c in choices) + "}"
    longest = max(p.opts, key=len).lstrip("-")
    return longest.upper().replace("-", "_")


def _default(p: Any) -> str | None:
    if isinstance(p.show_default, str):  # described: the option's own default is a sentinel
        return p.show_default
    value = p.default
    if (
        getattr(p, "is_flag", False)
        or not p.show_default
        or value in (None, (), [])
        or callable(value)
    ):
        return None
    if isinstance(value, Enum):
        value = value.value
    return str(value).replace(str(Path.home()), "~")
