"""Savepoints for cron on a real cluster, in the order of issue 11: trigger --all --name, the
catalog, list, latest, two overlapping triggers, prune, check, an empty catalog, and fleets.

A cluster of its own per version (4 slots: the demo job and two jobs of the demo jar under the
names cron-a and cron-b; cron-a checkpoints every 300 ms, so more than 10 checkpoints push a
savepoint out of Flink's history within seconds). The tests run in file order and build on each
other. The last starts a second cluster (of the other tested version: a mixed fleet) for
`--all-contexts`, with a third context that is down; two clusters are the machine's maximum.
"""

from __future__ import annotations

import json

import pytest

from flinkctl.local.demo import JAR
from flinkctl.local.ports import free_port

from .conftest import (
    E2E_VERSIONS,
    LocalFlink,
    catalog_rows,
    eventually,
    flinkctl,
    local_cluster,
    module_cluster,
    on_disk,
    run,
    savepoint_dirs,
)

CLUSTER = "e2e-cron"
JOBS = {"cron-a": ["--checkpoint-interval", "300"], "cron-b": []}


@pytest.fixture(scope="module")
def flink(flink_version, tmp_path_factory) -> LocalFlink:
    with module_cluster(tmp_path_factory, CLUSTER, flink_version, "--slots", "4") as cluster:
        for name, extra in JOBS.items():
            args = [a for x in ["20", "--name", name, *extra] for a in ("--arg", x)]
            run(cluster, "jars", "run", str(JAR), *args, "--wait-running")
        yield cluster


@pytest.fixture(scope="module")
def seen() -> dict:
    """What earlier tests saw (savepoint paths by job name), for the later ones."""
    return {}


def test_trigger_all_by_name_records_each_job_and_list_shows_every_one(flink, seen):
    taken = run(flink, "savepoint", "trigger", "--all", "--name", "cron-*", "--wait")
    assert sorted(t["job-name"] for t in taken) == ["cron-a", "cron-b"]  # not flinkctl-demo
    for t in taken:
        assert t["status"] == "COMPLETED" and on_disk(t["location"]).is_dir(), t
        seen[t["job-name"]] = [t["location"]]
    rows = {r["path"]: r for r in catalog_rows(flink)}
    for t in taken:
        row = rows[t["location"]]
        assert (row["job_name"], row["job_id"], row["status"], row["kind"]) == (
            t["job-name"], t["job-id"], "COMPLETED", "savepoint"
        )  # fmt: skip
        assert row["trigger_id"] == t["trigger-id"] and row["by"]
    listed = run(flink, "savepoint", "list")
    assert {t["location"] for t in taken} <= {r["path"] for r in listed}
    only_a = run(flink, "savepoint", "list", "cron-a")
    assert {r["path"] for r in only_a} == set(seen["cron-a"])
    assert {r["size"] for r in only_a} != {None}  # Flink reported the size
    code, out, _ = flinkctl(flink, "savepoint", "latest", "cron-a")
    assert code == 0 and out.strip() == seen["cron-a"][0]
    assert on_disk(out.strip()).is_dir()


def test_a_trigger_never_returns_an_older_savepoint(flink, seen):
    """A run that triggered without waiting left its catalog row in progress; its savepoint
    completes (the demo's take a fraction of a second). A second run asks Flink about that
    trigger id before it joins: finished, so it settles the row and takes a savepoint of its
    own, never reporting the older one as new (joining one Flink still reports IN_PROGRESS is
    tests/test_savepoints.py's)."""
    before = savepoint_dirs(flink)
    first = run(flink, "savepoint", "trigger", "cron-b")
    older = run(flink, "savepoint", "status", "cron-b", first["trigger-id"], "--wait")
    code, out, err = flinkctl(flink, "savepoint", "trigger", "cron-b", "--wait")
    assert code == 0, err
    assert "following it" not in err
    assert out.strip() != older["location"]
    assert len(savepoint_dirs(flink) - before) == 2
    rows = {r["trigger_id"]: r for r in catalog_rows(flink)}
    assert rows[first["trigger-id"]]["status"] == "COMPLETED"
    assert rows[first["trigger-id"]]["path"] == older["location"]
    seen["cron-b"].append(out.strip())
    seen["cron-b-older"] = older["location"]


def test_prune_keep_1_keeps_the_newest_and_the_restored_one(flink, seen):
    first, second = seen["cron-b"]
    stopped = run(flink, "jobs", "stop", "cron-b", "--wait", "--yes")
    args = [a for x in ["20", "--name", "cron-b"] for a in ("--arg", x)]
    run(flink, "jars", "run", str(JAR), *args, "--from-savepoint", first,
        "--claim-mode", "no-claim", "--wait-running")  # fmt: skip
    newest = run(flink, "savepoint", "trigger", "cron-b", "--wait")["location"]
    kinds = {r["path"]: r["kind"] for r in catalog_rows(flink)}
    assert kinds[stopped["location"]] == "stop-with-savepoint"
    plan = run(flink, "savepoint", "prune", "cron-b", "--keep", "1", "--dry-run")
    older = seen["cron-b-older"]
    assert {p["path"]: p["action"] for p in plan} == {
        newest: "keep", first: "keep", second: "dispose", stopped["location"]: "dispose",
        older: "dispose",
    }  # fmt: skip
    assert all(on_disk(p).is_dir() for p in (first, second, stopped["location"], newest))
    done = run(flink, "savepoint", "prune", "cron-b", "--keep", "1", "--yes")
    assert {p["path"]: p["outcome"] for p in done if p["action"] == "dispose"} == {
        second: "disposed", stopped["location"]: "disposed", older: "disposed"
    }  # fmt: skip
    assert not on_disk(second).exists() and not on_disk(stopped["location"]).exists()
    assert on_disk(first).is_dir() and on_disk(newest).is_dir()
    status = {r["path"]: r["status"] for r in run(flink, "savepoint", "list", "cron-b")}
    assert status[second] == status[stopped["location"]] == "DISPOSED"
    assert status[first] == status[newest] == "COMPLETED"


def test_check_is_0_when_fresh_and_7_when_stale(flink):
    code, out, err = flinkctl(flink, "savepoint", "check", "cron-a", "--max-age", "1h")
    assert (code, err) == (0, ""), err
    assert out.splitlines()[1].split("\t")[1:3] == ["cron-a", "true"]
    code, _, err = flinkctl(flink, "savepoint", "check", "cron-a", "--max-age", "1s")
    assert code == 7 and "cron-a (" in err
    code, out, err = flinkctl(flink, "savepoint", "check", "--all", "--max-age", "1h", "-o", "json")
    assert code == 7
    assert {r["job-name"]: r["fresh"] for r in json.loads(out)} == {
        "cron-a": True, "cron-b": True, "flinkctl-demo": False
    }  # fmt: skip
    assert "flinkctl-demo (no savepoint)" in err


def test_deploy_records_its_savepoint_and_starts_from_the_latest(flink):
    program = ["--jar", str(JAR), "--healthy-for", "2", "--timeout", "2m", "--no-rollback"]
    args = [a for x in ["20", "--name", "cron-b"] for a in ("--arg", x)]
    first = run(flink, "deploy", "cron-b", *program, *args)
    assert first["result"] == "deployed", first
    rows = {r["path"]: r for r in catalog_rows(flink)}
    assert rows[first["savepoint"]]["kind"] == "deploy"
    assert rows[first["savepoint"]]["status"] == "COMPLETED"
    code, out, _ = flinkctl(flink, "savepoint", "latest", "cron-b")
    assert out.strip() == first["savepoint"]
    args = [a for x in ["25", "--name", "cron-b"] for a in ("--arg", x)]
    second = run(flink, "deploy", "cron-b", *program, *args, "--from-savepoint", "latest")
    assert second["result"] == "deployed", second
    resolve = next(s for s in second["steps"] if s["step"] == "resolve")
    assert resolve["detail"].endswith("latest: the state this deploy takes from it")
    # latest is the newest state: the savepoint this deploy took, not the older one (issue 18)
    assert second["savepoint"] != first["savepoint"]
    stats = run(flink, "checkpoints", "list", second["job-id"])
    assert on_disk(stats["latest"]["restored"]["external_path"]) == on_disk(second["savepoint"])


def test_an_empty_catalog_finds_the_newest_savepoint_after_10_newer_checkpoints(
    flink, seen, tmp_path
):
    jid = next(j["jid"] for j in run(flink, "jobs", "list", "--name", "cron-a", "--state",
                                      "RUNNING")["jobs"])  # fmt: skip

    def pushed_out(stats: dict) -> bool:
        saved = stats["latest"]["savepoint"]
        newer = stats["latest"]["completed"]["id"] - saved["id"]
        return newer > 10 and not any(h["is_savepoint"] for h in stats["history"])

    stats = eventually(lambda: run(flink, "checkpoints", "list", jid), pushed_out,
                       timeout=120, what="more than 10 checkpoints after the savepoint")  # fmt: skip
    assert stats["latest"]["savepoint"]["external_path"] == seen["cron-a"][0]
    env = {**flink.env, "FLINKCTL_CATALOG": str(tmp_path / "empty.db")}
    code, out, err = flinkctl(flink, "savepoint", "latest", "cron-a", env=env)
    assert (code, out.strip()) == (0, seen["cron-a"][0]), err
    listed = run(flink, "savepoint", "list", "cron-a", env=env)
    assert [r["path"] for r in listed] == seen["cron-a"]


def test_all_contexts_over_two_clusters_and_one_down(flink, tmp_path_factory):
    """A fleet of this cluster and one of the other tested version, plus a context nobody
    answers: every cluster's jobs, savepoints and checks, the one down named on stderr, exit 5."""
    versions = [v.strip() for v in E2E_VERSIONS.split(",")]
    other = next(v for v in versions if v != flink.version)
    tmp = tmp_path_factory.mktemp(f"{CLUSTER}-other-{other}")
    with local_cluster(tmp, f"{CLUSTER}-2", other) as second:
        config = tmp / "fleet.yaml"
        down = f"http://127.0.0.1:{free_port()}"
        config.write_text(json.dumps({"current-context": "one", "contexts": {
            "one": {"url": flink.url}, "two": {"url": second.url}, "down": {"url": down}}}))  # fmt: skip
        env = {**flink.env, "FLINKCTL_CONFIG": str(config)}

        def fleet(*args: str) -> tuple[int, list | dict, str]:
            code, out, err = flink.run(*args, "-A", "-o", "json", env=env, timeout=300)
            return code, json.loads(out), err

        code, jobs, err = fleet("jobs", "list", "--state", "RUNNING")
        assert code == 5 and json.loads(err)["error"]["message"].startswith("context down: ")
        names = sorted((j["context"], j["name"]) for j in jobs["jobs"])
        assert names == [("one", "cron-a"), ("one", "cron-b"), ("one", "flinkctl-demo"),
                         ("two", "flinkctl-demo")]  # fmt: skip
        code, taken, err = fleet("savepoint", "trigger", "--all", "--wait")
        assert code == 5 and "context down" in err
        # the log says what was not done too: the context that is down has a line of its own
        assert [t["error"]["code"] for t in taken if t["context"] == "down"] == [5]
        taken = [t for t in taken if t["context"] != "down"]
        assert sorted((t["context"], t["job-name"]) for t in taken) == names
        assert all(t["status"] == "COMPLETED" for t in taken), taken
        code, listed, err = fleet("savepoint", "list")
        assert code == 5
        assert {(t["context"], t["location"]) for t in taken} <= {
            (r["context"], r.get("path")) for r in listed
        }
        code, checked, err = fleet("savepoint", "check", "--all", "--max-age", "1h")
        assert code == 5 and "context down" in err  # unreachable outranks stale (none here)
        assert [r["error"]["code"] for r in checked if r["context"] == "down"] == [5]
        checked = [r for r in checked if r["context"] != "down"]
        assert {(r["context"], r["job-name"]) for r in checked} == set(names)
        assert all(r["fresh"] for r in checked), checked
