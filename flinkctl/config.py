"""Contexts: load, resolve and save the flinkctl config file (no typer or rich here).

The file is YAML::

    current-context: prod
    contexts:
      prod:
        url: https://gateway.example.com/flink   # a path prefix is allowed
        auth: {type: bearer, token-env: FLINK_TOKEN}
        tls: {ca-file: /etc/ssl/ca.pem}
        headers: {X-Team: data}
        timeout: 30s                            # durations, or seconds
        retry-budget: 20s
        catalog: ~/flink/prod-catalog.db        # the savepoint and deploy record

Read and connect timeouts are 100 ms or more (TIMEOUT_FLOOR): a shorter one in the file is
raised to it with a warning, and `config set-context --timeout` refuses one.

Every URL is checked where it enters (the file, `--url`, `$FLINKCTL_URL`, `config set-context`),
so an invalid one is a usage error (exit 2) naming the reason, and is never saved.
"""

from __future__ import annotations

import math
import os
import re
import stat
import tempfile
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from flinkctl import yamlfile
from flinkctl.errors import ConfigError, FlinkctlWarning, NotFoundError, UsageError
from flinkctl.signals import held_back

if TYPE_CHECKING:
    from yaml import Node

AuthKind = Literal["bearer", "basic"]
SecretWay = Literal["", "-env", "-file", "-command"]
DEFAULT_URL = "http://localhost:8081"
DEFAULT_TIMEOUT = 30.0  # read timeout, seconds
DEFAULT_CONNECT_TIMEOUT = 5.0
# seconds within which requests that are safe to repeat are retried (JobManager restarts, gateway
# 502/503/504); per context `retry-budget`, for every context `$FLINKCTL_RETRY_BUDGET`
DEFAULT_RETRY_BUDGET = 20.0
AUTH_TYPES: dict[AuthKind, str] = {"bearer": "token", "basic": "password"}  # type -> its secret
SECRET_KEYS = tuple(AUTH_TYPES.values())
SECRET_WAYS: tuple[SecretWay, ...] = ("", "-env", "-file", "-command")  # inline, or where it is
AUTH_KEYS = {"type", "username", *(f"{s}{way}" for s in SECRET_KEYS for way in SECRET_WAYS)}
TLS_FILES = ("ca-file", "cert-file", "key-file")
TLS_KEYS = {*TLS_FILES, "insecure-skip-verify"}
# seconds: the shortest read or connect timeout, in the file (a smaller one is raised to it, with
# a warning) and on the command line (`config set-context --timeout`: a usage error)
TIMEOUT_FLOOR = 0.1
SECONDS = {  # context key -> (Context attribute, the least value used)
    "timeout": ("timeout", TIMEOUT_FLOOR),
    "connect-timeout": ("connect_timeout", TIMEOUT_FLOOR),
    "retry-budget": ("retry_budget", 0.0),
}
CONTEXT_KEYS = {"url", "auth", "tls", "headers", "catalog", *SECONDS}
TOP_KEYS = {"current-context", "contexts"}
LOCK_TIMEOUT = 30.0  # seconds to wait for another writer of the config file
REDACTED = "REDACTED"
# header names whose values are credentials
SECRET_HEADER = r"(?i)authorization|cookie|token|secret|password|api-?key"
HEADER_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # an RFC 9110 token
# a mapping as the YAML file holds it: keys are checked on load, values where they are used
Settings = dict[str, Any]


def default_path() -> Path:
    """`$FLINKCTL_CONFIG`, else `$XDG_CONFIG_HOME/flinkctl/config.yaml`."""
    return locate(None)[0]


def locate(path: Path | None) -> tuple[Path, bool]:
    """The config file's path, and whether it was named (PATH, else `$FLINKCTL_CONFIG`) rather
    than the default `$XDG_CONFIG_HOME/flinkctl/config.yaml`, which may be absent."""
    if path is not None:
        return Path(path).expanduser(), True
    if os.environ.get("FLINKCTL_CONFIG"):
        return Path(os.environ["FLINKCTL_CONFIG"]).expanduser(), True
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "flinkctl" / "config.yaml", False


def check_timeout(seconds: float, option: str) -> float:
    """SECONDS as a read or connect timeout given on the command line (OPTION), or UsageError
    when it is below TIMEOUT_FLOOR."""
    if not TIMEOUT_FLOOR <= seconds < math.inf:
        raise UsageError(f"{option}: expected {_ms(TIMEOUT_FLOOR)} or more")
    return seconds


def _ms(seconds: float) -> str:
    """0.1 -> '100ms'."""
    return f"{seconds * 1000:g}ms"


# -- URLs ------------------------------------------------------------------------------------

URL = r"(?s)(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<netloc>[^/?#]*)(?P<rest>.*)"
HOST = r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?"


def check_url(url: str) -> str:
    """URL as flinkctl uses it (scheme in lower case, no trailing slash), or UsageError saying
    what is wrong: no or another scheme, no host, a bad or out-of-range port, an unclosed
    bracket, a query, white space. A path prefix (for a gateway) is allowed."""
    problem, normal = _url_problem(url)
    if problem:
        raise UsageError(
            f"invalid URL {redact_url(url, query=True)!r}: {problem}",
            hint="expected http://HOST:PORT or https://HOST[:PORT][/PATH-PREFIX]",
        )
    return normal


def _url_problem(url: str) -> tuple[str | None, str]:
    """(what is wrong with URL or None, URL normalised)."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "it contains white space or control characters", url
    match = re.fullmatch(URL, url)
    if not match:
        if re.fullmatch(r"[\w.-]+:\d+(/.*)?", url):
            return f"no scheme ({redact_url('http://' + url, query=True)} ?)", url
        return "no scheme", url
    scheme, netloc, rest = match["scheme"].lower(), match["netloc"], match["rest"]
    if scheme not in ("http", "https"):
        return f"scheme {scheme!r} is not http or https", url
    if "?" in rest or "#" in rest:
        return "a query (?...) or fragment (#...) has no place in it", url
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):
        host, bracket, port = hostport[1:].partition("]")
        if not bracket:
            return "unclosed '[' in the host", url
        if port and not port.startswith(":"):
            return f"unexpected {port!r} after the IPv6 address", url
        port = port[1:]
        import ipaddress

        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"{host!r} is not an IPv6 address", url
    else:
        host, _, port = hostport.partition(":")
        if "]" in hostport or "[" in hostport:
            return "unbalanced brackets in the host", url
        if ":" in port:
            return "more than one ':' (an IPv6 address needs brackets: http://[::1]:8081)", url
        if not host:
            return "no host", url
        if not re.fullmatch(HOST, host) and not _idna(host):
            return f"{host!r} is not a host name or address", url
    if port and not (port.isascii() and port.isdigit()):
        return f"port {port!r} is not a number", url
    if port and not 1 <= int(port) <= 65535:
        return f"port {port} is out of range (1-65535)", url
    return None, f"{scheme}://{netloc}{rest}".rstrip("/")


def _idna(host: str) -> bool:
    """Whether HOST is an internationalised domain name."""
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return not host.isascii()


def redact_url(url: str, mask: str | None = None, *, query: bool = False) -> str:
    """URL without the password of a `user:password@` part: its whole user part dropped (MASK
    None: for logs and messages) or the password replaced by MASK (`config view`). QUERY: each
    value of its query or fragment (`?token=...`) too, replaced by MASK or REDACTED (a refused
    URL's: flinkctl's have none)."""
    cut = re.search(r"[?#]", url) if query else None
    head, tail = (url[: cut.start()], url[cut.start() :]) if cut else (url, "")
    tail = re.sub(
        r"([?#&;])([^?#&;=]*=)?([^?#&;]*)",
        lambda m: m[1] + (m[2] or "") + (m[3] and (mask or REDACTED)),
        tail,
    )
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*://)([^/?#@]*)@", head)
    if not match:
        return head + tail
    if mask is None:
        return match[1] + head[match.end() :] + tail
    user, colon, _ = match[2].partition(":")
    return f"{match[1]}{user}{colon and ':' + mask}@{head[match.end() :]}{tail}"


# -- context names ---------------------------------------------------------------------------


def check_name(name: str) -> None:
    """UsageError when NAME, a new context's name, has a control character (a line break or a
    tab would break `get-contexts`)."""
    problem = _name_problem(name)
    if problem:
        raise UsageError(f"context name {name!r}: {problem}")


def _name_problem(name: str) -> str | None:
    """What is wrong with NAME as a context name, or None."""
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        return "control characters (a line break, a tab, a direction override, ...) are not allowed"
    return None


def header_problem(name: object, value: object) -> str | None:
    """What is wrong with the header NAME: VALUE of a context (the value never shown: it may be
    a credential), or None."""
    if not isinstance(name, str) or not re.fullmatch(HEADER_NAME, name):
        return f"header name {name!r} is not a valid HTTP header name"
    text = str(value) if isinstance(value, (str, int, float)) else "\n"
    if "\n" in text or "\r" in text:
        return f"header {name!r} must have a one-line text value"
    if not text.isascii():
        return f"header {name!r} must have an ASCII value (HTTP sends no other)"
    return None


# -- contexts --------------------------------------------------------------------------------

# ConfigError for a problem at a key path of a context in the file: error(problem, *keys)
Complaint = Callable[..., ConfigError]


@dataclass(frozen=True)
class Auth:
    """A context's `auth`: none, a bearer token, or a basic password (and user name).

    The secret is given one `way`: inline (`""`: `secret` is the token or password itself), or
    `"-env"`, `"-file"`, `"-command"`: `secret` names the environment variable, the file or the
    command that yields it (flinkctl.client.auth reads it). In the file the way is the key's
    suffix: `{type: bearer, token-env: FLINK_TOKEN}` is `Auth("bearer", "-env", "FLINK_TOKEN")`.
    """

    kind: AuthKind | None = None  # None: no auth
    way: SecretWay = ""
    secret: str = ""
    username: str | None = None  # basic auth's user; kept in a bearer one as the file had it

    @property
    def secret_name(self) -> str:
        """`token` (bearer) or `password` (basic); empty without auth."""
        return AUTH_TYPES[self.kind] if self.kind else ""

    @property
    def key(self) -> str:
        """The secret's key in the file and its `config set-context` option: `token-env`, ..."""
        return self.secret_name + self.way

    @property
    def inline(self) -> bool:
        """Whether the secret itself is written in the file."""
        return self.kind is not None and self.way == ""

    def __post_init__(self) -> None:
        if self.kind not in (None, *AUTH_TYPES) or self.way not in SECRET_WAYS:
            raise ValueError(f"Auth: no auth type {self.kind!r} or secret way {self.way!r}")

    @classmethod
    def from_key(cls, key: str, value: str) -> Auth:
        """The auth that KEY (a secret's key, e.g. `password-file`) with VALUE sets."""
        name, dash, way = key.partition("-")
        kind = next(k for k, secret in AUTH_TYPES.items() if secret == name)
        return cls(kind, next(w for w in SECRET_WAYS if w == dash + way), value)

    @classmethod
    def parse(cls, raw: object, error: Complaint) -> Auth:
        """The `auth` mapping of a context in the file: a known type and its one secret, given
        one way; text values. ERROR makes the ConfigError for a problem at a key."""
        if not isinstance(raw, dict):
            raise error(": 'auth' must be a mapping", "auth")
        if not raw:
            return cls()
        bad = set(raw) - AUTH_KEYS
        if bad:
            raise error(f": unknown auth key {sorted(map(str, bad))[0]!r}", "auth")
        kind = raw.get("type")
        secret = next((s for k, s in AUTH_TYPES.items() if k == kind), None)
        if secret is None:
            raise error(f": auth 'type' must be one of {', '.join(AUTH_TYPES)}", "auth", "type")
        for key, value in raw.items():
            if not isinstance(value, str):
                raise error(f": auth '{key}' must be text (quote it in YAML)", "auth", key)
        given = [k for k in raw if k not in ("type", "username")]
        wrong = [k for k in given if not k.startswith(secret)]
        if wrong:
            raise error(f": auth type {kind} takes a {secret}, not {wrong[0]!r}", "auth")
        if len(given) != 1:
            ways = ", ".join(f"{secret}{way}" for way in SECRET_WAYS)
            raise error(f": auth {kind} needs its {secret} one way ({ways})", "auth")
        return replace(cls.from_key(given[0], raw[given[0]]), username=raw.get("username"))

    def to_dict(self) -> Settings:
        """The `auth` mapping as the file holds it (empty without auth)."""
        if self.kind is None:
            return {}
        user = {} if self.username is None else {"username": self.username}
        return {"type": self.kind, **user, self.key: self.secret}

    def changed(
        self, secrets: dict[str, str], *, username: str | None = None, clear: bool = False
    ) -> Auth:
        """This auth after `config set-context`: SECRETS (key -> value, e.g. `{"token-env":
        "FLINK_TOKEN"}`) replace the secret, and a switch of kind drops the other kind's secret;
        a basic auth keeps its user name. CLEAR (`--no-auth`) removes it all. USERNAME needs a
        basic auth. UsageError for two kinds, a secret given two ways, a user without a
        password, or a password without a user (given, or kept from a basic auth)."""
        kinds = {key.split("-")[0] for key in secrets}
        if len(kinds) > 1 or (kinds and clear):
            raise UsageError("choose one of bearer token, basic password, or --no-auth")
        if len(secrets) > 1:
            raise UsageError(
                f"give the {kinds.pop()} one way only (inline, -env, -file or -command)"
            )
        auth = Auth() if clear else self
        if secrets:
            [(key, value)] = secrets.items()
            new = Auth.from_key(key, value)
            kept = self.username if self.kind == new.kind == "basic" else None
            auth = replace(new, username=kept)
        if username is not None:
            if auth.kind != "basic":
                raise UsageError(
                    "--username needs a basic password (--password, --password-env, ...)"
                )
            auth = replace(auth, username=username)
        if secrets and auth.kind == "basic" and not auth.username:
            raise UsageError(f"--{auth.key} needs --username (basic auth sends both)")
        return auth

    def clash(self, headers: Iterable[str]) -> str | None:
        """The header among HEADERS that this auth would replace (`Authorization`, in any
        case), or None: a context has one or the other."""
        if self.kind is None:
            return None
        return next((h for h in headers if h.lower() == "authorization"), None)


@dataclass(frozen=True)
class TLS:
    """A context's `tls`: the CA that signed the server's certificate, a client certificate and
    its key (PEM files), and whether to skip verifying the server (tests only)."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure_skip_verify: bool = False

    @classmethod
    def parse(cls, raw: object, error: Complaint) -> TLS:
        """The `tls` mapping of a context in the file; ERROR as in Auth.parse."""
        if not isinstance(raw, dict):
            raise error(": 'tls' must be a mapping", "tls")
        bad = set(raw) - TLS_KEYS
        if bad:
            raise error(f": unknown tls key {sorted(map(str, bad))[0]!r}", "tls")
        for key, value in raw.items():
            wanted = bool if key == "insecure-skip-verify" else str
            if not isinstance(value, wanted):
                kind = "true or false" if wanted is bool else "a file name"
                raise error(f": tls '{key}' must be {kind}", "tls", key)
        if "key-file" in raw and "cert-file" not in raw:
            raise error(": tls 'key-file' needs a 'cert-file'", "tls")
        return cls(**{key.replace("-", "_"): value for key, value in raw.items()})

    def to_dict(self) -> Settings:
        """The `tls` mapping as the file holds it (empty when nothing is set)."""
        files = zip(TLS_FILES, (self.ca_file, self.cert_file, self.key_file), strict=True)
        out: Settings = {key: value for key, value in files if value is not None}
        if self.insecure_skip_verify:
            out["insecure-skip-verify"] = True
        return out

    def changed(
        self,
        *,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        insecure_skip_verify: bool | None = None,
    ) -> TLS:
        """These settings after `config set-context`: the files given (each must exist; kept as
        absolute paths) replace theirs, INSECURE_SKIP_VERIFY when given. UsageError for a missing
        file or a key without a certificate."""
        files = {"ca-file": ca_file, "cert-file": cert_file, "key-file": key_file}
        for key, value in files.items():
            if value is not None:
                if not Path(value).expanduser().is_file():
                    raise UsageError(f"--{key}: no such file {value}")
                files[key] = str(Path(value).expanduser().resolve())
        tls = TLS(
            ca_file=files["ca-file"] or self.ca_file,
            cert_file=files["cert-file"] or self.cert_file,
            key_file=files["key-file"] or self.key_file,
            insecure_skip_verify=self.insecure_skip_verify
            if insecure_skip_verify is None
            else insecure_skip_verify,
        )
        if tls.key_file and not tls.cert_file:
            raise UsageError("--key-file needs a client certificate (--cert-file)")
        return tls


@dataclass
class Context:
    """Where and how to reach one Flink cluster."""

    name: str
    url: str = DEFAULT_URL
    auth: Auth = field(default_factory=Auth)
    tls: TLS = field(default_factory=TLS)
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    retry_budget: float = DEFAULT_RETRY_BUDGET
    catalog: str | None = None  # the catalog file of this context (flinkctl.catalog)

    def to_dict(self) -> Settings:
        """The context as stored in the file (defaults left out)."""
        out: Settings = {"url": self.url}
        for key, value in (("auth", self.auth.to_dict()), ("tls", self.tls.to_dict())):
            if value:
                out[key] = value
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.catalog:
            out["catalog"] = self.catalog
        defaults = Context(name="")
        for key, (attribute, _) in SECONDS.items():
            if getattr(self, attribute) != getattr(defaults, attribute):
                out[key] = getattr(self, attribute)
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
        """Check the content as a loaded file is checked, then write it atomically (temp file,
        fsync, rename) with mode 0600: a failure leaves the old file as it was."""
        import yaml

        text = yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=False)
        parse(text, self.path)
        target = Path(os.path.realpath(self.path))  # a symlinked file stays a symlink
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with held_back():
            fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".tmp", dir=target.parent)
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise


def load(path: Path | None = None, *, create: bool = False) -> Config:
    """Read the config file (PATH, else `$FLINKCTL_CONFIG`, else the default path).

    A missing default file is an empty config; a missing file named by PATH or
    `$FLINKCTL_CONFIG` is a ConfigError unless CREATE (a command that writes it). A file that
    others may read and that holds an inline secret draws a FlinkctlWarning.
    """
    path, named = locate(path)
    try:
        text, mode = yamlfile.read(path)
    except FileNotFoundError:
        if named and not create:
            raise _missing(path) from None
        return Config(path=path)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    except yamlfile.Malformed as exc:
        raise ConfigError(f"malformed config file {exc}") from None
    config = parse(text, path)
    if stat.S_IMODE(mode) & 0o077 and stat.S_ISREG(mode):
        exposed = [n for n, c in sorted(config.contexts.items()) if _holds_secret(c)]
        if exposed:
            warnings.warn(
                f"{path} holds an inline secret (context {exposed[0]!r}) and other users may "
                f"read it (mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}",
                FlinkctlWarning,
                stacklevel=2,
            )
    return config


def _missing(path: Path) -> ConfigError:
    return ConfigError(
        f"config file {path} does not exist",
        hint="check --config / FLINKCTL_CONFIG; "
        "`flinkctl config set-context NAME --url URL` creates it",
    )


@contextmanager
def editing(path: Path | None = None, *, create: bool = False) -> Iterator[Config]:
    """The config file, loaded under an exclusive lock (so concurrent writers lose no change)
    and saved when the block ends without an error; CREATE as in `load`."""
    target, named = locate(path)
    if named and not create and not target.exists():
        raise _missing(target)  # before the lock, which would make its directory
    with _locked(target):
        config = load(path, create=create)
        yield config
        config.save()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an flock on `.NAME.lock` beside PATH. The lock file is removed on release; a waiter
    that then holds a lock on the removed file notices (the inode changed) and tries again."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = path.with_name(f".{path.name}.lock")
    fd = -1
    try:
        fd = _acquire(lock, path)
        yield
    finally:
        if fd >= 0:
            with held_back():
                lock.unlink(missing_ok=True)
                os.close(fd)


def _acquire(lock: Path, path: Path) -> int:
    """An open descriptor of LOCK, holding its flock, LOCK still being that file. Interrupted,
    it removes a lock file it holds, so none is left behind."""
    import fcntl

    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        fd, owned = -1, False
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass
            else:
                try:
                    owned = os.path.samestat(os.fstat(fd), os.stat(lock))
                except FileNotFoundError:  # removed by the writer before: try again
                    owned = False
                if owned:
                    return fd
        except OSError as exc:
            if fd >= 0:
                os.close(fd)
            raise ConfigError(f"cannot lock config file {path}: {exc.strerror}") from exc
        except BaseException:  # Ctrl-C
            if owned:
                lock.unlink(missing_ok=True)
            if fd >= 0:
                os.close(fd)
            raise
        os.close(fd)
        if time.monotonic() > deadline:
            raise ConfigError(f"config file {path} is locked by another process ({lock})")
        time.sleep(0.01)


def _holds_secret(ctx: Context) -> bool:
    """Whether CTX has a secret written into the file: an inline token or password, a
    credential header, or a password in the URL."""
    return (
        ctx.auth.inline
        or any(re.search(SECRET_HEADER, name) for name in ctx.headers)
        or redact_url(ctx.url) != ctx.url
    )


# -- parsing ---------------------------------------------------------------------------------


def parse(text: str, path: Path) -> Config:
    """Parse and validate the config file's text; errors name the file, the line and the
    problem."""
    try:
        node, data = yamlfile.parse(text, path)
    except yamlfile.Malformed as exc:
        raise ConfigError(f"malformed config file {exc}") from exc
    if data is None:
        return Config(path=path)
    shape = _Shape(path, node)
    if not isinstance(data, dict):
        raise shape.error("expected a mapping at the top")
    unknown = set(data) - TOP_KEYS
    if unknown:
        key = sorted(map(str, unknown))[0]
        raise shape.error(f"unknown key {key!r} (known: {', '.join(sorted(TOP_KEYS))})", key)
    contexts_raw = data.get("contexts") or {}
    if not isinstance(contexts_raw, dict):
        raise shape.error("'contexts' must be a mapping", "contexts")
    for name in map(str, contexts_raw):
        problem = _name_problem(name)
        if problem:
            raise shape.error(f"context name {name!r}: {problem}", "contexts", name)
    contexts = {str(n): _context(str(n), raw, shape) for n, raw in contexts_raw.items()}
    current = data.get("current-context")
    if current is not None and not isinstance(current, str):
        raise shape.error("'current-context' must be a context name", "current-context")
    return Config(path=path, contexts=contexts, current_context=current or None)


class _Shape:
    """Errors about the shape of a parsed file, naming the file and the line of a key."""

    def __init__(self, path: Path, node: Node | None) -> None:
        self.path, self.node = path, node

    def error(self, problem: str, *keys: str) -> ConfigError:
        """ConfigError: PROBLEM at the line of the key path KEYS (as deep as it exists)."""
        return ConfigError(f"malformed config file {self.where(*keys)}: {problem}")

    def where(self, *keys: str) -> str:
        """`FILE:LINE` of the key path KEYS (as deep as it exists), or FILE."""
        import yaml

        node, line = self.node, None
        for key in keys:
            if not isinstance(node, yaml.MappingNode):
                break
            found = [(k, v) for k, v in node.value if str(k.value) == key]
            if not found:
                break
            line = found[0][0].start_mark.line + 1
            node = found[0][1]
        return f"{self.path}:{line}" if line else str(self.path)


def _context(name: str, raw: object, shape: _Shape) -> Context:
    """One context from the file, checked."""

    def error(problem: str, *keys: str) -> ConfigError:
        return shape.error(f"context {name!r}{problem}", "contexts", name, *keys)

    if not isinstance(raw, dict):
        raise error(" must be a mapping")
    unknown = sorted(map(str, set(raw) - CONTEXT_KEYS))
    if unknown:
        raise error(f": unknown key {unknown[0]!r}", unknown[0])
    url = raw.get("url")
    if not isinstance(url, str):
        raise error(": 'url' must be an http:// or https:// URL", "url")
    problem, url = _url_problem(url)
    if problem and not url.lower().startswith(("http://", "https://")):
        raise error(f": 'url' must be an http:// or https:// URL ({problem})", "url")
    if problem:
        raise error(f": invalid 'url': {problem}", "url")
    auth = Auth.parse(raw.get("auth") or {}, error)
    tls = TLS.parse(raw.get("tls") or {}, error)
    headers = raw.get("headers") or {}
    if not isinstance(headers, dict):
        raise error(": 'headers' must be a mapping", "headers")
    for key, value in headers.items():
        problem = header_problem(key, value)
        if problem:
            raise error(f": {problem}", "headers", str(key))
    clash = auth.clash(headers)
    if clash:  # a file that worked before still loads: the auth wins, as it always did
        warnings.warn(
            f"{shape.where('contexts', name, 'headers', clash)}: context {name!r}: its "
            f"{auth.kind} auth replaces header {clash!r}; keep one",
            FlinkctlWarning,
            stacklevel=2,
        )
    catalog = raw.get("catalog")
    if catalog is not None and (not isinstance(catalog, str) or not catalog):
        raise error(": 'catalog' must be a file name", "catalog")
    seconds = {}
    for key, (attribute, least) in SECONDS.items():
        value = _seconds(raw.get(key, getattr(Context, attribute)))
        if value is None or not 0 <= value < math.inf or (least and not value):  # also NaN
            if least:
                raise error(": timeouts must be durations (30s, 2m) or seconds, more than 0", key)
            raise error(f": '{key}' must be a duration (20s, 1m) or seconds, 0 or more", key)
        if value < least:  # a file written when the floor was 1 ms still loads
            warnings.warn(
                f"{shape.where('contexts', name, key)}: context {name!r}: {key} {_ms(value)} "
                f"is below the {_ms(least)} floor; using {_ms(least)}",
                FlinkctlWarning,
                stacklevel=2,
            )
            value = least
        seconds[attribute] = value
    return Context(
        name=name,
        url=url,
        auth=auth,
        tls=tls,
        headers={str(k): str(v) for k, v in headers.items()},
        catalog=catalog,
        **seconds,
    )


def resolve(
    config_path: Path | None = None,
    context: str | None = None,
    url: str | None = None,
) -> Context:
    """Pick the context for this invocation.

    Context: `context` > `$FLINKCTL_CONTEXT` > current-context. A `url` (`--url` or
    `$FLINKCTL_URL`) bypasses the file, or overrides the url of an explicitly named context.
    With neither a file nor flags, http://localhost:8081. `$FLINKCTL_RETRY_BUDGET` overrides
    the context's retry budget.
    """
    url = url or os.environ.get("FLINKCTL_URL") or None
    name = context or os.environ.get("FLINKCTL_CONTEXT") or None
    if url:
        url = check_url(url)
    if url and not name:
        ctx = Context(name="(url)", url=url)
    else:
        config = load(config_path)
        name = name or config.current_context
        ctx = config.get(name) if name else Context(name="(default)")
        ctx.url = url or ctx.url
    return _budgeted(ctx)


def every_context(config_path: Path | None = None) -> list[Context]:
    """Every context of the config file, by name (`-A/--all-contexts`); `$FLINKCTL_RETRY_BUDGET`
    applies as in `resolve`. No contexts is NotFoundError."""
    config = load(config_path)
    if not config.contexts:
        raise NotFoundError(
            f"no contexts in {config.path}",
            hint="add one: flinkctl config set-context NAME --url URL",
        )
    return [_budgeted(config.contexts[name]) for name in sorted(config.contexts)]


def _seconds(value: object) -> float | None:
    """A config file's time setting in seconds: a number, or a duration string ("30s", "2m");
    None when it is neither."""
    if isinstance(value, str):
        from flinkctl.durations import parse

        try:
            return parse(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _budgeted(ctx: Context) -> Context:
    """CTX with `$FLINKCTL_RETRY_BUDGET` as its retry budget, where set."""
    budget = os.environ.get("FLINKCTL_RETRY_BUDGET")
    if budget:
        seconds = _seconds(budget)
        if seconds is None:
            raise UsageError(
                f"FLINKCTL_RETRY_BUDGET={budget!r}: expected a duration (20s, 1m) or seconds, "
                "0 or more"
            )
        ctx.retry_budget = seconds
    return ctx


def redacted(ctx: Settings) -> Settings:
    """A stored context with inline secrets replaced by REDACTED: auth tokens and passwords,
    credential headers, a password in the URL."""
    out = dict(ctx)
    if "url" in out:
        out["url"] = redact_url(out["url"], REDACTED)
    if "auth" in out:
        out["auth"] = {k: (REDACTED if k in SECRET_KEYS else v) for k, v in out["auth"].items()}
    if "headers" in out:
        out["headers"] = {
            k: (REDACTED if re.search(SECRET_HEADER, k) else v) for k, v in out["headers"].items()
        }
    return out
