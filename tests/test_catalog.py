"""The local catalog: where it lives, its versioned schema, and revision rows."""

from __future__ import annotations

import sqlite3

import pytest

from flinkctl.catalog import MIGRATIONS, SCHEMA_VERSION, Catalog, Entry, default_path
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
