"""Credentials for a context: secrets from an env var, a file, a command, or inline."""

from __future__ import annotations

import base64
import os
import shlex
import subprocess

from flinkctl.config import Auth
from flinkctl.errors import ConfigError


def secret(auth: Auth) -> str:
    """AUTH's token or password: from the environment variable, the file or the command it
    names, or as written in the file."""
    key, where = auth.secret_name, auth.secret
    if auth.way == "-env":
        if where not in os.environ:
            raise ConfigError(f"auth {key}: environment variable {where} is not set")
        return os.environ[where]
    if auth.way == "-file":
        path = os.path.expanduser(where)
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError as exc:
            raise ConfigError(f"auth {key}: cannot read {path}: {exc.strerror}") from exc
    if auth.way == "-command":
        try:
            done = subprocess.run(shlex.split(where), capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(f"auth {key}: command {where!r} failed: {exc}") from exc
        if done.returncode != 0:
            raise ConfigError(f"auth {key}: command {where!r} exited {done.returncode}")
        return done.stdout.strip()
    return auth.secret


def auth_headers(auth: Auth) -> dict[str, str]:
    """The Authorization header for a context's auth (empty when none)."""
    if auth.kind is None:
        return {}
    value = _one_line(secret(auth), auth.secret_name)
    if auth.kind == "bearer":
        return {"Authorization": f"Bearer {value}"}
    pair = f"{auth.username or ''}:{value}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def _one_line(value: str, key: str) -> str:
    """VALUE, if it can go into a header; the error never shows it (the HTTP library's would)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError(f"auth {key}: the value has a line break or a control character")
    if not value:
        raise ConfigError(f"auth {key}: the value is empty")
    return value
