"""Man pages (roff, man macros): flinkctl(1) and one page per command group."""

from __future__ import annotations

from flinkctl import __version__
from flinkctl.docgen.tree import Command, Param

OTHER_ENV = {
    "NO_COLOR": "When set (to anything), tables are printed without colour.",
    "FLINKCTL_FORCE_TTY": "1: lay out tables and --watch as on a terminal although stdout "
    "is not one.",
    "XDG_CONFIG_HOME": "Where the default config file lives: "
    "$XDG_CONFIG_HOME/flinkctl/config.yaml (default ~/.config).",
}


def esc(text: str) -> str:
    """Escape text for roff: backslashes, hyphens (as \\-), non-ASCII as \\[uXXXX]."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)


def line(text: str) -> str:
    """One escaped text line; a leading `.` or `'` would start a request, so guard it."""
    text = esc(text)
    return "\\&" + text if text[:1] in (".", "'") else text


def quoted(text: str) -> str:
    """A macro argument in double quotes."""
    return '"' + esc(text).replace('"', "\\(dq") + '"'


def _header(name: str, summary: str) -> list[str]:
    return [
        f'.TH {quoted(name.upper())} 1 "" {quoted("flinkctl " + __version__)} "User Commands"',
        ".nh",  # no hyphenation: paths and option names stay whole
        ".ad l",
        ".SH NAME",
        line(f"{name} - {summary.rstrip('.')}"),
    ]


def _literal(lines: list[str]) -> list[str]:
    return [".PP", ".RS 4", ".EX", *map(line, lines), ".EE", ".RE"]


def _paragraphs(blocks: list[str | list[str]]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        out += [".PP", line(block)] if isinstance(block, str) else _literal(block)
    return out


def _examples(examples: list[str]) -> list[str]:
    return [".PP", "Example:", *_literal(examples)] if examples else []


def _label(word: str) -> str:
    if word == "/":
        return word
    if word.startswith("-"):
        comma = "," if word.endswith(",") else ""
        return f"\\fB{esc(word.rstrip(','))}\\fR{comma}"
    return f"\\fI{esc(word)}\\fR"


def _option(p: Param) -> list[str]:
    text = p.help
    if p.default is not None:
        text += f" Default: {p.default}."
    if p.envvars:
        text += " Environment: " + ", ".join(p.envvars) + "."
    return [".TP", " ".join(map(_label, p.label.split(" "))), line(text.strip())]


def _usage(cmd: Command) -> list[str]:
    return [".PP", f"\\fB{esc(cmd.path)}\\fR{esc(cmd.usage[len(cmd.path) :])}"]


def _command(cmd: Command) -> list[str]:
    out = [f".SS {quoted(cmd.path)}", *_usage(cmd)]
    if cmd.summary:
        out += [".PP", line(cmd.summary)]
    out += _paragraphs(cmd.description)
    if cmd.params:
        out += [".PP", "Options and arguments:"] + [x for p in cmd.params for x in _option(p)]
    return out + _examples(cmd.examples)


def _commands(group: Command) -> list[str]:
    return [x for c in group.walk()[1:] if not c.commands for x in _command(c)]


def groups(root: Command) -> list[Command]:
    """The top-level groups that get a page of their own (hidden aliases do not)."""
    return [g for g in root.commands if g.commands and not g.hidden]


def main_page(root: Command) -> str:
    """flinkctl(1): synopsis, global options, every command, environment, files, exit status."""
    from flinkctl.errors import EXIT_CODE_MEANINGS, SEVERITY

    out = _header("flinkctl", root.summary)
    out += [".SH SYNOPSIS", *_usage(root)[1:], ".SH DESCRIPTION", line(root.summary)]
    out += _paragraphs(root.description)
    out += [
        ".PP",
        line("Every command accepts -h/--help. Global options go before the command."),
    ]
    out += _examples(root.examples)
    out += [".SH GLOBAL OPTIONS"] + [x for p in root.params for x in _option(p)]
    out += [".SH COMMANDS"] + _commands(root)
    env = {v: p.help for c in root.walk() for p in c.params for v in p.envvars}
    out += [".SH ENVIRONMENT"]
    for name, text in sorted({**env, **OTHER_ENV}.items()):
        out += [".TP", f"\\fB{esc(name)}\\fR", line(text)]
    out += [
        ".SH FILES",
        ".TP",
        "\\fI$XDG_CONFIG_HOME/flinkctl/config.yaml\\fR (default \\fI~/.config/flinkctl/config.yaml\\fR)",
        line(
            "Contexts: named clusters with their URL, auth, TLS settings, headers and timeouts. "
            "--config or FLINKCTL_CONFIG name another file. Written atomically with mode 0600."
        ),
        ".SH EXIT STATUS",
    ]
    for code, meaning in EXIT_CODE_MEANINGS.items():
        out += [".TP", f"\\fB{int(code)}\\fR", line(meaning)]
    order = ", ".join(str(int(code)) for code in SEVERITY)
    out += [".PP", line(f"A run with several outcomes (many jobs, --all-contexts) exits with the "
                        f"worst one's code, worst first: {order}.")]  # fmt: skip
    see = [f"\\fBflinkctl\\-{esc(g.name)}\\fR(1)" for g in groups(root)]
    out += [".SH SEE ALSO", ",\n".join(see)] if see else []
    return "\n".join(out) + "\n"


def group_page(group: Command) -> str:
    """flinkctl-GROUP(1): the group's description and every command in it."""
    name = group.path.replace(" ", "-")
    out = _header(name, group.summary)
    out += [".SH SYNOPSIS", *_usage(group)[1:], ".SH DESCRIPTION", line(group.summary)]
    out += _paragraphs(group.description)
    out += [".PP", line("Global options (see flinkctl(1)) go before the group name.")]
    if group.params:
        out += [".SH OPTIONS"] + [x for p in group.params for x in _option(p)]
    out += [".SH COMMANDS"] + _commands(group)
    out += [".SH SEE ALSO", "\\fBflinkctl\\fR(1)"]
    return "\n".join(out) + "\n"
