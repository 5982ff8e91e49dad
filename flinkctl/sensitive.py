"""What counts as a secret, and how it is hidden: Flink's rule for sensitive configuration keys,
applied to `-D` options, program arguments and URLs. Pure functions; no typer, rich or httpx.

Flink hides the value of a configuration key that contains, case-insensitively, any of
`GlobalConfiguration.SENSITIVE_KEYS`, and shows `GlobalConfiguration.HIDDEN_CONTENT` (`******`)
in its place (the Web UI's /jobmanager/config, its logs). SENSITIVE_KEYS here is the union of
that list over every Flink version, taken from the newest (FLINK-39561 added `access-key`,
`access.key` and `accesskey` to the list of FLINK-30443, 1.17+), whatever the version of the
cluster flinkctl talks to: an older cluster that would show a value is no reason for flinkctl to.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

# org.apache.flink.configuration.GlobalConfiguration.SENSITIVE_KEYS (newest: the union)
SENSITIVE_KEYS: tuple[str, ...] = (
    "password",
    "secret",
    "fs.azure.account.key",
    "apikey",
    "auth-params",
    "service-key",
    "token",
    "basic-auth",
    "jaas.config",
    "http-headers",
    "access-key",
    "access.key",
    "accesskey",
)
# GlobalConfiguration.HIDDEN_CONTENT
MASK = "******"

# The map-valued option whose entries (`key:value,key:value`) are themselves keys.
GLOBAL_PARAMETERS = "pipeline.global-job-parameters"


def is_sensitive(key: str) -> bool:
    """Whether KEY names a secret, by Flink's rule: its lower case contains one of
    SENSITIVE_KEYS (`s3.secret-key`, `fs.s3a.access.key`, `sasl.jaas.config`, `DB_PASSWORD`)."""
    lower = key.lower()
    return any(part in lower for part in SENSITIVE_KEYS)


def mask_conf(conf: Mapping[str, str]) -> dict[str, str]:
    """CONF (`-D` options) with the value of every sensitive key replaced by MASK; in
    `pipeline.global-job-parameters` (`k:v,...`) the values of its sensitive entries too."""
    masked = {}
    for key, value in conf.items():
        if is_sensitive(key):
            masked[key] = MASK
        elif key == GLOBAL_PARAMETERS:
            masked[key] = _mask_map(value)
        else:
            masked[key] = mask_url(value)
    return masked


def _mask_map(value: str) -> str:
    """A `key:value,key:value` option (Flink's map syntax) with the sensitive entries masked."""
    entries = []
    for entry in value.split(","):
        key, colon, _ = entry.partition(":")
        entries.append(f"{key}:{MASK}" if colon and is_sensitive(key) else mask_url(entry))
    return ",".join(entries)


def _flag_name(arg: str) -> str | None:
    """The key an argument like `--password`, `-password` or `-Dfoo.secret` names, as Flink's
    ParameterTool reads keys (a leading `-` or `--`; `-D` the JVM-style prefix); None for a
    value (no leading dash, or a negative number)."""
    if not arg.startswith("-") or _is_number(arg):
        return None
    name = arg[2:] if arg.startswith("--") else arg[1:]
    if arg.startswith("-D") and len(arg) > 2:
        name = arg[2:]
    return name or None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class Secret(NamedTuple):
    """A program argument that holds a secret: the flag or key it belongs to, and whether the
    value is inline (`--password=x`: the part after `=`) or the whole argument (`--password x`)."""

    key: str
    inline: bool

    def label(self) -> str:
        """How a user names it: `--arg --password`."""
        return f"--arg {self.key}"


def secret_args(args: Sequence[str]) -> dict[int, Secret]:
    """Which program arguments hold a secret, by position: the value of `--password=x`,
    `-Dfoo.secret=x`, `s3.secret-key=x` (e.g. after `--conf`), and the argument after a flag
    whose name is sensitive (`--password x`) unless that argument is itself a flag
    (ParameterTool's rule: it starts with `-` and is not a number)."""
    found: dict[int, Secret] = {}
    after: str | None = None
    for i, arg in enumerate(args):
        if after is not None:
            flag, after = after, None
            if _flag_name(arg) is None:
                found[i] = Secret(flag, inline=False)
                continue
        key, equals, _ = arg.partition("=")
        if equals:
            name = _flag_name(key) if key.startswith("-") else key
            if name and is_sensitive(name):
                found[i] = Secret(key, inline=True)
            continue
        name = _flag_name(arg)
        if name and is_sensitive(name):
            after = arg
    return found


def mask_args(args: Sequence[str]) -> list[str]:
    """ARGS with every secret (see secret_args) replaced by MASK, and the password of a
    `scheme://user:password@host` URL in any argument too."""
    secret = secret_args(args)
    masked = []
    for i, arg in enumerate(args):
        found = secret.get(i)
        if found is None:
            masked.append(mask_url(arg))
        elif found.inline:
            masked.append(f"{found.key}={MASK}")
        else:
            masked.append(MASK)
    return masked


# -- URLs ----------------------------------------------------------------------------------------

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<authority>[^/?#\s]*)")


def cluster_key(url: str) -> str:
    """A cluster's URL as the catalog keeps it: without a `user:password@` (or `user@`) part,
    so no password is stored, and the rows of one cluster match whichever credentials reach it.
    The last `@` of the authority ends the user part, as in urllib.parse."""
    match = _USERINFO.match(url)
    if not match or "@" not in match["authority"]:
        return url
    host = match["authority"].rpartition("@")[2]
    return f"{match['scheme']}{host}{url[match.end() :]}"


def mask_url(text: str) -> str:
    """TEXT with the password of every `scheme://user:password@` in it replaced by MASK."""

    def hide(match: re.Match[str]) -> str:
        user, at, host = match["authority"].rpartition("@")
        if not at or ":" not in user:
            return match[0]
        return f"{match['scheme']}{user.partition(':')[0]}:{MASK}@{host}"

    return _USERINFO.sub(hide, text) if "@" in text else text


def secret_values(args: Sequence[str], conf: Mapping[str, str]) -> set[str]:
    """The secrets of program ARGS and CONF (`-D`) as values: what `mask_args` and `mask_conf`
    replace by MASK, to keep out of a message that echoes them (a failed main() quoting its
    argument)."""
    masked = mask_conf(conf)
    pairs = [*zip(args, mask_args(args), strict=True), *((conf[k], masked[k]) for k in conf)]
    found: set[str] = set()
    for real, shown in pairs:
        if real != shown:
            pattern = "(.*?)".join(map(re.escape, shown.split(MASK)))
            match = re.fullmatch(pattern, real, re.DOTALL)
            found.update(match.groups() if match else [real])
    return {value for value in found if value}


def scrub(text: str, secrets: Iterable[str]) -> str:
    """TEXT with each of SECRETS in it replaced by MASK (the longest first)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


# -- digests -------------------------------------------------------------------------------------


def digest(salt: str, args: Iterable[str], conf: Mapping[str, str]) -> str:
    """A salted sha256 of program arguments and `-D` options: a record that shows only MASK can
    still tell whether a secret changed, and the salt keeps equal secrets of two records from
    looking equal (and a table of common passwords from matching)."""
    text = json.dumps([list(args), dict(sorted(conf.items()))], separators=(",", ":"))
    return hashlib.sha256(f"{salt}\0{text}".encode()).hexdigest()


def new_salt() -> str:
    """16 random bytes, hex."""
    import secrets

    return secrets.token_hex(16)
