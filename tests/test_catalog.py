"""The local catalog: where it lives, its versioned schema, and revision rows."""

from __future__ import annotations

import concurrent.futures
import functools
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from flinkctl.catalog import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Catalog,
    Entry,
    Savepoint,
    default_path,
    now_ms,
)
from flinkctl.errors import FlinkctlError


def entry(job_id: str, generation: int, outcome: str | None = None, name: str = "etl") -> Entry:
    return Entry("http://flink:8081", name, job_id, generation, generation, {"g": generation},
                 outcome, 1000 * generation)  # fmt: skip


def test_default_path_follows_xdg_state_home_and_the_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_path() == tmp_path / "state" / "flinkctl" / "catalog.db"
    monkeypatch.setenv("FLINKCTL_CATALOG", str(tmp_path / "elsewhere.db"))
    assert default_path() == tmp_path / "elsewhere.db"


def test_a_new_file_gets_the_current_schema_in_wal_mode(tmp_path):
    path = tmp_path / "deep" / "catalog.db"
    with Catalog(path) as catalog:
        assert catalog.entries("x", "y") == []
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_older_file_is_migrated_and_a_current_one_left_alone(tmp_path):
    path = tmp_path / "catalog.db"
    sqlite3.connect(path).execute("PRAGMA user_version = 0").connection.close()
    with Catalog(path) as catalog:
        catalog.add(entry("a", 1))
    with Catalog(path) as catalog:  # opened again: no migration runs twice
        assert [e.job_id for e in catalog.entries("http://flink:8081", "etl")] == ["a"]


def test_entries_by_name_oldest_first_and_outcomes(tmp_path):
    with Catalog(tmp_path / "c.db") as catalog:
        catalog.add(entry("b", 2))
        catalog.add(entry("a", 1, "healthy"))
        catalog.add(entry("z", 1, name="other"))
        catalog.set_outcome("http://flink:8081", "b", "unhealthy")
        found = catalog.entries("http://flink:8081", "etl")
        assert [(e.job_id, e.outcome, e.record) for e in found] == [
            ("a", "healthy", {"g": 1}),
            ("b", "unhealthy", {"g": 2}),
        ]
        assert catalog.entry("http://flink:8081", "z").name == "other"
        assert catalog.entry("http://other:8081", "z") is None


def test_two_connections_write_one_file(tmp_path):
    one, two = Catalog(tmp_path / "c.db"), Catalog(tmp_path / "c.db")
    one.add(entry("a", 1))
    two.add(entry("b", 2))
    assert [e.job_id for e in one.entries("http://flink:8081", "etl")] == ["a", "b"]
    one.close()
    two.close()


def test_an_unusable_path_is_a_flinkctl_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(FlinkctlError, match="cannot open the catalog"):
        Catalog(tmp_path / "file" / "catalog.db").entries("x", "y")


# -- savepoints --------------------------------------------------------------------------------


def savepoint(job_id: str = "j1", trigger: str | None = "t1", **more) -> Savepoint:
    return Savepoint("prod", "http://flink:8081", job_id, "etl", "savepoint",
                     more.pop("started_ms", now_ms()), trigger_id=trigger, **more)  # fmt: skip


def test_a_version_1_file_is_migrated_keeping_its_revisions(tmp_path):
    """A catalog written by the flinkctl that knew only revisions (schema version 1)."""
    path = tmp_path / "v1.db"
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("INSERT INTO revisions VALUES ('http://flink:8081', 'etl', 'a', 1, 1, '{}', "
               "'healthy', 1000)")  # fmt: skip
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Catalog(path) as catalog:
        assert [(e.job_id, e.outcome) for e in catalog.entries("http://flink:8081", "etl")] == [
            ("a", "healthy")
        ]
        catalog.begin_savepoint(savepoint())
        assert [s.trigger_id for s in catalog.savepoints()] == ["t1"]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"revisions", "savepoints"}


def test_a_savepoint_in_progress_is_joined_within_the_window_only(tmp_path):
    with Catalog(tmp_path / "c.db") as catalog:
        first = catalog.begin_savepoint(savepoint(trigger="t1"), join_within_ms=60_000)
        joined = catalog.begin_savepoint(savepoint(trigger="t2"), join_within_ms=60_000)
        assert (joined.id, joined.trigger_id) == (first.id, "t1")
        other_job = catalog.begin_savepoint(savepoint("j2", "t3"), join_within_ms=60_000)
        assert other_job.trigger_id == "t3"
        old = savepoint(trigger="t4", started_ms=now_ms() + 120_000)  # the first is too old now
        assert catalog.begin_savepoint(old, join_within_ms=60_000).trigger_id == "t4"
        catalog.finish_savepoint(first.id, "COMPLETED", path="file:/sp/1")
        again = catalog.begin_savepoint(savepoint(trigger="t5"), join_within_ms=10**9)
        assert again.trigger_id == "t4"  # the completed one is not joined; t4 still runs


def test_a_learned_savepoint_gives_way_to_the_recorded_one_of_its_path(tmp_path):
    with Catalog(tmp_path / "c.db") as catalog:
        row = catalog.begin_savepoint(savepoint())
        learned = savepoint(trigger=None, status="COMPLETED", path="file:/sp/1", size=7)
        catalog.learn_savepoints([learned, replace(learned, path="file:/sp/2", size=None)])
        catalog.finish_savepoint(row.id, "COMPLETED", path="file:/sp/1")
        catalog.learn_savepoints([learned])  # learned again: nothing new, the size is filled
        catalog.mark_disposed("file:/sp/2")
        found = {s.path: (s.trigger_id, s.status, s.size) for s in catalog.savepoints()}
        assert found == {
            "file:/sp/1": ("t1", "COMPLETED", 7),
            "file:/sp/2": (None, "DISPOSED", None),
        }
        assert catalog.savepoints(["http://other:8081"]) == []
        assert catalog.savepoints(name="other") == []


def _begin(path: str, trigger: str, start, out) -> None:
    """One process of the race: wait for the start, then begin a savepoint of job j1."""
    start.wait()
    with Catalog(Path(path)) as catalog:
        out.put(
            catalog.begin_savepoint(savepoint(trigger=trigger), join_within_ms=60_000).trigger_id
        )


def _add(path: str, index: int, start) -> None:
    start.wait()
    with Catalog(Path(path)) as catalog:
        for n in range(20):
            catalog.begin_savepoint(savepoint(f"job-{index}", f"t{n}"))


def test_processes_racing_begin_one_savepoint_and_lose_no_rows(tmp_path):
    """Six processes begin a savepoint of one job at once on a new file: one trigger id wins, all
    join it; four more write 20 rows each at once: all 80 are there."""
    import multiprocessing

    path = str(tmp_path / "c.db")
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    racers = [ctx.Process(target=_begin, args=(path, f"t{i}", start, out)) for i in range(6)]
    writers = [ctx.Process(target=_add, args=(path, i, start)) for i in range(4)]
    for p in racers + writers:
        p.start()
    start.set()
    for p in racers + writers:
        p.join(120)
        assert p.exitcode == 0
    winners = {out.get(timeout=10) for _ in racers}
    assert len(winners) == 1
    with Catalog(Path(path)) as catalog:
        rows = catalog.savepoints()
    assert [r.trigger_id for r in rows if r.job_id == "j1"] == list(winners)
    assert len([r for r in rows if r.job_id.startswith("job-")]) == 80


def test_threads_opening_a_new_file_at_once_all_get_it(tmp_path):
    """The fan-out's threads each open their connection on a catalog file nobody made yet (SQLite
    answers a second switch to WAL mode "locked" without waiting; 40 new files make that likely)."""

    def race(catalog: Catalog, start: threading.Barrier, n: int) -> None:
        start.wait()
        catalog.begin_savepoint(savepoint(f"job-{n}", f"t{n}"))

    for attempt in range(40):
        catalog, start = Catalog(tmp_path / f"{attempt}.db"), threading.Barrier(4)
        with catalog, concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(functools.partial(race, catalog, start), range(4)))
            assert len(catalog.savepoints()) == 4
