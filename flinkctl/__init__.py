"""flinkctl: operate Apache Flink clusters through the JobManager's REST API.

Also a library, the one the CLI runs on::

    from flinkctl import FlinkClient, resolve_context

    with FlinkClient(resolve_context(context="prod")) as flink:
        print(flink.jobs_overview())

The names in `__all__` are imported on first use (module `__getattr__`), so `import flinkctl`,
and with it every CLI start-up and shell completion, loads none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ imports on demand
    from flinkctl.client import FlinkClient
    from flinkctl.client.poller import Poller, new_trigger_id
    from flinkctl.client.resolve import job as resolve_job
    from flinkctl.config import Config, Context
    from flinkctl.config import load as load_config
    from flinkctl.config import resolve as resolve_context
    from flinkctl.errors import (
        AuthError,
        ConfigError,
        ExitCode,
        FlinkctlError,
        FlinkctlWarning,
        NoFlinkApiError,
        NotFoundError,
        OperationFailed,
        RequestError,
        ServerError,
        UnreachableError,
        UnsupportedError,
        UsageError,
        WaitTimeout,
    )

__all__ = [
    "AuthError",
    "Config",
    "ConfigError",
    "Context",
    "ExitCode",
    "FlinkClient",
    "FlinkctlError",
    "FlinkctlWarning",
    "NoFlinkApiError",
    "NotFoundError",
    "OperationFailed",
    "Poller",
    "RequestError",
    "ServerError",
    "UnreachableError",
    "UnsupportedError",
    "UsageError",
    "WaitTimeout",
    "__version__",
    "load_config",
    "new_trigger_id",
    "resolve_context",
    "resolve_job",
]

# public name -> (module, attribute): where the library API lives; every other name of __all__
# but __version__ is flinkctl.errors' own
_ELSEWHERE = {
    "FlinkClient": ("flinkctl.client", "FlinkClient"),
    "Poller": ("flinkctl.client.poller", "Poller"),
    "new_trigger_id": ("flinkctl.client.poller", "new_trigger_id"),
    "resolve_job": ("flinkctl.client.resolve", "job"),
    "Config": ("flinkctl.config", "Config"),
    "Context": ("flinkctl.config", "Context"),
    "load_config": ("flinkctl.config", "load"),
    "resolve_context": ("flinkctl.config", "resolve"),
}
_EXPORTS = {
    name: _ELSEWHERE.get(name, ("flinkctl.errors", name))
    for name in __all__
    if name != "__version__"
}

if not TYPE_CHECKING:  # hidden from type checkers, so a misspelt import stays an error for them

    def __getattr__(name: str) -> Any:
        """Import a library name on first use (PEP 562) and keep it in the module."""
        if name not in _EXPORTS:
            raise AttributeError(f"module 'flinkctl' has no attribute {name!r}")
        import importlib

        module, attribute = _EXPORTS[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
