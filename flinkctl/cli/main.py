"""The root command: global options and the sub-command groups (GROUPS); `main` runs it."""

import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from typer.core import DEFAULT_MARKUP_MODE, TyperGroup

from flinkctl import __version__
from flinkctl.cli.common import completers
from flinkctl.cli.invocation import Invocation

if TYPE_CHECKING:
    from typer.models import CommandInfo

GROUPS = (
    # (name, module holding its Typer `app`, help, hidden aliases: the other number of each
    # noun, as kubectl takes both); a module is imported only when its group runs: listing and
    # completing group names needs none of them.
    ("cluster", "flinkctl.cli.cluster",
     "The cluster as a whole: overview, configuration, shutdown.", ("clusters",)),
    ("config", "flinkctl.cli.config_cmd",
     "Contexts: which clusters flinkctl knows and how to reach them.", ()),
    ("jobmanager", "flinkctl.cli.jobmanager",
     "The JobManager: configuration, metrics, logs, thread dump (alias: jm).",
     ("jm", "jobmanagers")),
    ("taskmanagers", "flinkctl.cli.taskmanagers",
     "TaskManagers: list, details, metrics, logs, thread dumps (alias: tm).",
     ("tm", "taskmanager")),
    ("jobs", "flinkctl.cli.jobs",
     "Jobs: list, inspect, cancel, stop, rescale.", ("job",)),
    ("vertices", "flinkctl.cli.vertices",
     "A job's vertices: subtasks, backpressure, metrics, watermarks, flame graphs.", ("vertex",)),
    ("subtasks", "flinkctl.cli.subtasks",
     "One subtask of a vertex: attempts, metrics, accumulators.", ("subtask",)),
    ("checkpoints", "flinkctl.cli.checkpoints",
     "Checkpoints: history and statistics, details, configuration.", ("checkpoint",)),
    ("savepoint", "flinkctl.cli.savepoint",
     "Savepoints: trigger, list, latest, prune, check, status, dispose.", ("savepoints",)),
    ("jars", "flinkctl.cli.jars",
     "Jars: list, upload, delete, plan, run.", ("jar",)),
    ("datasets", "flinkctl.cli.datasets",
     "Cluster data sets: list, delete.", ("dataset",)),
    ("applications", "flinkctl.cli.applications",
     "Applications (Flink 2.3+): list, show, cancel, exceptions, config.", ("application",)),
    ("local", "flinkctl.cli.local",
     "A real standalone Flink cluster on this machine: up, demo, status, logs, down.", ()),
    ("completion", "flinkctl.cli.completion",
     "Print the shell completion script for bash, zsh or fish.", ()),
)  # fmt: skip
COMMANDS = (
    # (name, module whose Typer `app` holds a command of that name, the first line of its help,
    # for completion without importing it): top-level commands, loaded as lazily as the groups.
    ("deploy", "flinkctl.cli.deploy",
     "Deploy a job safely: check it, take the old job's state, start, health-gate, roll back."),
    ("rollback", "flinkctl.cli.deploy",
     "Stop NAME's job with a savepoint and start an earlier revision from it, health-gated."),
    ("doctor", "flinkctl.cli.doctor",
     "Diagnose a job (or --all): what is wrong, ranked, with the numbers behind each finding."),
)  # fmt: skip
MODULES = {name: module for name, module, *_ in GROUPS + COMMANDS}
HELP = {name: text for name, _, text, *_ in GROUPS + COMMANDS}
ALIASES = {alias: name for name, _, _, aliases in GROUPS for alias in aliases}
TOP_LEVEL = {name for name, *_ in COMMANDS}


def _reflow(command) -> None:
    """Join the wrapped lines of each help paragraph, keeping indented blocks (examples) as
    they are: Typer's Rich help would otherwise keep every docstring line break."""
    import inspect

    if command.help:
        paragraphs = inspect.cleandoc(command.help).split("\n\n")
        command.help = "\n\n".join(
            p if p.startswith((" ", "\b")) else " ".join(p.split("\n")) for p in paragraphs
        )


class LazyGroup(TyperGroup):
    """A group that makes a sub-command only when it is asked for (`make`), from the names it
    knows (`names`, `knows`; `aliases` map other names to them).

    Start-up time is a feature: `flinkctl jobs list` imports and builds the jobs group's `list`
    command and no other, and completing a group name (`flinkctl jo<TAB>`) imports none.
    """

    aliases: dict[str, str] = {}

    def names(self) -> list[str]:
        raise NotImplementedError

    def knows(self, name: str) -> bool:
        return name in self.names()

    def make(self, name: str):
        raise NotImplementedError

    def list_commands(self, ctx) -> list[str]:
        return self.names()

    def get_command(self, ctx, name: str):
        name = self.aliases.get(name, name)
        if name not in self.commands and self.knows(name):
            self.commands[name] = self.make(name)
        return self.commands.get(name)

    def resolve_command(self, ctx, args: list[str]):
        """As Click's, with "Did you mean" over the names and aliases (Typer suggests from
        `self.commands`, which holds only the commands made so far)."""
        name = args[0] if args else ""
        known = self.get_command(ctx, name) is not None
        if not (known or ctx.resilient_parsing or name.startswith("-")):
            ctx.fail(f"No such command {name!r}.{did_you_mean(name, self.names(), self.aliases)}")
        return super().resolve_command(ctx, args)


class Commands(LazyGroup):
    """A command group: the Typer commands of the `app` of each of its PARTS (modules, imported
    in order only as far as the command asked for), each built by Typer when first asked for
    (Typer builds a whole app's at once)."""

    def __init__(self, name: str, parts: list[str]) -> None:
        super().__init__(name=name, help=HELP[name], no_args_is_help=True)
        self.parts = parts  # those not imported yet
        self.infos: dict[str, CommandInfo] = {}
        _reflow(self)

    def _import(self, until: str | None = None) -> None:
        """Import the next parts until one holds command UNTIL (or all of them)."""
        import importlib

        from flinkctl.signals import held_back

        while self.parts and until not in self.infos:
            with held_back():  # a signal in an import can be lost, or break a class's creation
                app = importlib.import_module(self.parts.pop(0)).app
            self.infos.update((_name(info), info) for info in app.registered_commands)

    def names(self) -> list[str]:
        self._import()
        return list(self.infos)

    def knows(self, name: str) -> bool:
        self._import(until=name)
        return name in self.infos

    def make(self, name: str):
        return _built(self.infos[name])


def _name(info: "CommandInfo") -> str:
    """A registered command's name: its own, else its function's, as Typer names it."""
    assert info.callback is not None  # `@app.command` always registers one
    return info.name or typer.main.get_command_name(info.callback.__name__)


def _built(info: "CommandInfo"):
    """The Click command Typer builds from a registered command INFO, its help reflowed."""
    # typer.main's builders are undocumented (Typer's own get_group calls them for a whole app
    # at once): they may change on a Typer upgrade (pinned <0.29 in pyproject.toml).
    command = typer.main.get_command_from_info(
        info, pretty_exceptions_short=True, rich_markup_mode=DEFAULT_MARKUP_MODE
    )
    _reflow(command)
    return command


@functools.cache
def _command(name: str):
    """Group (or top-level command) NAME, made once per process: the test suite makes
    thousands of in-process invocations."""
    import importlib

    from flinkctl.signals import held_back

    with held_back():  # as in LazyGroup._import
        module = importlib.import_module(MODULES[name])
    if name in TOP_LEVEL:
        return _built(next(i for i in module.app.registered_commands if _name(i) == name))
    return Commands(name, list(getattr(module, "PARTS", [module.__name__])))


class Root(LazyGroup):
    """The root group: a group's module is imported only when that group runs."""

    aliases = ALIASES

    def names(self) -> list[str]:
        return list(MODULES)

    def make(self, name: str):
        return _command(name)

    def shell_complete(self, ctx, incomplete: str) -> list:
        """Group names with their help from GROUPS, then the root options (as Click would).

        An alias is offered only when no group name matches (`savepoints<TAB>`), so `job<TAB>`
        still completes to `jobs`.
        """
        # Click's classes as bundled by Typer: private modules that may move on a Typer upgrade.
        from typer._click.core import Command
        from typer._click.shell_completion import CompletionItem
        from typer._click.utils import make_default_short_help

        names = [name for name in MODULES if name.startswith(incomplete)] or [
            alias for alias in ALIASES if alias.startswith(incomplete)
        ]
        items = [
            CompletionItem(name, help=make_default_short_help(HELP[ALIASES.get(name, name)]))
            for name in names
        ]
        return items + Command.shell_complete(self, ctx, incomplete)


def did_you_mean(typo: str, names: list[str], aliases: dict[str, str]) -> str:
    """' Did you mean 'jobs'?' for a mistyped name among NAMES and ALIASES (as Typer words it),
    or ''."""
    from difflib import get_close_matches

    matches = get_close_matches(typo, [*names, *aliases])
    meant = dict.fromkeys(aliases.get(m, m) for m in matches)  # an alias as the name it stands for
    return f" Did you mean {', '.join(map(repr, meant))}?" if meant else ""


app = typer.Typer(
    name="flinkctl",
    cls=Root,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(invocation: Invocation) -> None:
    invocation.io.line(f"flinkctl {__version__}")
    if invocation.verbose:
        from flinkctl.errors import FlinkctlError

        try:
            invocation.io.line(
                f"Flink {invocation.client().dashboard_config().get('flink-version')}"
            )
        except FlinkctlError as exc:
            invocation.io.say(f"Flink: unknown ({exc.message})")


def _old_context_flag(value: str | None) -> None:
    """`flinkctl -c NAME ...`: -c named the context once; it means the entry class now."""
    if value is not None:
        from flinkctl.errors import UsageError

        raise UsageError(
            f"-c is not the context: use --context {value}",
            hint="-c is the entry class of `deploy` and `jars run` (as bin/flink run -c)",
        )


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            help="Context from the config file.",
            envvar="FLINKCTL_CONTEXT",
            autocompletion=completers.contexts,
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url", help="JobManager REST URL; bypasses the config file.", envvar="FLINKCTL_URL"
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Config file.", envvar="FLINKCTL_CONFIG", dir_okay=False),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Default output format (as -o on each command).",
            envvar="FLINKCTL_OUTPUT",
        ),
    ] = None,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colour (also NO_COLOR).")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log each request to stderr.")
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Tracebacks and full Flink errors.", envvar="FLINKCTL_DEBUG"),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit (with -v, the cluster's too)."),
    ] = False,
    old_context: Annotated[
        str | None,
        # -c named the context in 0.1; the entry class now (deploy, jars run: bin/flink run -c)
        typer.Option("-c", hidden=True, callback=_old_context_flag, expose_value=False),
    ] = None,
) -> None:
    """Operate Apache Flink clusters through the JobManager's REST API.

    Example:

      flinkctl --context prod jobs list -o json
    """
    from flinkctl.cli.common.options import set_output
    from flinkctl.output.formats import OutputFormat

    invocation = ctx.ensure_object(Invocation)  # failures.run passes one; made here otherwise
    invocation.config, invocation.context, invocation.url = config, context, url
    invocation.verbose = verbose
    invocation.debug = debug
    invocation.io.color = not no_color
    set_output(invocation.output, output or OutputFormat.TABLE.value)
    if version:
        _print_version(invocation)
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        invocation.io.line(ctx.get_help())
        raise typer.Exit(2)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every error becomes one line on stderr and its documented exit code."""
    import os

    from flinkctl.errors import ExitCode
    from flinkctl.output.streams import guard

    guard()  # stdout that cannot be written is an error, stderr never changes the exit code
    try:
        from flinkctl.cli.common.failures import run

        if "_FLINKCTL_COMPLETE" in os.environ:  # a TAB press: our shell classes answer it
            from flinkctl.cli.completion import register

            register()
        code = run(app, argv)
    except KeyboardInterrupt as exc:  # outside a command, or a second signal while one is handled
        from flinkctl.signals import exit_code

        code = exit_code((), exc)
    if code in (ExitCode.INTERRUPTED, ExitCode.TERMINATED):
        exit_at_once(code)
    import signal

    from flinkctl.signals import HELD

    for done in HELD:  # a late signal cannot spoil the exit
        signal.signal(done, signal.SIG_IGN)
    sys.exit(code)


def exit_at_once(code: int) -> NoReturn:
    """After a signal: flush what was written and exit with CODE now, not after the requests
    still running in worker threads finish."""
    import os
    from contextlib import suppress

    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
