"""The root command: global options, sub-command groups, and the one place errors become exit codes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from flinkctl import __version__
from flinkctl.cli import complete
from flinkctl.cli.state import state

GROUPS = (
    # (name, module holding its Typer `app`, hidden aliases); imported only when used
    ("cluster", "flinkctl.cli.cluster", ()),
    ("config", "flinkctl.cli.config_cmd", ()),
    ("jobmanager", "flinkctl.cli.jobmanager", ("jm",)),
    ("taskmanagers", "flinkctl.cli.taskmanagers", ("tm",)),
    ("jobs", "flinkctl.cli.jobs", ()),
    ("vertices", "flinkctl.cli.vertices", ()),
    ("subtasks", "flinkctl.cli.subtasks", ()),
    ("checkpoints", "flinkctl.cli.checkpoints", ()),
    ("savepoint", "flinkctl.cli.savepoint", ()),
    ("jars", "flinkctl.cli.jars", ()),
    ("datasets", "flinkctl.cli.datasets", ()),
    ("applications", "flinkctl.cli.applications", ()),
    ("local", "flinkctl.cli.local", ()),
    ("completion", "flinkctl.cli.completion", ()),
)
MODULES = {name: module for name, module, _ in GROUPS}
ALIASES = {alias: name for name, _, aliases in GROUPS for alias in aliases}


class LazyGroup(TyperGroup):
    """The root group: a command group's module is imported only when that group runs.

    Start-up time is a feature: `flinkctl jobs list` imports the jobs module and no other.
    """

    def list_commands(self, ctx) -> list[str]:
        return [name for name, _, _ in GROUPS]

    def get_command(self, ctx, name: str):
        import importlib

        name = ALIASES.get(name, name)
        if name not in MODULES:
            return None
        command = typer.main.get_command(importlib.import_module(MODULES[name]).app)
        command.name = name
        return command


app = typer.Typer(
    name="flinkctl",
    cls=LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version() -> None:
    print(f"flinkctl {__version__}")
    if state.verbose:
        from flinkctl.errors import FlinkctlError

        try:
            print(f"Flink {state.client().dashboard_config().get('flink-version')}")
        except FlinkctlError as exc:
            print(f"Flink: unknown ({exc.message})", file=sys.stderr)


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    context: Annotated[
        Optional[str],
        typer.Option(
            "--context", "-c", help="Context from the config file.", envvar="FLINKCTL_CONTEXT",
            autocompletion=complete.contexts,
        ),
    ] = None,
    url: Annotated[
        Optional[str],
        typer.Option("--url", help="JobManager REST URL; bypasses the config file.", envvar="FLINKCTL_URL"),
    ] = None,
    config: Annotated[
        Optional[Path],
        typer.Option("--config", help="Config file.", envvar="FLINKCTL_CONFIG", dir_okay=False),
    ] = None,
    output: Annotated[
        Optional[str],
        typer.Option("--output", "-o", help="Default output format: table, wide, json, yaml, name.", envvar="FLINKCTL_OUTPUT"),
    ] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour (also NO_COLOR).")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log each request to stderr.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Tracebacks and full Flink errors.", envvar="FLINKCTL_DEBUG")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit (with -v, the cluster's too)."),
    ] = False,
) -> None:
    """Operate Apache Flink clusters through the JobManager's REST API.

    Example:

      flinkctl --context prod jobs list -o json
    """
    from flinkctl.cli.options import set_output
    from flinkctl.output.render import settings

    state.config, state.context, state.url = config, context, url
    state.verbose = verbose
    state.debug = debug
    settings.color = not no_color
    set_output(output or "table")
    if version:
        _print_version()
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        print(ctx.get_help())
        raise typer.Exit(2)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every error becomes one line on stderr and its documented exit code."""
    import os

    from flinkctl.cli.errors import run

    if "_FLINKCTL_COMPLETE" in os.environ:  # a TAB press: register our shell classes first
        import flinkctl.cli.completion  # noqa: F401

    sys.exit(run(app, argv))
