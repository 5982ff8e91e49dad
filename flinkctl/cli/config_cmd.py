"""`flinkctl config`: contexts, named as in kubectl."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from flinkctl.cli.common.arguments import ContextArgument
from flinkctl.cli.common.options import duration_option, with_output
from flinkctl.cli.invocation import Invocation
from flinkctl.errors import NotFoundError, UsageError

app = typer.Typer(no_args_is_help=True)


def _load(inv: Invocation):
    from flinkctl.config import load

    return load(inv.config)


@contextmanager
def _changing(inv: Invocation, name: str, message: str) -> Iterator:
    """The config file, locked, with context NAME (exit 3 if missing), saved after the block;
    MESSAGE on stderr."""
    from flinkctl.config import editing

    with editing(inv.config) as cfg:
        cfg.get(name)
        yield cfg
    inv.io.say(message)


@app.command()
@with_output
def view(
    inv: Invocation,
    raw: Annotated[bool, typer.Option("--raw", help="Show secrets instead of REDACTED.")] = False,
) -> None:
    """Print the config file (YAML unless -o json); inline secrets are redacted unless --raw.

    Example:

      flinkctl config view --raw
    """
    from dataclasses import replace

    from flinkctl.config import redacted
    from flinkctl.output import OutputFormat, View, render

    data = _load(inv).to_dict()
    if not raw:
        data["contexts"] = {n: redacted(c) for n, c in data["contexts"].items()}
    settings = inv.output
    fmt = settings.format
    if fmt not in (OutputFormat.JSON, OutputFormat.YAML):
        fmt = OutputFormat.YAML  # a config is a document: yaml for any other -o
    render(data, View(), replace(settings, format=fmt), inv.io)


@app.command("get-contexts")
@with_output
def get_contexts(inv: Invocation) -> None:
    """List contexts; the current one is marked with '*'.

    Example:

      flinkctl config get-contexts -o name
    """
    from flinkctl.config import redacted
    from flinkctl.output.render import FREE, Column, View

    cfg = _load(inv)
    rows = [
        {"current": name == cfg.current_context, "name": name, **redacted(ctx.to_dict())}
        for name, ctx in sorted(cfg.contexts.items())
    ]
    view = View(
        columns=[
            Column("CURRENT", lambda r: "*" if r["current"] else ""),
            Column("NAME", "name"),
            Column("URL", "url", fit=FREE),
            Column("AUTH", "auth.type"),
        ],
        name="name",
        empty="no contexts",
    )
    inv.emit(rows, view)


@app.command("current-context")
@with_output
def current_context(inv: Invocation) -> None:
    """Print the current context's name (exit 3 when none is set; -o json: {"current-context"}).

    Example:

      flinkctl config current-context
    """
    from flinkctl.output import View

    cfg = _load(inv)
    if not cfg.current_context:
        raise NotFoundError(
            f"no current context set in {cfg.path}", hint="flinkctl config use-context NAME"
        )
    name_only = View(
        table=lambda data, page: page.out(data["current-context"]), name="current-context"
    )
    inv.emit({"current-context": cfg.current_context}, name_only)


@app.command("use-context")
@with_output
def use_context(inv: Invocation, name: ContextArgument) -> None:
    """Make NAME the current context.

    Example:

      flinkctl config use-context prod
    """
    with _changing(inv, name, f'switched to context "{name}"') as cfg:
        cfg.current_context = name


@app.command("set-context")
@with_output
def set_context(
    inv: Invocation,
    name: ContextArgument,
    url: Annotated[
        str | None, typer.Option("--url", help="JobManager REST URL (path prefix allowed).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", help="Bearer token, stored inline ('-': read from stdin)."),
    ] = None,
    token_env: Annotated[
        str | None, typer.Option("--token-env", help="Env var holding the bearer token.")
    ] = None,
    token_file: Annotated[
        str | None, typer.Option("--token-file", help="File holding the bearer token.")
    ] = None,
    token_command: Annotated[
        str | None, typer.Option("--token-command", help="Command printing the token.")
    ] = None,
    username: Annotated[
        str | None, typer.Option("--username", help="Basic auth user name.")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option("--password", help="Basic auth password, inline ('-': from stdin)."),
    ] = None,
    password_env: Annotated[
        str | None, typer.Option("--password-env", help="Env var holding the password.")
    ] = None,
    password_file: Annotated[
        str | None, typer.Option("--password-file", help="File holding the password.")
    ] = None,
    password_command: Annotated[
        str | None, typer.Option("--password-command", help="Command printing it.")
    ] = None,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="Remove any auth settings.")] = False,
    ca_file: Annotated[
        str | None, typer.Option("--ca-file", help="CA bundle to verify the server.")
    ] = None,
    cert_file: Annotated[
        str | None, typer.Option("--cert-file", help="Client certificate (PEM).")
    ] = None,
    key_file: Annotated[
        str | None, typer.Option("--key-file", help="Client certificate key (PEM).")
    ] = None,
    insecure: Annotated[
        bool | None,
        typer.Option("--insecure-skip-verify/--verify", help="Skip TLS verification."),
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", "-H", help="Extra header K=V (repeatable).")
    ] = None,
    timeout: Annotated[
        float | None,
        duration_option(
            "--timeout", help="Read timeout (seconds, or 500ms, 30s, 2m); 100ms or more."
        ),
    ] = None,
    retry_budget: Annotated[
        float | None,
        duration_option(
            "--retry-budget",
            help="How long to retry requests safe to repeat (default 20s; 0: never).",
        ),
    ] = None,
    current: Annotated[
        bool, typer.Option("--current", help="Also make it the current context.")
    ] = False,
) -> None:
    """Create or update a context; only the given settings change.

    Example:

      flinkctl config set-context prod --url https://flink.example.com --token-env FLINK_TOKEN
    """
    from flinkctl.config import Context, check_name, check_timeout, check_url, editing

    check_name(name)
    secrets = {
        "token": token,
        "token-env": token_env,
        "token-file": token_file,
        "token-command": token_command,
        "password": password,
        "password-env": password_env,
        "password-file": password_file,
        "password-command": password_command,
    }
    files = {"ca-file": ca_file, "cert-file": cert_file, "key-file": key_file}
    texts = {"url": url, "username": username, **secrets, **files}
    empty = next(
        (key for key, value in texts.items() if value is not None and not value.strip()), None
    )
    if empty:
        raise UsageError(f"--{empty}: must not be empty")
    with editing(inv.config, create=True) as cfg:
        ctx = cfg.contexts.get(name) or Context(name=name, url="")
        ctx.url = ctx.url if url is None else check_url(url)
        if not ctx.url:
            raise UsageError(f"context {name!r} is new: --url is required")
        given = _from_stdin({k: v for k, v in secrets.items() if v is not None})
        ctx.auth = ctx.auth.changed(given, username=username, clear=no_auth)
        ctx.tls = ctx.tls.changed(
            ca_file=ca_file, cert_file=cert_file, key_file=key_file, insecure_skip_verify=insecure
        )
        ctx.headers.update(_header(item) for item in header or [])
        clash = ctx.auth.clash(ctx.headers)
        if clash:
            raise UsageError(
                f"context {name!r} cannot have both {ctx.auth.kind} auth and an {clash!r} header "
                "(the auth would replace it)",
                hint=f"keep one: --no-auth drops the auth; a header is removed by editing {cfg.path}",
            )
        ctx.timeout = ctx.timeout if timeout is None else check_timeout(timeout, "--timeout")
        ctx.retry_budget = ctx.retry_budget if retry_budget is None else retry_budget
        cfg.contexts[name] = ctx
        if current or not cfg.current_context:
            cfg.current_context = name
    inv.io.say(f'context "{name}" saved to {cfg.path}')


def _header(item: str) -> tuple[str, str]:
    """`-H NAME=VALUE` as (NAME, VALUE), checked as the file's headers are; an error shows no
    value (it may be a credential)."""
    import re

    from flinkctl.config import header_problem

    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        name = re.split(r"[:\s]", item.strip(), maxsplit=1)[0]
        raise UsageError(
            f"--header {name!r}{'...' if name != item else ''}: expected NAME=VALUE",
            hint="-H 'Authorization=Bearer ...' (NAME=VALUE, not curl's NAME: VALUE)",
        )
    problem = header_problem(key.strip(), value)
    if problem:
        raise UsageError(f"--header: {problem}")
    return key.strip(), value


def _from_stdin(given: dict[str, str]) -> dict[str, str]:
    """GIVEN with the value of `--token -` or `--password -` read from the first line of stdin:
    a secret given this way never shows in the process list. One option can read it."""
    import sys

    dashes = [key for key in ("token", "password") if given.get(key) == "-"]
    if len(dashes) > 1:
        raise UsageError("only one option can read stdin: --token - or --password -")
    for key in dashes:
        given[key] = sys.stdin.readline().strip()
        if not given[key]:
            raise UsageError(f"--{key} -: nothing on stdin")
    return given


@app.command("delete-context")
@with_output
def delete_context(inv: Invocation, name: ContextArgument) -> None:
    """Delete a context (and unset it if it was current).

    Example:

      flinkctl config delete-context staging
    """
    with _changing(inv, name, f'deleted context "{name}"') as cfg:
        del cfg.contexts[name]
        if cfg.current_context == name:
            cfg.current_context = None
