"""Credentials for a context: secrets from an env var, a file, a command, or inline."""

from __future__ import annotations

import base64
import os
import shlex
import subprocess

from flinkctl.config import Settings
from flinkctl.errors import ConfigError


def secret(auth: Settings, key: str) -> str:
    """Resolve KEY (token or password) from KEY-env, KEY-file, KEY-command or KEY."""
    if f"{key}-env" in auth:
        var = auth[f"{key}-env"]
        if var not in os.environ:
            raise ConfigError(f"auth {key}: environment variable {var} is not set")
        return os.environ[var]
    if f"{key}-file" in auth:
        path = os.path.expanduser(auth[f"{key}-file"])
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError as exc:
            raise ConfigError(f"auth {key}: cannot read {path}: {exc.strerror}") from exc
    if f"{key}-command" in auth:
        cmd = auth[f"{key}-command"]
        try:
            done = subprocess.run(shlex.split(cmd), capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(f"auth {key}: command {cmd!r} failed: {exc}") from exc
        if done.returncode != 0:
            raise ConfigError(f"auth {key}: command {cmd!r} exited {done.returncode}")
        return done.stdout.strip()
    if key in auth:
        return str(auth[key])
    raise ConfigError(f"auth: no {key} given (set {key}, {key}-env, {key}-file or {key}-command)")


def auth_headers(auth: Settings) -> dict[str, str]:
    """The Authorization header for a context's `auth` mapping (empty when none)."""
    if not auth:
        return {}
    if auth["type"] == "bearer":
        return {"Authorization": f"Bearer {_one_line(secret(auth, 'token'), 'token')}"}
    password = _one_line(secret(auth, "password"), "password")
    pair = f"{auth.get('username', '')}:{password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def _one_line(value: str, key: str) -> str:
    """VALUE, if it can go into a header; the error never shows it (the HTTP library's would)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError(f"auth {key}: the value has a line break or a control character")
    if not value:
        raise ConfigError(f"auth {key}: the value is empty")
    return value
