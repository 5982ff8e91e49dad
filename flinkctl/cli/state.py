"""Per-invocation state set by the root options: where the config is, which context, the client."""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flinkctl.client import FlinkClient
    from flinkctl.config import Context


@dataclass
class State:
    """Root options, plus the lazily built client."""

    config: Path | None = None
    context: str | None = None
    url: str | None = None
    verbose: bool = False
    debug: bool = False
    _client: "FlinkClient | None" = None

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


state = State()
