"""`flinkctl deploy` and `flinkctl rollback`: top-level commands over flinkctl.workflows.deploy.

Each step is printed on stderr as it ends (a spinner on a terminal shows the one in progress);
stdout gets the report. The exit code says what runs now: 0 deployed or unchanged, 2 refused
before the running job was touched, 6 rolled back to the previous revision (healthy), 1 failed,
8 the old job's savepoint or stop timed out.
"""

import copy
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer

from flinkctl.cli.common.arguments import savepoint_path
from flinkctl.cli.common.options import (
    AllowNonRestoredOption,
    CatalogOption,
    DrainOption,
    FromSavepointOption,
    SavepointDirOption,
    catalog_at,
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
from flinkctl.workflows.deploy_options import LATEST, DeployOptions, UpgradeMode

if TYPE_CHECKING:
    from flinkctl.workflows.deploy import Report, Step

app = typer.Typer(no_args_is_help=True)


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
KeepJarsOption = Annotated[
    int,
    typer.Option(
        "--keep-jars", min=1, help="Keep the jars deploy uploaded for this many revisions."
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


def unless_given(option: Any, name: str) -> Any:
    """The typer.Option of OPTION (Annotated[type, typer.Option(...)]) as `deploy` declares
    it, None unless given (so that -f gets only the options given): its help shows the
    default that applies when neither gives it, DeployOptions' of NAME."""
    info = copy.copy(get_args(option)[1])
    info.show_default = str(DeployOptions.default(name))
    return info


# deploy's own, None unless given
GivenUpgradeMode = Annotated[UpgradeMode | None, unless_given(UpgradeModeOption, "upgrade_mode")]
GivenHealthyFor = Annotated[float | None, unless_given(HealthyForOption, "healthy_for")]
GivenMaxRestarts = Annotated[int | None, unless_given(MaxRestartsOption, "max_restarts")]
GivenTimeout = Annotated[float | None, unless_given(TimeoutOption, "timeout")]
GivenKeepJars = Annotated[int | None, unless_given(KeepJarsOption, "keep_jars")]


class Progress:
    """A workflow Listener: finished steps on stderr (table output only, so a json report
    stays alone), and a spinner naming the step in progress when stderr is a terminal."""

    def __init__(self, inv: Invocation) -> None:
        self.show = inv.output.format.is_human
        self.io = inv.io
        self.live: Any = None
        self.step: Step | None = None
        self.detail = ""
        self.began = time.monotonic()

    def started(self, step: "Step") -> None:
        self.step, self.detail, self.began = step, step.detail, time.monotonic()
        if self.show and self.live is None:
            from flinkctl.cli.common.waiting import spinner

            self.live = spinner(self.io, self)

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

        name = self.step.name if self.step else ""
        elapsed = duration((time.monotonic() - self.began) * 1000)
        detail = f": {self.detail}" if self.detail else ""
        return Text(f"{name} ({elapsed}){detail}")


def run_workflow(inv: Invocation, catalog: Path | None, work: "Any") -> None:
    """Run WORK(deployer) with progress on stderr; print its report; exit with its code.

    SIGTERM (what CI sends on cancel) and SIGHUP are handled as Ctrl-C: each stops the run where
    it is and prints the report so far, in the chosen format, with the state to recover from
    (exit 143 or 130). A second signal while the report is printed is held back.
    """
    from flinkctl.signals import held_back, signal_of
    from flinkctl.workflows.deploy import Deployer

    progress = Progress(inv)
    deployer = Deployer(inv.client(), catalog_at(inv, catalog), progress)
    try:
        report: Report = work(deployer)
    except KeyboardInterrupt as exc:  # SIGTERM and SIGHUP too: failures.run raises them
        with held_back():  # a second signal waits until the report is printed
            progress.close()
            report = deployer.interrupted(signal_of(exc))
            inv.io.say(f"{report.cause}; {report.hint}")
            _print_report(inv, progress, report)
        raise typer.Exit(report.exit_code) from None
    finally:
        progress.close()
        deployer.catalog.close()
    _print_report(inv, progress, report)
    raise typer.Exit(report.exit_code)


def _print_report(inv: Invocation, progress: Progress, report: "Report") -> None:
    from flinkctl.output.deploy import REPORT

    for note in report.notes:
        if progress.show:
            inv.io.say(f"note: {note}")
    inv.emit(report.to_json(), REPORT)


# -- the commands -----------------------------------------------------------------------------


@app.command()
@with_output
def deploy(
    inv: Invocation,
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
    upgrade_mode: GivenUpgradeMode = None,
    allow_non_restored_state: AllowNonRestoredOption = False,
    drain: DrainOption = False,
    from_savepoint: FromSavepointOption = None,
    fresh: Annotated[
        bool,
        typer.Option("--fresh", help="Start the new revision without state."),
    ] = False,
    savepoint_dir: SavepointDirOption = None,
    healthy_for: GivenHealthyFor = None,
    max_restarts: GivenMaxRestarts = None,
    min_checkpoints: MinCheckpointsOption = None,
    timeout: GivenTimeout = None,
    keep_jars: GivenKeepJars = None,
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
    from flinkctl.workflows.deploy_options import load

    # the options the user gave: flags set, values not None (deploy declares every other
    # option None, the defaults are DeployOptions'); the rest are -f's or the defaults
    given = {k: v for k, v in locals().items() if k in DeployOptions.names()}
    given = {k: v for k, v in given.items() if v is not None and v is not False}
    if "conf" in given:
        given["conf"] = configuration(given["conf"])
    if "arg" in given:
        given["arg"] = tuple(given["arg"])
    options = load(file, given)
    request = options.request(local_jar)
    for path, what in ((options.from_savepoint, "savepoint path"),
                       (options.savepoint_dir, "savepoint directory")):  # fmt: skip
        if path not in (None, LATEST):
            savepoint_path(path, what)
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
    healthy_for: HealthyForOption = DeployOptions.healthy_for,
    max_restarts: MaxRestartsOption = DeployOptions.max_restarts,
    min_checkpoints: MinCheckpointsOption = None,
    timeout: TimeoutOption = DeployOptions.timeout,
    upgrade_mode: UpgradeModeOption = DeployOptions.upgrade_mode,
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
    from flinkctl.workflows.health import Gate

    gate = Gate(healthy_for, max_restarts, min_checkpoints, timeout)
    if gate.healthy_for >= gate.timeout:
        raise UsageError("--healthy-for must be shorter than --timeout")
    restore = from_savepoint if from_savepoint in (None, LATEST) else savepoint_path(from_savepoint)
    run_workflow(
        inv,
        catalog,
        lambda deployer: deployer.rollback(
            name,
            revision,
            gate,
            upgrade_mode=upgrade_mode,
            from_savepoint=restore,
            timeout=timeout,
            conf=configuration(conf or []),
            args=tuple(arg or ()),
        ),
    )
