"""The local record of what flinkctl did to clusters: deploy revisions (and, later, savepoints).

One SQLite file (stdlib sqlite3), `--catalog` > `$FLINKCTL_CATALOG` >
`$XDG_STATE_HOME/flinkctl/catalog.db`. Its schema is versioned with `PRAGMA user_version`: each
entry of MIGRATIONS takes the file one version up, in a transaction, so a newer flinkctl opens an
older file and adds its tables. WAL and a busy timeout let several flinkctl processes (parallel CI
steps on one runner) read and write it at once. No typer, rich or httpx here.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flinkctl.errors import FlinkctlError

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
)
SCHEMA_VERSION = len(MIGRATIONS)


def default_path() -> Path:
    """`$FLINKCTL_CATALOG`, else `$XDG_STATE_HOME/flinkctl/catalog.db` (~/.local/state)."""
    if os.environ.get("FLINKCTL_CATALOG"):
        return Path(os.environ["FLINKCTL_CATALOG"]).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "flinkctl" / "catalog.db"


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


class Catalog:
    """The catalog file; opened (and migrated) on first use, so merely building one is free."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(
                    self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
                )
                db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                db.execute("PRAGMA journal_mode = WAL")
                migrate(db)
            except (OSError, sqlite3.Error) as exc:
                raise FlinkctlError(
                    f"cannot open the catalog {self.path}: {exc}",
                    hint="point --catalog or FLINKCTL_CATALOG at a writable file",
                ) from exc
            self._db = db
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

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
                (outcome, cluster, job_id),
            )

    def entries(self, cluster: str, name: str) -> list[Entry]:
        """Every job recorded for NAME on CLUSTER, oldest first."""
        rows = self.db.execute(
            "SELECT * FROM revisions WHERE cluster = ? AND name = ? ORDER BY generation, created_ms",
            (cluster, name),
        )
        return [_entry(row) for row in rows]

    def entry(self, cluster: str, job_id: str) -> Entry | None:
        """The record of one job, if this machine started it."""
        row = self.db.execute(
            "SELECT * FROM revisions WHERE cluster = ? AND job_id = ?", (cluster, job_id)
        ).fetchone()
        return _entry(row) if row else None


def _entry(row: tuple[Any, ...]) -> Entry:
    cluster, name, job_id, revision, generation, record, outcome, created_ms = row
    return Entry(
        cluster, name, job_id, revision, generation, json.loads(record), outcome, created_ms
    )


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
