"""One run of flinkctl: the root options, the output settings and the client, built on first use.

`failures.run` makes the Invocation and hands it to Click as the root context's `obj`, so it
lives exactly as long as the run; a command reaches it with `Invocation.current()`, and prints
through `emit` and `note`, which use its output settings. Shell completion parses the command
line without running the root callback: its callbacks build one from what is typed so far with
`Invocation.typed(ctx)`.
"""

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flinkctl.output.render import DOCUMENT_FORMATS, Settings

if TYPE_CHECKING:
    import typer

    from flinkctl.client import FlinkClient
    from flinkctl.config import Context
    from flinkctl.output.render import View


@dataclass
class Invocation:
    """Root options (--config, --context, --url, --verbose, --debug), output settings (-o,
    --query, --no-color) and the lazily built client of one run."""

    config: Path | None = None
    context: str | None = None
    url: str | None = None
    verbose: bool = False
    debug: bool = False
    output: Settings = field(default_factory=Settings)
    _client: "FlinkClient | None" = field(default=None, repr=False)

    @classmethod
    def current(cls) -> "Invocation":
        """The invocation of the command running now (its root Click context's `obj`)."""
        # Typer exports no get_current_context: this is its bundled Click's, a private module
        # that may move on a Typer upgrade.
        from typer._click.globals import get_current_context

        return get_current_context().find_root().obj

    @classmethod
    def typed(cls, ctx: "typer.Context") -> "Invocation":
        """The invocation a partly typed command line points at (for shell completion, where
        the root callback does not run): --config, --context and --url as given so far."""
        params = ctx.find_root().params
        config = params.get("config")
        return cls(
            config=Path(config).expanduser() if config else None,
            context=params.get("context"),
            url=params.get("url"),
        )

    def resolve_context(self) -> "Context":
        """The context this invocation talks to."""
        from flinkctl.config import resolve

        return resolve(self.config, self.context, self.url)

    def client(self) -> "FlinkClient":
        """One FlinkClient per invocation."""
        if self._client is None:
            from flinkctl.client import FlinkClient

            self._client = FlinkClient(self.resolve_context(), verbose=self.verbose)
        return self._client

    def close(self) -> None:
        """Close the client's connections."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def command_line(self, *args: str) -> str:
        """`flinkctl ARGS` with this invocation's --context/--url/--config and -o json|yaml."""
        from flinkctl.config import REDACTED, redact_url

        words = ["flinkctl"]
        if self.url:
            words += ["--url", redact_url(self.url, REDACTED)]  # a hint shows no password
        else:
            if self.config:
                words += ["--config", str(self.config)]
            if self.context:
                words += ["--context", self.context]
        words += list(args)
        if self.output.format in DOCUMENT_FORMATS:
            words += ["-o", self.output.format]
        import shlex

        return " ".join(shlex.quote(w) for w in words)


def emit(data: Any, view: "View") -> None:
    """Print DATA with VIEW in the running invocation's output settings."""
    from flinkctl.output.render import render

    render(data, view, Invocation.current().output)


def note(message: str) -> None:
    """A status line on stderr (only with table output, so json logs stay clean)."""
    if Invocation.current().output.format in ("table", "wide"):
        print(message, file=sys.stderr, flush=True)
