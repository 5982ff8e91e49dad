"""One run of flinkctl: the root options, the output settings, the streams and the client, built
on first use.

`failures.run` makes the Invocation around the process's streams and hands it to Click as the
root context's `obj`, so it lives exactly as long as the run. A command body receives it as its
first argument, `inv` (`with_output`/`with_invocation` in cli/common/options.py are the one
adapter that takes it from Click), and passes it to what it calls; it prints through `inv.emit`
and `inv.note`, which write to `inv.io` in its output settings. Shell completion parses the
command line without running the root callback: its callbacks build one from what is typed so
far with `Invocation.typed(ctx)`.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flinkctl.output.render import Settings
from flinkctl.output.streams import IO

if TYPE_CHECKING:
    import httpx
    import typer

    from flinkctl.client import FlinkClient
    from flinkctl.config import Context
    from flinkctl.output.render import View


@dataclass
class Invocation:
    """Root options (--config, --context, --url, --verbose, --debug), output settings (-o,
    --query), the streams (IO; --no-color is its `color`) and the lazily built client (over
    TRANSPORT, when given) of one run."""

    config: Path | None = None
    context: str | None = None
    url: str | None = None
    verbose: bool = False
    debug: bool = False
    output: Settings = field(default_factory=Settings)
    io: IO = field(default_factory=IO.system)
    transport: "httpx.BaseTransport | None" = None  # None: the network (tests: a MockTransport)
    _client: "FlinkClient | None" = field(default=None, repr=False)

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

            self._client = FlinkClient(
                self.resolve_context(), verbose=self.verbose, transport=self.transport
            )
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
        if self.output.format.is_document:
            words += ["-o", self.output.format.value]
        import shlex

        return " ".join(shlex.quote(w) for w in words)

    def emit(self, data: Any, view: "View") -> None:
        """Print DATA with VIEW on this run's output in its output settings."""
        from flinkctl.output.render import render

        render(data, view, self.output, self.io)

    def note(self, message: str) -> None:
        """A status line on stderr (only with table output, so json logs stay clean)."""
        if self.output.format.is_human:
            self.io.say(message)
