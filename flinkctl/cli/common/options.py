"""Options shared by commands: `-o/--output` and `--query` (one decorator, which also hands the
command its invocation: see `with_invocation`), `options_from`, the one way to add a set of
options to several commands, the savepoint options that
`savepoint trigger`, `jobs stop`, `jars run` and `deploy` share (bin/flink's letters), the
duration parser, and `--catalog` (with `catalog_at`)."""

import functools
import inspect
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from flinkctl.cli.common.arguments import savepoint_path
from flinkctl.cli.invocation import Invocation

if TYPE_CHECKING:
    from flinkctl.catalog import Catalog
    from flinkctl.output.formats import OutputFormat
    from flinkctl.output.render import Settings

OUTPUT_HELP = (
    "Output format: table, wide, json, jsonl, yaml, name{extra} or custom-columns=NAME:EXPR,..."
)
QUERY_HELP = (
    "JMESPath expression applied to the json output, e.g. 'jobs[].jid'. A string result prints"
    " bare and a list of them one per line, unless -o json|yaml is given; quote kebab-case keys"
    """ in double quotes: '"start-time"'."""
)


def set_output(
    settings: "Settings",
    output: str | None,
    query: str | None = None,
    extra: "tuple[OutputFormat, ...]" = (),
) -> None:
    """Validate the output options and store them in SETTINGS (command level wins over root
    level; without OUTPUT, the root's format stays, validated there).

    EXTRA: formats this command prints itself (e.g. OutputFormat.DOT), besides render's.
    """
    from flinkctl.output.formats import OutputFormat

    if output is None:
        pass
    elif output.startswith("custom-columns="):
        from flinkctl.output.query import custom_columns

        settings.columns = custom_columns(output.removeprefix("custom-columns="))
        settings.format = OutputFormat.CUSTOM_COLUMNS
    else:
        settings.format = OutputFormat.choose(output, extra)
    if query is not None:
        from flinkctl.output.query import compile_query

        compile_query(query)
        settings.query = query
        if not settings.format.is_document:
            settings.format, settings.bare = OutputFormat.JSON, True


def options_from(prepare: Callable[..., Any], into: str | None = None) -> Callable:
    """A decorator adding PREPARE's parameters (Typer options) to a command's signature.

    Before the command runs, PREPARE(**their values) runs (PREPARE(inv, **their values) when
    its first parameter is `inv`: the command's invocation, see `with_invocation`). With INTO,
    the options take the place of the command's parameter of that name, and PREPARE's result is
    passed to it; without, they come last.
    """
    takes = list(inspect.signature(prepare).parameters.values())
    with_inv = bool(takes) and takes[0].name == "inv"
    added = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in takes[with_inv:]]

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        at = next((i for i, p in enumerate(params) if p.name == into), len(params))
        rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params[at + 1 :]]
        params = params[:at] + added + rest

        @functools.wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> Any:
            value = prepare(*args[:with_inv], **{p.name: kw.pop(p.name, p.default) for p in added})
            if into is not None:
                kw[into] = value
            return fn(*args, **kw)

        wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper

    return decorate


def _running() -> Invocation:
    """The invocation of the command Click runs now: its root context's `obj` (failures.run
    puts it there). The one place that reads Click's context for it (see `with_invocation`)."""
    # Typer exports no get_current_context: this is its bundled Click's, a private module that
    # may move on a Typer upgrade.
    from typer._click.globals import get_current_context

    return get_current_context().find_root().obj


def with_invocation(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The Typer adapter of a command body `fn(inv, **options)`: Typer sees FN's options only,
    and the body gets the running invocation (streams, settings, client) as its first argument,
    as gh's commands get their runF's options. `with_output` includes it."""
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    if not params or params[0].name != "inv":
        raise TypeError(f"{fn.__qualname__}: a command body's first parameter is `inv`")
    params = params[1:]

    @functools.wraps(fn)
    def command(*args: Any, **kw: Any) -> Any:
        return fn(_running(), *args, **kw)

    command.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


def with_output(
    fn: Callable[..., Any] | None = None, *, extra: "tuple[OutputFormat, ...]" = ()
) -> Any:
    """Add `-o/--output` and `--query` to a command body `fn(inv, ...)`, apply them to
    `inv.output` before it runs, and hand it its invocation (see `with_invocation`).

    `@with_output`, or `@with_output(extra=(OutputFormat.DOT,))` for a command that also
    prints formats of its own: it reads the chosen one from `inv.output.format`.
    """
    output_help = OUTPUT_HELP.format(extra="".join(f", {f.value}" for f in extra))

    def apply(
        inv: Invocation,
        output: Annotated[
            Optional[str],  # noqa: UP045 (typer needs Optional here)
            typer.Option("--output", "-o", help=output_help, rich_help_panel="Output"),
        ] = None,
        query: Annotated[
            Optional[str],  # noqa: UP045
            typer.Option("--query", help=QUERY_HELP, rich_help_panel="Output"),
        ] = None,
    ) -> None:
        set_output(inv.output, output, query, extra)

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        return with_invocation(options_from(apply)(fn))

    return decorate if fn is None else decorate(fn)


class SavepointFormat(str, Enum):
    """Savepoint format: `canonical` (portable across state backends) or `native` (faster)."""

    native = "native"
    canonical = "canonical"


SavepointFormatOption = Annotated[
    SavepointFormat | None,
    typer.Option("--format", help="Savepoint format (default: the cluster's, canonical)."),
]


def savepoint_target(directory: str | None, fmt: SavepointFormat | None) -> dict:
    """The request fields a savepoint directory option and --format set (client keywords)."""
    return {"target_directory": directory, "format_type": fmt and fmt.value.upper()}


def _directory(value: str | None) -> str | None:
    return None if value is None else savepoint_path(value, "savepoint directory")


# bin/flink's letters and names for the savepoint options, one definition each for every
# command that has them (jobs stop, savepoint trigger, jars run, deploy, ...)
SAVEPOINT_DIR_HELP = "Target directory (default: the cluster's savepoint dir)."
SavepointDirOption = Annotated[
    str | None, typer.Option("--savepoint-dir", help=SAVEPOINT_DIR_HELP, callback=_directory)
]
DirAliasOption = Annotated[  # `savepoint trigger --dir`: its name before --savepoint-dir
    str | None, typer.Option("--dir", hidden=True, help=SAVEPOINT_DIR_HELP, callback=_directory)
]
DrainOption = Annotated[
    bool,
    typer.Option(
        "--drain",
        "-d",
        help="Drain first: advance the watermark to the end, firing all timers and windows.",
    ),
]
FromSavepointOption = Annotated[
    str | None,
    typer.Option(
        "--from-savepoint", "-s", help="Start from this savepoint or checkpoint (path or URI)."
    ),
]
AllowNonRestoredOption = Annotated[
    bool,
    typer.Option(
        "--allow-non-restored-state", "-n", help="Skip savepoint state that maps to no operator."
    ),
]


def duration(text: str | float) -> float:
    """A duration option's seconds (`parser=` of options that read a duration; exit 2 when
    malformed): `45s`, `30m`, `12h`, `7d`, or a number of seconds (also its default)."""
    from flinkctl.durations import parse

    try:
        return parse(str(text))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def duration_option(name: str, *, help: str) -> Any:
    """A `--NAME DURATION` option (typer.Option): read by `duration`, shown as DURATION."""
    return typer.Option(name, parser=duration, metavar="DURATION", help=help)


CatalogOption = Annotated[
    Optional[Path],  # noqa: UP045 (typer needs Optional here)
    typer.Option(
        "--catalog",
        help="The local record of savepoints and deploys (default: the context's `catalog` "
        "key, else $XDG_STATE_HOME/flinkctl/catalog.db).",
        envvar="FLINKCTL_CATALOG",
        dir_okay=False,
    ),
]


def catalog_at(inv: Invocation, path: Path | None) -> "Catalog":
    """The catalog: --catalog / $FLINKCTL_CATALOG (PATH), else INV's context's `catalog` key,
    else the default file."""
    from flinkctl.catalog import Catalog
    from flinkctl.errors import FlinkctlError

    if path is None:
        try:
            key = inv.resolve_context().catalog
        except FlinkctlError:  # no usable context (e.g. --all-contexts without a current one)
            key = None
        path = Path(key).expanduser() if key else None
    return Catalog(path)
