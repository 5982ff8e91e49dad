"""The local record of what flinkctl did to clusters: deploy revisions and savepoints.

One SQLite file (stdlib sqlite3), `--catalog` > `$FLINKCTL_CATALOG` >
`$XDG_STATE_HOME/flinkctl/catalog.db` (a context's `catalog` key sits between the variable and
the default). Its schema is versioned with `PRAGMA user_version`: each
entry of MIGRATIONS takes the file one version up, in a transaction, so a newer flinkctl opens an
older file and adds its tables. WAL and a busy timeout let several flinkctl processes (parallel CI
steps on one runner) read and write it at once. No typer, rich or httpx here.

It holds what a rollback needs, secrets included (the `-D` values and program arguments that the
record on the cluster masks), so it is private: the file (and its -wal and -shm) mode 0600, its
directory 0700 when flinkctl makes it or it is the default one; an existing file is tightened
when opened. A cluster is keyed by its URL without a `user:password@` part
(flinkctl.sensitive.cluster_key): every method takes either form, and no password is stored.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from flinkctl.errors import FlinkctlError, FlinkctlWarning
from flinkctl.sensitive import cluster_key

BUSY_TIMEOUT_MS = 10_000

# Entry i holds the statements that take the schema from version i to i + 1. Append; never edit
# one that has shipped.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE revisions (
            cluster     TEXT    NOT NULL,  -- the REST URL of the cluster the job ran on
            name        TEXT    NOT NULL,  -- the job's name
            job_id      TEXT    NOT NULL,
            revision    INTEGER NOT NULL,
            generation  INTEGER NOT NULL,  -- one per job started for NAME: deploys, rollbacks
            record      TEXT    NOT NULL,  -- the revision record as carried on the cluster
            outcome     TEXT,              -- healthy, unhealthy, not-started; NULL: unknown
            created_ms  INTEGER NOT NULL,
            PRIMARY KEY (cluster, job_id)
        )""",
        "CREATE INDEX revisions_by_name ON revisions (cluster, name, generation)",
    ),
    (
        """CREATE TABLE savepoints (
            id          INTEGER PRIMARY KEY,
            context     TEXT    NOT NULL,  -- the context's name when it was recorded
            cluster     TEXT    NOT NULL,  -- the REST URL of the cluster
            job_id      TEXT    NOT NULL,
            job_name    TEXT    NOT NULL,
            trigger_id  TEXT,              -- NULL: learned from Flink, not triggered here
            path        TEXT,              -- NULL until it completed
            format      TEXT,              -- CANONICAL, NATIVE; NULL: the cluster's default
            kind        TEXT    NOT NULL,  -- savepoint, stop-with-savepoint, deploy
            started_ms  INTEGER NOT NULL,
            finished_ms INTEGER,
            size        INTEGER,           -- bytes, when Flink reports it
            status      TEXT    NOT NULL,  -- IN_PROGRESS, COMPLETED, FAILED, DISPOSED
            failure     TEXT,              -- why it failed, on one line
            by          TEXT               -- user@host; NULL: learned from Flink
        )""",
        "CREATE UNIQUE INDEX savepoints_by_trigger ON savepoints (cluster, job_id, trigger_id)",
        "CREATE UNIQUE INDEX savepoints_by_path ON savepoints (path)",
        "CREATE INDEX savepoints_by_name ON savepoints (job_name, started_ms)",
    ),
    (  # clusters keyed without user:password@ (rows of one cluster written under both merge)
        "UPDATE OR REPLACE revisions SET cluster = flinkctl_cluster_key(cluster) "
        "WHERE cluster != flinkctl_cluster_key(cluster)",
        "UPDATE OR REPLACE savepoints SET cluster = flinkctl_cluster_key(cluster) "
        "WHERE cluster != flinkctl_cluster_key(cluster)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
FILE_MODE = 0o600
DIR_MODE = 0o700


def default_path() -> Path:
    """`$FLINKCTL_CATALOG`, else `$XDG_STATE_HOME/flinkctl/catalog.db` (~/.local/state)."""
    if os.environ.get("FLINKCTL_CATALOG"):
        return Path(os.environ["FLINKCTL_CATALOG"]).expanduser()
    return _state_dir() / "catalog.db"


@dataclass(frozen=True)
class Entry:
    """One row of `revisions`: a job that flinkctl started, with its record and outcome."""

    cluster: str
    name: str
    job_id: str
    revision: int
    generation: int
    record: dict[str, Any]
    outcome: str | None
    created_ms: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "cluster", cluster_key(self.cluster))


class Catalog:
    """The catalog file; opened (and migrated) on first use, so merely building one is free."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._local = threading.local()  # a connection per thread (fan-out over jobs)
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection, opened (and the schema migrated) on first use."""
        found: sqlite3.Connection | None = getattr(self._local, "db", None)
        if found is None:
            try:
                private(self.path)
                db = sqlite3.connect(
                    self.path,
                    timeout=BUSY_TIMEOUT_MS / 1000,
                    isolation_level=None,
                    check_same_thread=False,  # `close` runs on the thread that made the Catalog
                )
                db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                db.execute("PRAGMA secure_delete = ON")  # a replaced secret leaves no trace
                db.create_function("flinkctl_cluster_key", 1, cluster_key, deterministic=True)
                wal(db)
                migrate(db)
            except (OSError, sqlite3.Error) as exc:
                raise FlinkctlError(
                    f"cannot open the catalog {self.path}: {exc}",
                    hint="point --catalog or FLINKCTL_CATALOG at a writable file",
                ) from exc
            self._local.db = found = db
            with self._lock:
                self._all.append(db)
        return found

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            opened, self._all = self._all, []
        for db in opened:
            db.close()
        self._local = threading.local()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, entry: Entry) -> None:
        """Record a started job (replacing a row of the same job id)."""
        with transaction(self.db) as db:
            db.execute(
                "INSERT OR REPLACE INTO revisions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.cluster,
                    entry.name,
                    entry.job_id,
                    entry.revision,
                    entry.generation,
                    json.dumps(entry.record, sort_keys=True),
                    entry.outcome,
                    entry.created_ms,
                ),
            )

    def set_outcome(self, cluster: str, job_id: str, outcome: str) -> None:
        """The health gate's verdict on a job recorded earlier."""
        with transaction(self.db) as db:
            db.execute(
                "UPDATE revisions SET outcome = ? WHERE cluster = ? AND job_id = ?",
                (outcome, cluster_key(cluster), job_id),
            )

    def entries(self, cluster: str, name: str) -> list[Entry]:
        """Every job recorded for NAME on CLUSTER, oldest first."""
        rows = self.db.execute(
            "SELECT * FROM revisions WHERE cluster = ? AND name = ? ORDER BY generation, created_ms",
            (cluster_key(cluster), name),
        )
        return [_entry(row) for row in rows]

    def entry(self, cluster: str, job_id: str) -> Entry | None:
        """The record of one job, if this machine started it."""
        row = self.db.execute(
            "SELECT * FROM revisions WHERE cluster = ? AND job_id = ?",
            (cluster_key(cluster), job_id),
        ).fetchone()
        return _entry(row) if row else None

    # -- savepoints ----------------------------------------------------------------------------

    def begin_savepoint(self, row: Savepoint, join_within_ms: int | None = None) -> Savepoint:
        """Record a savepoint about to be triggered (status IN_PROGRESS); the row recorded.

        With JOIN_WITHIN_MS, a trigger of the same job recorded as in progress less than that
        long ago is returned instead, and nothing is added: the caller repeats its trigger id,
        which Flink answers from its cache, so overlapping runs take one savepoint. The check
        and the insert are one transaction, so two processes cannot both begin one.
        """
        with transaction(self.db) as db:
            if join_within_ms is not None:
                found = db.execute(
                    f"SELECT {COLUMNS} FROM savepoints WHERE cluster = ? AND job_id = ? "
                    "AND status = 'IN_PROGRESS' AND trigger_id IS NOT NULL AND started_ms > ? "
                    "ORDER BY started_ms DESC LIMIT 1",
                    (row.cluster, row.job_id, row.started_ms - join_within_ms),
                ).fetchone()
                if found:
                    return _savepoint(found)
            cursor = db.execute(
                f"INSERT OR IGNORE INTO savepoints ({COLUMNS}) "
                f"VALUES ({', '.join('?' * len(FIELDS))})",
                _values(replace(row, id=None)),
            )
            if not cursor.rowcount:  # this trigger id is recorded already: that row
                return _savepoint(
                    db.execute(
                        f"SELECT {COLUMNS} FROM savepoints WHERE cluster = ? AND job_id = ? "
                        "AND trigger_id = ?",
                        (row.cluster, row.job_id, row.trigger_id),
                    ).fetchone()
                )
        return replace(row, id=cursor.lastrowid)

    def finish_savepoint(
        self,
        row_id: int,
        status: str,
        *,
        path: str | None = None,
        size: int | None = None,
        failure: str | None = None,
        finished_ms: int | None = None,
    ) -> None:
        """Record how the savepoint of row ROW_ID ended (COMPLETED with PATH, or FAILED).

        A row learned from Flink for the same path gives way to this one."""
        with transaction(self.db) as db:
            if path:
                db.execute(
                    "DELETE FROM savepoints WHERE path = ? AND trigger_id IS NULL AND id != ?",
                    (path, row_id),
                )
            db.execute(
                "UPDATE savepoints SET status = ?, path = coalesce(?, path), "
                "size = coalesce(?, size), failure = ?, finished_ms = ? WHERE id = ?",
                (status, path, size, failure, finished_ms or now_ms(), row_id),
            )

    def learn_savepoints(self, rows: list[Savepoint]) -> None:
        """Record completed savepoints Flink reported (ROWS with a path) that are not recorded
        yet; a recorded path only gains the size where it had none."""
        with transaction(self.db) as db:
            for row in rows:
                db.execute(
                    "UPDATE savepoints SET size = coalesce(size, ?) WHERE path = ?",
                    (row.size, row.path),
                )
                db.execute(
                    f"INSERT OR IGNORE INTO savepoints ({COLUMNS}) "
                    f"VALUES ({', '.join('?' * len(FIELDS))})",
                    _values(replace(row, id=None)),
                )

    def mark_disposed(self, path: str) -> None:
        """The savepoint at PATH has been disposed."""
        with transaction(self.db) as db:
            db.execute("UPDATE savepoints SET status = 'DISPOSED' WHERE path = ?", (path,))

    def savepoints(
        self, clusters: list[str] | None = None, name: str | None = None
    ) -> list[Savepoint]:
        """Savepoint rows, newest first: of CLUSTERS (None: every cluster), of job NAME."""
        where, args = [], []
        if clusters is not None:
            where.append(f"cluster IN ({', '.join('?' * len(clusters))})")
            args += [cluster_key(c) for c in clusters]
        if name is not None:
            where.append("job_name = ?")
            args.append(name)
        sql = f"SELECT {COLUMNS} FROM savepoints"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.db.execute(sql + " ORDER BY started_ms DESC, id DESC", args)
        return [_savepoint(row) for row in rows]


@dataclass(frozen=True)
class Savepoint:
    """One row of `savepoints`: a savepoint flinkctl triggered, or one Flink reported."""

    context: str
    cluster: str
    job_id: str
    job_name: str
    kind: str
    started_ms: int
    status: str = "IN_PROGRESS"
    trigger_id: str | None = None
    path: str | None = None
    format: str | None = None
    finished_ms: int | None = None
    size: int | None = None
    failure: str | None = None
    by: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:  # whoever builds a row: no password in it, stored or printed
        object.__setattr__(self, "cluster", cluster_key(self.cluster))

    def to_json(self) -> dict[str, Any]:
        """The row as `savepoint list -o json` prints it (kebab-case keys)."""
        return {f.name.replace("_", "-"): getattr(self, f.name) for f in fields(self)}


FIELDS = tuple(f.name for f in fields(Savepoint))
COLUMNS = ", ".join(FIELDS)


def _values(row: Savepoint) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in FIELDS)


def _savepoint(row: tuple[Any, ...]) -> Savepoint:
    return Savepoint(**dict(zip(FIELDS, row, strict=True)))


def now_ms() -> int:
    """The wall clock in milliseconds, as Flink's timestamps."""
    return int(time.time() * 1000)


def _entry(row: tuple[Any, ...]) -> Entry:
    cluster, name, job_id, revision, generation, record, outcome, created_ms = row
    return Entry(
        cluster, name, job_id, revision, generation, json.loads(record), outcome, created_ms
    )


def private(path: Path) -> None:
    """Make PATH's directory (0700) and PATH (0600) if missing, and tighten the file (and its
    -wal and -shm) if it exists with wider modes. An existing directory is tightened only when
    it is flinkctl's own (under the state directory), never one the user named (`/tmp`)."""
    directory = path.parent
    if not directory.is_dir():
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    elif directory == _state_dir():
        _tighten(directory, DIR_MODE)
    with contextlib.suppress(FileExistsError):  # 0600 from the start, not after SQLite's 0644
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            _tighten(file, FILE_MODE)


def _state_dir() -> Path:
    """flinkctl's own directory of the default catalog (whatever $FLINKCTL_CATALOG says)."""
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "flinkctl"


def _tighten(path: Path, mode: int) -> None:
    """Take group and other permissions from PATH; a file of another user's is warned of."""
    if path.stat().st_mode & 0o777 & ~mode:
        try:
            path.chmod(mode)
        except PermissionError:
            warnings.warn(
                f"the catalog {path} is readable by others and cannot be made private "
                f"(mode {path.stat().st_mode & 0o777:o}); it may hold secrets of deploys",
                FlinkctlWarning,
                stacklevel=3,
            )


def wal(db: sqlite3.Connection) -> None:
    """Put the file in WAL mode. SQLite answers "locked" at once, without the busy handler, when
    another connection is switching a new file at the same moment: retry within the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on an error): one writer at a time, waiting up to
    the busy timeout for another."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def migrate(db: sqlite3.Connection) -> None:
    """Bring the file's schema up to SCHEMA_VERSION; a file from a newer flinkctl is left as is."""
    with transaction(db):
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                db.execute(statement)
        if version < SCHEMA_VERSION:
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
