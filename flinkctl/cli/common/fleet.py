"""`-A/--all-contexts`: run a command's work on every context of the config, or on this run's.

Contexts that fail are named on stderr with their error while the others print; the run exits
with the worst failure's code (flinkctl.errors.SEVERITY).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import typer

from flinkctl.cli.common.options import options_from
from flinkctl.cli.invocation import Invocation
from flinkctl.errors import ExitCode, FlinkctlError, NotFoundError, UsageError, worst

if TYPE_CHECKING:
    from flinkctl.client import FlinkClient

T = TypeVar("T")

AllContextsOption = Annotated[
    bool,
    typer.Option(
        "--all-contexts",
        "-A",
        help="Every context of the config file, in parallel: a CONTEXT column (json: a "
        "`context` key on each item); a context that fails is named on stderr.",
    ),
]


@dataclass(frozen=True)
class Selection:
    """`--all [--name GLOB] [-A]`, the alternative to a command's JOB arguments: every job that
    has not ended (whose name matches GLOB), on this run's context or on every one."""

    all_jobs: bool = False
    glob: str | None = None
    all_contexts: bool = False

    def check(self, given: bool, *, jobs: str, wanted: str, across: str) -> None:
        """Refuse a selection that is not exactly the JOB arguments (GIVEN) or --all; --name and
        -A/--all-contexts go with --all. The messages name JOBS ("JOBs"), what is WANTED ("the
        JOBs to savepoint") and what -A does ACROSS contexts ("takes savepoints")."""
        if given and self.all_jobs:
            raise UsageError(f"give {jobs} or --all, not both")
        if not given and not self.all_jobs:
            raise UsageError(f"give {wanted}, or --all")
        if self.glob and not self.all_jobs:
            raise UsageError("--name selects jobs with --all")
        if self.all_contexts and not self.all_jobs:
            raise UsageError(f"--all-contexts {across} with --all")

    @property
    def nothing(self) -> str:
        """What --all found when it selected no job, in a note or an error."""
        return f"no job whose name matches {self.glob!r} runs" if self.glob else "no job runs"


AllJobsOption = Annotated[
    bool, typer.Option("--all", help="Every job that has not ended (see --name).")
]
NameGlobOption = Annotated[
    str | None,
    typer.Option(
        "--name", help="With --all: only jobs whose name matches this glob, e.g. 'etl-*'."
    ),
]


def _selection(
    all_jobs: AllJobsOption = False,
    glob: NameGlobOption = None,
    all_contexts: AllContextsOption = False,
) -> Selection:
    return Selection(all_jobs, glob, all_contexts)


# a command's `selection: Selection` parameter, from --all, --name and -A
with_selection = options_from(_selection, into="selection")


@dataclass
class Results(Generic[T]):
    """What the work gave per context that answered, and the exit code so far (failures are
    reported on INV's stderr)."""

    inv: Invocation
    values: list[tuple[str, T]]
    codes: list[int] = field(default_factory=list)
    failed: list[tuple[str, FlinkctlError]] = field(default_factory=list)  # contexts that failed

    def fail(self, err: FlinkctlError) -> None:
        """Report ERR on stderr (as `error: ...`, or a JSON object with -o json); count it."""
        from flinkctl.cli.common.failures import report

        report(err, self.inv)
        self.codes.append(int(err.code))

    def failed_lines(self) -> list[dict[str, Any]]:
        """One item per context that failed, for a log: `{"context", "error": {"code", "kind",
        "message"}}` (the message without the `context NAME: ` its stderr line starts with)."""
        return [
            {"context": ctx, "error": {"code": int(e.code), "kind": e.kind, "message": message}}
            for ctx, e in self.failed
            for message in [e.message.removeprefix(f"context {ctx}: ")]
        ]

    def notes(self, what: str) -> list[dict[str, Any]]:
        """One item per context that answered with nothing, for a log: `{"context", "note":
        WHAT}`."""
        return [{"context": ctx, "note": what} for ctx, found in self.values if not found]

    def nothing_found(
        self, nothing: bool, what: str, notes: list[dict[str, Any]], all_contexts: bool
    ) -> None:
        """When NOTHING (no context that answered had anything), fail with exit 3 and WHAT (`...
        on any context` under ALL_CONTEXTS); otherwise, under ALL_CONTEXTS, name the contexts
        of NOTES (Results.notes) on stderr with their note."""
        if nothing:
            self.fail(NotFoundError(what + (" on any context" if all_contexts else "")))
        elif all_contexts:
            for line in notes:
                self.inv.note(f"context {line['context']}: {line['note']}")

    def exit(self, *more: int) -> None:
        """End the run with the worst code of the failures and MORE (nothing when all is OK)."""
        code = worst([*self.codes, *more])
        if code != ExitCode.OK:
            raise typer.Exit(int(code))


def each_context(
    inv: Invocation,
    all_contexts: bool,
    work: Callable[["FlinkClient"], T],
    *,
    keep_failure: bool = False,
) -> Results[T]:
    """WORK(client) on this run's context; with ALL_CONTEXTS on every context of the config
    (flinkctl.workflows.fleet), failed contexts reported on stderr and kept in `failed`. With
    KEEP_FAILURE, this run's one context that fails (down, credentials refused) is too, as a
    fleet's would be, instead of ending the run (a log then has a line for it)."""
    if not all_contexts:
        client = inv.client()
        if not keep_failure:
            return Results(inv, [(client.ctx.name, work(client))])
        try:
            return Results(inv, [(client.ctx.name, work(client))])
        except UsageError:
            raise
        except FlinkctlError as exc:
            results: Results[T] = Results(inv, [], failed=[(client.ctx.name, exc)])
            results.fail(exc)
            return results
    if inv.url:
        raise UsageError("--all-contexts runs over the config file's contexts; drop --url")
    from flinkctl.config import every_context
    from flinkctl.workflows import fleet

    outcomes = fleet.over(every_context(inv.config), work, verbose=inv.verbose)
    results = Results(inv, [(o.context, o.value) for o in outcomes if o.error is None])  # type: ignore[misc]
    for o in outcomes:
        if o.error is not None:
            results.failed.append((o.context, o.error))
            o.error.message = f"context {o.context}: {o.error.message}"
            results.fail(o.error)
    return results


def items(results: Results[list[dict[str, Any]]], all_contexts: bool) -> list[dict[str, Any]]:
    """Every item of each context's list in RESULTS, tagged (under ALL_CONTEXTS)."""
    return [tagged(all_contexts, ctx, item) for ctx, found in results.values for item in found]


def tagged(all_contexts: bool, context: str, item: dict[str, Any]) -> dict[str, Any]:
    """ITEM with a leading `context` key under ALL_CONTEXTS; as it is otherwise."""
    return {"context": context, **item} if all_contexts else item
