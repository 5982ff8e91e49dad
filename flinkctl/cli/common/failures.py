"""`run`: invoke the command tree for one Invocation, and turn what it raises into one stderr
line (or a JSON error object) and an exit code (flinkctl.errors holds the exception types)."""

import functools
import json
import sys
import traceback
from typing import Any

import typer

from flinkctl.cli.invocation import Invocation
from flinkctl.errors import ExitCode, FlinkctlError, UsageError
from flinkctl.output.streams import StdoutError, silence


def report(err: FlinkctlError, invocation: Invocation) -> None:
    """Print ERR on the invocation's stderr as `error: ...` (+ hint), or as a JSON object with
    -o json."""
    say = invocation.io.say
    if invocation.output.format.is_json:
        say(json.dumps(err.to_json()))
        return
    say(f"error: {err.message}")
    if invocation.debug and err.flink:
        for msg in err.flink:
            say(msg)
    if err.hint:
        say(f"hint: {err.hint}")


def run(app: typer.Typer, argv: list[str] | None, invocation: Invocation | None = None) -> int:
    """Invoke the Typer app for a new Invocation (the root context's `obj`; by default on the
    process's stdout and stderr) without Typer's standalone handling, and map errors to exit
    codes; flinkctl's warnings (FlinkctlWarning) become `warning: ...` lines on its stderr."""
    import warnings

    from flinkctl.errors import FlinkctlWarning

    invocation = invocation or Invocation()

    def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
        invocation.io.say(f"warning: {message}")

    with warnings.catch_warnings():
        warnings.simplefilter("always", FlinkctlWarning)
        warnings.showwarning = show_warning
        return _run(app, argv, invocation)


@functools.cache
def _root(app: typer.Typer) -> Any:
    """APP's Click command, built once per process (a build costs a few milliseconds)."""
    return typer.main.get_command(app)


def _run(app: typer.Typer, argv: list[str] | None, invocation: Invocation) -> int:
    # Click's exception types, as bundled by Typer: a private module that may move on an upgrade.
    from typer._click import exceptions as click_exc

    from flinkctl.signals import exit_code, signals_interrupt

    command = _root(app)
    received: list[int] = []
    try:
        with signals_interrupt() as received:  # SIGTERM, SIGHUP stop a command as Ctrl-C does
            rv = command.main(
                args=argv, prog_name="flinkctl", standalone_mode=False, obj=invocation
            )
        code = rv if isinstance(rv, int) else 0
        if code == ExitCode.INTERRUPTED:  # Typer's exit 130 for any interruption
            code = exit_code(received)
    except FlinkctlError as err:
        if invocation.debug:
            traceback.print_exc(file=invocation.io.err)
        report(err, invocation)
        code = int(err.code)
    except click_exc.NoArgsIsHelpError as err:  # the help is already printed
        if err.format_message():
            invocation.io.say(err.format_message())
        code = ExitCode.USAGE
    except click_exc.UsageError as err:
        hint = None
        if err.ctx is not None:
            hint = f"see '{err.ctx.command_path} --help'"
        report(UsageError(err.format_message(), hint=hint), invocation)
        code = ExitCode.USAGE
    except click_exc.ClickException as err:
        report(UsageError(err.format_message()), invocation)
        code = ExitCode.USAGE
    except (KeyboardInterrupt, typer.Abort) as exc:
        code = exit_code(received, exc)
        invocation.io.say("terminated" if code == ExitCode.TERMINATED else "interrupted")
    except (BrokenPipeError, StdoutError) as exc:
        code = _stdout_failed(exc, invocation, ExitCode.OK)
    except typer.Exit as exc:
        code = exc.exit_code
    except SystemExit as exc:  # Typer exits 1 itself when stdout is a closed pipe
        if isinstance(exc.__context__, BrokenPipeError):
            code = _stdout_failed(exc.__context__, invocation, ExitCode.OK)
        else:
            code = exc.code if isinstance(exc.code, int) else ExitCode.FAILED
    except Exception as exc:  # last: a signal raised inside a class's creation comes out wrapped
        if not isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            raise
        code = exit_code(received, exc.__cause__ or exc.__context__)
    finally:
        invocation.close()
    try:
        invocation.io.out.flush()
    except (BrokenPipeError, StdoutError) as exc:
        code = _stdout_failed(exc, invocation, code)
    return int(code)


def _stdout_failed(exc: OSError, invocation: Invocation, code: int) -> int:
    """The exit code after stdout failed in a run that would exit CODE: a closed pipe (`| head`)
    ends it quietly; stdout closed, full or failing is an error line, and exit 1 unless CODE is
    already a failure's."""
    silence(sys.stdout)  # the interpreter's final flush stays quiet
    if isinstance(exc, BrokenPipeError):
        return code
    report(FlinkctlError(f"cannot write to standard output: {exc.strerror}"), invocation)
    return code or ExitCode.FAILED
