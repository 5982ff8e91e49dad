"""`flinkctl deploy` and `flinkctl rollback`: top-level commands over flinkctl.workflows.deploy.

Each step is printed on stderr as it ends (a spinner on a terminal shows the one in progress);
stdout gets the report. The exit code says what runs now: 0 deployed or unchanged, 2 refused
before the running job was touched, 6 rolled back to the previous revision (healthy), 1 failed,
8 the old job's savepoint or stop timed out.
"""

import time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flinkctl.cli.common.arguments import savepoint_path
from flinkctl.cli.common.options import (
    AllowNonRestoredOption,
    CatalogOption,
    DrainOption,
    FromSavepointOption,
    SavepointDirOption,
    catalog_at,
    duration,
    duration_option,
    with_output,
)
from flinkctl.cli.invocation import Invocation
from flinkctl.cli.jars import (
    ArgOption,
    ClassOption,
    ConfOption,
    ParallelismOption,
    configuration,
    local_jar,
)
from flinkctl.errors import UsageError

if TYPE_CHECKING:
    from flinkctl.workflows.deploy import Report, Step

app = typer.Typer(no_args_is_help=True)


class UpgradeMode(str, Enum):
    """How deploy takes the running job's state."""

    savepoint = "savepoint"
    last_state = "last-state"
    stateless = "stateless"


UpgradeModeOption = Annotated[
    UpgradeMode,
    typer.Option(
        "--upgrade-mode",
        help="How to take the running job's state: stop with a savepoint, cancel and use "
        "its newest retained checkpoint, or cancel and start without state.",
    ),
]
NameArgument = Annotated[
    str | None,
    typer.Argument(
        help="The job's name (as the program passes it to execute()).",
        show_default=False,
        metavar="NAME",
    ),
]
HealthyForOption = Annotated[
    float,
    duration_option(
        "--healthy-for",
        help="How long the new job must stay healthy once all tasks run (seconds, or 45s, 2m).",
    ),
]
MaxRestartsOption = Annotated[
    int, typer.Option("--max-restarts", min=0, help="Restarts allowed during the health gate.")
]
MinCheckpointsOption = Annotated[
    int | None,
    typer.Option(
        "--min-checkpoints",
        min=0,
        help="Checkpoints to complete during the health gate (default: 1 if checkpointing).",
    ),
]
TimeoutOption = Annotated[
    float,
    duration_option(
        "--timeout",
        help="Each wait: the old job's savepoint or stop (exit 8), the health gate (seconds, or "
        "45s, 10m).",
    ),
]
DEFAULTS: dict[str, Any] = {"healthy_for": 30.0, "max_restarts": 0, "timeout": 300.0}


class Progress:
    """A workflow Listener: finished steps on stderr (table output only, so a json report
    stays alone), and a spinner naming the step in progress when stderr is a terminal."""

    def __init__(self, inv: Invocation) -> None:
        self.show = inv.output.format in ("table", "wide")
        self.io = inv.io
        self.live: Any = None
        self.step: Step | None = None
        self.detail = ""
        self.began = time.monotonic()

    def started(self, step: "Step") -> None:
        self.step, self.detail, self.began = step, step.detail, time.monotonic()
        if self.show and self.live is None and self.io.err_is_terminal:
            from rich.live import Live
            from rich.spinner import Spinner

            self.live = Live(
                Spinner("dots", text=self),
                console=self.io.console(stderr=True),
                transient=True,
                refresh_per_second=8,
            )
            self.live.start()

    def progress(self, step: "Step", detail: str) -> None:
        self.detail = detail

    def finished(self, step: "Step") -> None:
        from flinkctl.output.deploy import step_line

        if not self.show:
            return
        line = step_line(step.to_json())
        if self.live is not None:
            self.live.console.print(line, markup=False, highlight=False)
        else:
            self.io.say(line)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def __rich__(self) -> Any:
        from rich.text import Text

        from flinkctl.output.humanize import duration

        name = self.step.step if self.step else ""
        elapsed = duration((time.monotonic() - self.began) * 1000)
        detail = f": {self.detail}" if self.detail else ""
        return Text(f"{name} ({elapsed}){detail}")


def run_workflow(inv: Invocation, catalog: Path | None, work: "Any") -> None:
    """Run WORK(deployer) with progress on stderr; print its report; exit with its code.

    SIGTERM (what CI sends on cancel) is handled as Ctrl-C: both stop the run where it is and
    print the report so far, in the chosen format, with the state to recover from (exit 130 or
    143). A second signal while the report is printed is held back.
    """
    import signal

    from flinkctl.local.processes import signals_interrupt
    from flinkctl.output.deploy import REPORT
    from flinkctl.workflows.deploy import Deployer

    progress = Progress(inv)
    deployer = Deployer(inv.client(), catalog_at(inv, catalog), progress)
    with signals_interrupt((signal.SIGINT, signal.SIGTERM)) as received:
        try:
            report: Report = work(deployer)
        except KeyboardInterrupt:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            progress.close()
            report = deployer.interrupted(received[-1] if received else signal.SIGINT)
            inv.io.say(f"{report.cause}; {report.hint}")
        finally:
            progress.close()
            deployer.catalog.close()
    for note in report.notes:
        if progress.show:
            inv.io.say(f"note: {note}")
    inv.emit(report.to_json(), REPORT)
    raise typer.Exit(report.exit_code)


# -- deploy.yaml ------------------------------------------------------------------------------

FILE_KEYS = {
    # key in deploy.yaml -> parameter of `deploy`
    "name": "name",
    "jar": "jar",
    "class": "entry_class",
    "arg": "arg",
    "parallelism": "parallelism",
    "configuration": "conf",
    "upgrade-mode": "upgrade_mode",
    "allow-non-restored-state": "allow_non_restored_state",
    "drain": "drain",
    "from-savepoint": "from_savepoint",
    "fresh": "fresh",
    "savepoint-dir": "savepoint_dir",
    "healthy-for": "healthy_for",
    "max-restarts": "max_restarts",
    "min-checkpoints": "min_checkpoints",
    "timeout": "timeout",
    "keep-jars": "keep_jars",
    "no-rollback": "no_rollback",
}


def from_file(path: Path, given: dict[str, Any], ctx: typer.Context) -> dict[str, Any]:
    """GIVEN (the command's parameters) with the values of the deploy.yaml at PATH for every
    option not given on the command line; -D options merge (the command line wins per key)."""
    import yaml

    # Click as bundled by Typer: a private module that may move on a Typer upgrade.
    from typer._click.core import ParameterSource

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping of option names to values")
    unknown = sorted(set(map(str, data)) - set(FILE_KEYS))
    if unknown:
        raise UsageError(
            f"{path}: unknown key {unknown[0]!r}",
            hint=f"keys: {', '.join(FILE_KEYS)}",
        )
    merged = dict(given)
    for key, value in data.items():
        param = FILE_KEYS[key]
        if param == "conf":
            if not isinstance(value, dict):
                raise UsageError(f"{path}: configuration must map keys to values")
            merged["conf"] = [f"{k}={v}" for k, v in value.items()] + list(given["conf"] or [])
        elif param == "arg":
            if ctx.get_parameter_source("arg") in (None, ParameterSource.DEFAULT):
                merged["arg"] = [str(a) for a in (value if isinstance(value, list) else [value])]
        elif ctx.get_parameter_source(param) in (None, ParameterSource.DEFAULT):
            merged[param] = value
    return merged


# -- the commands -----------------------------------------------------------------------------


@app.command()
@with_output
def deploy(
    inv: Invocation,
    ctx: typer.Context,
    name: NameArgument = None,
    jar: Annotated[
        str | None,
        typer.Option(
            "--jar",
            help="A local jar file (uploaded unless this content already runs), or an uploaded "
            "jar's id, id prefix or file name.",
        ),
    ] = None,
    entry_class: ClassOption = None,
    arg: ArgOption = None,
    parallelism: ParallelismOption = None,
    conf: ConfOption = None,
    upgrade_mode: UpgradeModeOption = UpgradeMode.savepoint,
    allow_non_restored_state: AllowNonRestoredOption = False,
    drain: DrainOption = False,
    from_savepoint: FromSavepointOption = None,
    fresh: Annotated[
        bool,
        typer.Option("--fresh", help="Start the new revision without state."),
    ] = False,
    savepoint_dir: SavepointDirOption = None,
    healthy_for: HealthyForOption = DEFAULTS["healthy_for"],
    max_restarts: MaxRestartsOption = DEFAULTS["max_restarts"],
    min_checkpoints: MinCheckpointsOption = None,
    timeout: TimeoutOption = DEFAULTS["timeout"],
    keep_jars: Annotated[
        int,
        typer.Option(
            "--keep-jars", min=1, help="Keep the jars deploy uploaded for this many revisions."
        ),
    ] = 3,
    no_rollback: Annotated[
        bool,
        typer.Option(
            "--no-rollback",
            help="On failure leave things as they are (and print the savepoint to recover from).",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Validate (upload, plan) and list the steps; change nothing."
        ),
    ] = False,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            help="Take options from this YAML file (kebab-case keys); flags win.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    catalog: CatalogOption = None,
) -> None:
    """Deploy a job safely: check it, take the old job's state, start, health-gate, roll back.

    Resolves the job running as NAME; changes nothing when the same jar content, class,
    arguments, parallelism and -D already run; uploads and plans the jar (a failing main() is
    refused before the running job is touched); takes the old job's state (--upgrade-mode);
    starts the new revision from it (NO_CLAIM); waits until every task runs and stays healthy
    for --healthy-for seconds; otherwise starts the previous revision again from that state.
    --from-savepoint starts from that snapshot instead; --drain (the old job's savepoint after
    draining) needs --no-rollback.

    --from-savepoint latest starts from NAME's newest savepoint (as `savepoint latest NAME`).
    Exit 0 deployed or unchanged, 2 refused (nothing changed), 6 rolled back (the previous
    revision runs again, healthy), 1 failed, 8 the old job's savepoint timed out. -o json
    prints the report (see the README); `flinkctl jobs history NAME` lists the revisions.

    Example:

      flinkctl deploy orders-etl --jar target/orders-etl.jar -p 4 -o json
    """
    from flinkctl.workflows.deploy import LATEST, Request
    from flinkctl.workflows.health import Gate

    values: dict[str, Any] = {
        "name": name, "jar": jar, "entry_class": entry_class, "arg": arg,
        "parallelism": parallelism, "conf": conf, "upgrade_mode": upgrade_mode,
        "allow_non_restored_state": allow_non_restored_state, "drain": drain,
        "from_savepoint": from_savepoint, "fresh": fresh, "savepoint_dir": savepoint_dir,
        "healthy_for": healthy_for, "max_restarts": max_restarts,
        "min_checkpoints": min_checkpoints, "timeout": timeout, "keep_jars": keep_jars,
        "no_rollback": no_rollback,
    }  # fmt: skip
    if file is not None:
        values = from_file(file, values, ctx)
    if not values["name"]:
        raise UsageError("missing NAME (the job's name)", hint="give it, or `name:` in --file")
    if not values["jar"]:
        raise UsageError("missing --jar FILE|JAR", hint="give it, or `jar:` in --file")
    jar_value = str(values["jar"])
    restore = values["from_savepoint"]
    request = Request(
        name=str(values["name"]),
        jar=jar_value,
        jar_file=local_jar(jar_value),
        entry_class=values["entry_class"],
        args=tuple(values["arg"] or ()),
        parallelism=values["parallelism"],
        conf=configuration(values["conf"] or []),
        upgrade_mode=UpgradeMode(values["upgrade_mode"]).value,
        allow_non_restored_state=bool(values["allow_non_restored_state"]),
        drain=bool(values["drain"]),
        from_savepoint=restore if restore in (None, LATEST) else savepoint_path(restore),
        fresh=bool(values["fresh"]),
        savepoint_dir=values["savepoint_dir"],
        gate=Gate(
            healthy_for=duration(values["healthy_for"]),
            max_restarts=int(values["max_restarts"]),
            min_checkpoints=values["min_checkpoints"],
            timeout=duration(values["timeout"]),
        ),
        timeout=duration(values["timeout"]),
        keep_jars=int(values["keep_jars"]),
        rollback=not values["no_rollback"],
        dry_run=dry_run,
    )
    request.check()
    run_workflow(inv, catalog, lambda deployer: deployer.deploy(request))


@app.command()
@with_output
def rollback(
    inv: Invocation,
    name: Annotated[
        str,
        typer.Argument(help="The job's name.", show_default=False, metavar="NAME"),
    ],
    revision: Annotated[
        int | None,
        typer.Option(
            "--revision", min=1, help="Go to this revision (default: the previous good one)."
        ),
    ] = None,
    healthy_for: HealthyForOption = DEFAULTS["healthy_for"],
    max_restarts: MaxRestartsOption = DEFAULTS["max_restarts"],
    min_checkpoints: MinCheckpointsOption = None,
    timeout: TimeoutOption = DEFAULTS["timeout"],
    upgrade_mode: UpgradeModeOption = UpgradeMode.savepoint,
    from_savepoint: FromSavepointOption = None,
    conf: ConfOption = None,
    arg: ArgOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Stop NAME's job with a savepoint and start an earlier revision from it, health-gated.

    The revision comes from the running job's own record (it carries the previous good
    revision), so this works from a machine that never deployed NAME, as long as that
    revision's jar is still uploaded. If the earlier revision is not healthy, the job that ran
    before starts again from the same savepoint (exit 6). A job that cannot stop with a
    savepoint (crash-looping: its tasks restart) is cancelled and the earlier revision starts
    from its newest retained checkpoint, else from the newest savepoint of NAME (the report
    says which and how old); with neither, nothing is touched (exit 2). --upgrade-mode and
    --from-savepoint work as in deploy. The cluster's record masks secrets (sensitive -D keys,
    --password arguments); from a machine whose catalog lacks them, give them with -D and --arg
    as deploy did, or the rollback is refused naming them. Exit codes and -o json as deploy.

    Example:

      flinkctl rollback orders-etl --revision 3 -o json
    """
    from flinkctl.workflows.deploy import LATEST
    from flinkctl.workflows.health import Gate

    gate = Gate(healthy_for, max_restarts, min_checkpoints, timeout)
    if gate.healthy_for >= gate.timeout:
        raise UsageError("--healthy-for must be shorter than --timeout")
    restore = from_savepoint if from_savepoint in (None, LATEST) else savepoint_path(from_savepoint)
    mode = UpgradeMode(upgrade_mode).value
    run_workflow(
        inv,
        catalog,
        lambda deployer: deployer.rollback(
            name,
            revision,
            gate,
            upgrade_mode=mode,
            from_savepoint=restore,
            timeout=timeout,
            conf=configuration(conf or []),
            args=tuple(arg or ()),
        ),
    )
