"""Contexts: load, resolve and save the flinkctl config file (no typer or rich here).

The file is YAML::

    current-context: prod
    contexts:
      prod:
        url: https://gateway.example.com/flink   # a path prefix is allowed
        auth: {type: bearer, token-env: FLINK_TOKEN}
        tls: {ca-file: /etc/ssl/ca.pem}
        headers: {X-Team: data}
        timeout: 30
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flinkctl.errors import ConfigError, NotFoundError

DEFAULT_URL = "http://localhost:8081"
DEFAULT_TIMEOUT = 30.0  # read timeout, seconds
DEFAULT_CONNECT_TIMEOUT = 5.0
SECRET_KEYS = ("token", "password")
AUTH_TYPES = ("bearer", "basic")
AUTH_KEYS = {
    "type",
    "username",
    *(f"{s}{suffix}" for s in SECRET_KEYS for suffix in ("", "-env", "-file", "-command")),
}
TLS_KEYS = {"ca-file", "cert-file", "key-file", "insecure-skip-verify"}
CONTEXT_KEYS = {"url", "auth", "tls", "headers", "timeout", "connect-timeout"}
# a mapping as the YAML file holds it: keys are checked on load, values where they are used
Settings = dict[str, Any]


def default_path() -> Path:
    """`$FLINKCTL_CONFIG`, else `$XDG_CONFIG_HOME/flinkctl/config.yaml`."""
    if os.environ.get("FLINKCTL_CONFIG"):
        return Path(os.environ["FLINKCTL_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "flinkctl" / "config.yaml"


@dataclass
class Context:
    """Where and how to reach one Flink cluster."""

    name: str
    url: str = DEFAULT_URL
    auth: Settings = field(default_factory=dict)
    tls: Settings = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT

    def to_dict(self) -> Settings:
        """The context as stored in the file (defaults left out)."""
        out: Settings = {"url": self.url}
        for key, value in (("auth", self.auth), ("tls", self.tls), ("headers", self.headers)):
            if value:
                out[key] = dict(value)
        if self.timeout != DEFAULT_TIMEOUT:
            out["timeout"] = self.timeout
        if self.connect_timeout != DEFAULT_CONNECT_TIMEOUT:
            out["connect-timeout"] = self.connect_timeout
        return out


@dataclass
class Config:
    """The whole config file."""

    path: Path
    contexts: dict[str, Context] = field(default_factory=dict)
    current_context: str | None = None

    def get(self, name: str) -> Context:
        """The context called NAME, or NotFoundError listing the known ones."""
        if name not in self.contexts:
            known = ", ".join(sorted(self.contexts)) or "none"
            raise NotFoundError(
                f"context {name!r} not found in {self.path}",
                hint=f"known contexts: {known}",
            )
        return self.contexts[name]

    def to_dict(self) -> Settings:
        """The file's content."""
        return {
            "current-context": self.current_context,
            "contexts": {name: ctx.to_dict() for name, ctx in sorted(self.contexts.items())},
        }

    def save(self) -> None:
        """Write atomically (temp file, fsync, rename) with mode 0600."""
        import yaml

        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=False)
        fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".tmp", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def load(path: Path | None = None) -> Config:
    """Read the config file; a missing file is an empty config."""
    path = path or default_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(path=path)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    return parse(text, path)


def parse(text: str, path: Path) -> Config:
    """Parse and validate the config file's text; errors name the file and line."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"malformed config file {where}: {problem}") from exc
    if data is None:
        return Config(path=path)
    if not isinstance(data, dict):
        raise ConfigError(f"malformed config file {path}: expected a mapping at the top")
    contexts_raw = data.get("contexts") or {}
    if not isinstance(contexts_raw, dict):
        raise ConfigError(f"malformed config file {path}: 'contexts' must be a mapping")
    contexts = {str(n): _context(str(n), raw, path) for n, raw in contexts_raw.items()}
    current = data.get("current-context")
    return Config(path=path, contexts=contexts, current_context=current and str(current))


def _context(name: str, raw: object, path: Path) -> Context:
    where = f"malformed config file {path}: context {name!r}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping")
    unknown = set(raw) - CONTEXT_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    url = raw.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: 'url' must be an http:// or https:// URL")
    auth, tls, headers = (raw.get(k) or {} for k in ("auth", "tls", "headers"))
    for key, value, allowed in (("auth", auth, AUTH_KEYS), ("tls", tls, TLS_KEYS)):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: '{key}' must be a mapping")
        bad = set(value) - allowed
        if bad:
            raise ConfigError(f"{where}: unknown {key} key {sorted(bad)[0]!r}")
    if auth and auth.get("type") not in AUTH_TYPES:
        raise ConfigError(f"{where}: auth 'type' must be one of {', '.join(AUTH_TYPES)}")
    if not isinstance(headers, dict):
        raise ConfigError(f"{where}: 'headers' must be a mapping")
    try:
        timeout = float(raw.get("timeout", DEFAULT_TIMEOUT))
        connect_timeout = float(raw.get("connect-timeout", DEFAULT_CONNECT_TIMEOUT))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: timeouts must be numbers of seconds") from exc
    return Context(
        name=name,
        url=url.rstrip("/"),
        auth=auth,
        tls=tls,
        headers={str(k): str(v) for k, v in headers.items()},
        timeout=timeout,
        connect_timeout=connect_timeout,
    )


def resolve(
    config_path: Path | None = None,
    context: str | None = None,
    url: str | None = None,
) -> Context:
    """Pick the context for this invocation.

    Context: `context` > `$FLINKCTL_CONTEXT` > current-context. A `url` (`--url` or
    `$FLINKCTL_URL`) bypasses the file, or overrides the url of an explicitly named context.
    With neither a file nor flags, http://localhost:8081.
    """
    url = url or os.environ.get("FLINKCTL_URL") or None
    name = context or os.environ.get("FLINKCTL_CONTEXT") or None
    if url and not url.startswith(("http://", "https://")):
        raise ConfigError(f"invalid URL {url!r}: expected http://HOST:PORT or https://...")
    if url and not name:
        return Context(name="(url)", url=url.rstrip("/"))
    config = load(config_path)
    name = name or config.current_context
    if not name:
        return Context(name="(default)", url=url.rstrip("/") if url else DEFAULT_URL)
    ctx = config.get(name)
    if url:
        ctx.url = url.rstrip("/")
    return ctx


def redacted(ctx: Settings) -> Settings:
    """A stored context with inline secrets replaced by REDACTED."""
    out = dict(ctx)
    if "auth" in out:
        out["auth"] = {k: ("REDACTED" if k in SECRET_KEYS else v) for k, v in out["auth"].items()}
    if "headers" in out:
        out["headers"] = {
            k: ("REDACTED" if k.lower() in ("authorization", "cookie") else v)
            for k, v in out["headers"].items()
        }
    return out
