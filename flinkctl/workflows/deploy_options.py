"""`deploy`'s options, declared once: DeployOptions.

Each field is a parameter of `flinkctl deploy` (same name), with its default and its key in a
`-f deploy.yaml` (metadata "file"; None: not taken from a file). The file's keys, the defaults
and the merge of a file with the command line are derived from the fields. `load` reads the
file; `merge` is the pure part: the file's mapping and the options the user gave on the
command line (only those: a flag left at its default is not given) -> the options, the command
line winning, -D merged per key. `request` turns the options into the executor's Request.

No typer or rich: the CLI declares how each option is spelled and helped (cli/deploy.py), and
tests/test_deploy.py checks that its options and these fields are the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flinkctl.errors import UsageError
from flinkctl.strenum import StrEnum
from flinkctl.workflows.health import Gate

if TYPE_CHECKING:
    from flinkctl.workflows.deploy import Request

LATEST = "latest"  # --from-savepoint latest: NAME's newest savepoint (flinkctl savepoint latest)


class UpgradeMode(StrEnum):
    """How deploy takes the running job's state."""

    SAVEPOINT = "savepoint"  # stop it with a savepoint
    LAST_STATE = "last-state"  # cancel it, take its newest retained checkpoint
    STATELESS = "stateless"  # cancel it, start without state


# -- what a deploy.yaml value may be (each raises ValueError saying what it expected) ----------


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("expected a string")
    return str(value)


def _count(minimum: int) -> Callable[[Any], int]:
    def read(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"expected a whole number, {minimum} or more")
        return value

    return read


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _seconds(value: Any) -> float:
    from flinkctl.durations import parse

    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("expected a duration (seconds, or 45s, 2m)")
    return parse(str(value))


def _mode(value: Any) -> UpgradeMode:
    try:
        return UpgradeMode(value)
    except ValueError:
        choices = ", ".join(m.value for m in UpgradeMode)
        raise ValueError(f"expected one of {choices}") from None


def _args(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if any(isinstance(a, dict | list) or a is None for a in items):
        raise ValueError("expected an argument or a list of them")
    return tuple(str(a) for a in items)


def _conf(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError("must map keys to values")
    conf = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip() or not key.isprintable():
            raise ValueError(f"{key!r}: expected a Flink option name")
        if isinstance(item, bool):  # as Flink spells it, not Python's True
            item = "true" if item else "false"
        try:
            if isinstance(item, float) and not math.isfinite(item):  # .nan, .inf: no Flink value
                raise ValueError(item)
            conf[key] = _text(item)
        except ValueError:
            raise ValueError(f"{key}: expected a string, a number or true/false") from None
    return conf


def _option(file: str | None, default: Any = None, read: Callable[[Any], Any] = _text) -> Any:
    """A DeployOptions field: DEFAULT, and FILE, its key in deploy.yaml, whose value READ
    checks and converts."""
    if isinstance(default, dict):
        return field(default_factory=dict, metadata={"file": file, "read": read})
    return field(default=default, metadata={"file": file, "read": read})


@dataclass(frozen=True)
class DeployOptions:
    """What `flinkctl deploy` was asked, from its command line and its -f deploy.yaml."""

    name: str | None = _option("name")
    jar: str | None = _option("jar")  # a local jar file, or an uploaded jar's id, prefix, name
    entry_class: str | None = _option("class")
    arg: tuple[str, ...] = _option("arg", (), _args)
    parallelism: int | None = _option("parallelism", None, _count(1))
    conf: dict[str, str] = _option("configuration", {}, _conf)  # -D key=value
    upgrade_mode: UpgradeMode = _option("upgrade-mode", UpgradeMode.SAVEPOINT, _mode)
    allow_non_restored_state: bool = _option("allow-non-restored-state", False, _flag)
    drain: bool = _option("drain", False, _flag)
    from_savepoint: str | None = _option("from-savepoint")  # a path, a URI or LATEST
    fresh: bool = _option("fresh", False, _flag)
    savepoint_dir: str | None = _option("savepoint-dir")
    healthy_for: float = _option("healthy-for", Gate.healthy_for, _seconds)
    max_restarts: int = _option("max-restarts", Gate.max_restarts, _count(0))
    min_checkpoints: int | None = _option("min-checkpoints", Gate.min_checkpoints, _count(0))
    timeout: float = _option("timeout", Gate.timeout, _seconds)  # each wait
    keep_jars: int = _option("keep-jars", 3, _count(1))
    no_rollback: bool = _option("no-rollback", False, _flag)
    dry_run: bool = _option(None, False, _flag)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The options, as the command's parameters are named."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def file_keys(cls) -> dict[str, str]:
        """deploy.yaml's keys -> the options they give."""
        return {f.metadata["file"]: f.name for f in fields(cls) if f.metadata["file"]}

    @classmethod
    def default(cls, name: str) -> Any:
        """The default of option NAME."""
        return getattr(cls(), name)

    def request(self, locate: Callable[[str], Path | None]) -> Request:
        """The executor's Request: LOCATE(jar) is the jar as a local file (None: it names an
        uploaded jar); missing NAME or --jar, and contradictory options, are refused
        (UsageError)."""
        from flinkctl.workflows.deploy import Request

        if not self.name:
            raise UsageError("missing NAME (the job's name)", hint="give it, or `name:` in --file")
        if not self.jar:
            raise UsageError("missing --jar FILE|JAR", hint="give it, or `jar:` in --file")
        request = Request(
            name=self.name,
            jar=self.jar,
            jar_file=locate(self.jar),
            entry_class=self.entry_class,
            args=self.arg,
            parallelism=self.parallelism,
            conf=dict(self.conf),
            upgrade_mode=self.upgrade_mode,
            allow_non_restored_state=self.allow_non_restored_state,
            drain=self.drain,
            from_savepoint=self.from_savepoint,
            fresh=self.fresh,
            savepoint_dir=self.savepoint_dir,
            gate=Gate(self.healthy_for, self.max_restarts, self.min_checkpoints, self.timeout),
            timeout=self.timeout,
            keep_jars=self.keep_jars,
            rollback=not self.no_rollback,
            dry_run=self.dry_run,
        )
        request.check()
        return request


def merge(data: object, given: Mapping[str, Any], where: str = "deploy.yaml") -> DeployOptions:
    """The options from DATA (a deploy.yaml's content, read from WHERE) under GIVEN (the
    options given on the command line, by parameter name, already typed): a given option wins,
    -D merges per key (the command line's value wins). A bad file is a UsageError naming
    WHERE: not a mapping, an unknown key, a value of the wrong type."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(f"{where}: expected a mapping of option names to values")
    keys = DeployOptions.file_keys()
    unknown = sorted(set(map(str, data)) - set(keys))
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}", hint=f"keys: {', '.join(keys)}")
    declared = {f.name: f for f in fields(DeployOptions)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = keys[key]
        try:
            values[name] = declared[name].metadata["read"](value)
        except ValueError as exc:
            raise UsageError(f"{where}: {key}: {exc}") from None
    for name, value in given.items():
        if name not in declared:
            raise TypeError(f"deploy has no option {name!r}")  # a bug in the caller
        values[name] = {**values.get(name, {}), **value} if name == "conf" else value
    return DeployOptions(**values)


def load(path: Path | None, given: Mapping[str, Any]) -> DeployOptions:
    """The options: GIVEN (the command line's, see `merge`) over the deploy.yaml at PATH, if
    any; a file that cannot be read, or is not YAML (see yamlfile), is a UsageError."""
    if path is None:
        return merge({}, given)
    from flinkctl import yamlfile

    try:
        _, data = yamlfile.parse(yamlfile.read(path)[0], path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except yamlfile.Malformed as exc:
        raise UsageError(f"malformed {exc}") from None
    return merge(data, given, str(path))
