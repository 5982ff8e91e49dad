"""Issue 19's cron cases on a real cluster: a trigger that overlaps a savepoint Flink still takes
joins it (and once it completed, a further trigger takes a new one); a context that is down, a
RESTARTING job and a --name that matches nothing each write a line of their own with
`logged-at` and set the exit code; the crontab of docs/recipes.md runs as cron runs it.

A cluster of its own per version (the demo job, and in the last test a job that keeps failing).
The overlap is made real by freezing the TaskManager (SIGSTOP, always SIGCONT) for the few
seconds the two runs take: Flink reports the first savepoint IN_PROGRESS until it thaws. The
tests run in file order; the failing job comes last, so the others see only the demo job.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from recipes import as_cron, cron_home, crontab, recipe

from flinkctl.local.demo import JAR
from flinkctl.local.ports import free_port

from .conftest import (
    LocalFlink,
    catalog_rows,
    eventually,
    flinkctl,
    module_cluster,
    on_disk,
    run,
    savepoint_dirs,
)

CLUSTER = "e2e-cron-log"
FAILING = "cron-failing"


@pytest.fixture(scope="module")
def flink(flink_version, tmp_path_factory) -> LocalFlink:
    with module_cluster(tmp_path_factory, CLUSTER, flink_version) as cluster:
        yield cluster


def jsonl(flink: LocalFlink, *args: str, env: dict | None = None) -> tuple[int, list[dict], str]:
    """`flinkctl ARGS -o jsonl`: the exit code, the lines parsed, stderr."""
    code, out, err = flink.run(*args, "-o", "jsonl", env=env, timeout=120)
    return code, [json.loads(line) for line in out.splitlines()], err


def stamped(line: dict) -> None:
    """LINE starts with `logged-at`: UTC, ISO 8601 to the millisecond, written just now."""
    stamp = line["logged-at"]
    assert next(iter(line)) == "logged-at" and stamp.endswith("Z"), line
    at = datetime.fromisoformat(stamp.removesuffix("Z") + "+00:00")
    assert abs(datetime.now(timezone.utc) - at) < timedelta(minutes=2), line


@contextlib.contextmanager
def frozen(flink: LocalFlink) -> Iterator[None]:
    """The cluster's TaskManagers stopped (SIGSTOP) inside the block, continued after it."""
    code, out, err = flink.run("local", "status", "--name", flink.name, "-o", "json")
    assert code == 0, err
    pids = json.loads(out)["pids"]["taskmanager"]
    assert pids, out
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def trigger_in_progress(flink: LocalFlink, jid: str) -> dict:
    """A savepoint of JID triggered without waiting (TaskManagers frozen), and Flink reporting it
    IN_PROGRESS; the trigger's output. Be quick after it: a frozen TaskManager fails the
    savepoint once an RPC to it times out (pekko.ask.timeout, 10 s)."""
    first = run(flink, "savepoint", "trigger", jid)
    assert first["joined"] is False, first
    status = run(flink, "savepoint", "status", jid, first["trigger-id"])
    assert status["status"]["id"] == "IN_PROGRESS", status
    return first


def follows(result: dict, first: dict) -> bool:
    """Whether RESULT reports the savepoint the run that printed FIRST triggered."""
    ids = ("trigger-id", "started-ms")
    return [result[k] for k in ids] == [first[k] for k in ids]


def test_an_overlapping_trigger_joins_the_savepoint_flink_still_takes(flink):
    """While the TaskManager is frozen, a run triggers without waiting (the cron form of a slow
    savepoint) and a second run overlaps it: Flink reports the first IN_PROGRESS, so the second
    joins it (same trigger id and started-ms, joined: true): one new savepoint directory, not
    two. Once it has completed, with the catalog's row still in progress (no run waited for
    it), a further trigger settles that row and takes a new savepoint instead of reporting it."""
    jid = flink.demo_job_id
    before = savepoint_dirs(flink)
    with frozen(flink):
        first = trigger_in_progress(flink, jid)
        second = run(flink, "savepoint", "trigger", jid)
    assert second["joined"] is True, second
    assert follows(second, first), second
    done = run(flink, "savepoint", "status", jid, first["trigger-id"], "--wait", "--timeout", "60s")
    [new] = savepoint_dirs(flink) - before
    assert on_disk(done["location"]).name == new
    [row] = [r for r in catalog_rows(flink) if r["trigger_id"] == first["trigger-id"]]
    assert row["status"] == "IN_PROGRESS"  # as far as the catalog knows
    code, out, err = flinkctl(flink, "savepoint", "trigger", jid, "--wait", "-o", "json")
    assert code == 0, err
    newer = json.loads(out)
    assert newer["joined"] is False and newer["trigger-id"] != first["trigger-id"], newer
    assert newer["started-ms"] > first["started-ms"] and newer["location"] != done["location"]
    assert savepoint_dirs(flink) - before == {new, on_disk(newer["location"]).name}
    [row] = [r for r in catalog_rows(flink) if r["trigger_id"] == first["trigger-id"]]
    assert (row["status"], row["path"]) == ("COMPLETED", done["location"])  # settled


def test_a_waiting_run_that_overlaps_reports_the_savepoint_it_joined(flink, tmp_path):
    """The same overlap with the cron line's --wait: the second run follows the first run's
    savepoint to its end and reports its path, as the first run would have."""
    jid = flink.demo_job_id
    before = savepoint_dirs(flink)
    errors = tmp_path / "second.err"
    second: subprocess.Popen | None = None
    try:
        with frozen(flink):
            first = trigger_in_progress(flink, jid)
            command = [flink.exe, "-v", "--url", flink.url, "savepoint", "trigger", jid,
                       "--wait", "--timeout", "60s", "-o", "json"]  # fmt: skip
            with errors.open("w") as stderr:
                second = subprocess.Popen(command, env=flink.env, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=stderr, text=True)  # fmt: skip
            # -v logs each request: the trigger request is sent once the run chose its trigger id
            sent = f"POST {flink.url}/jobs/{jid}/savepoints -> "
            eventually(lambda: sent in errors.read_text() or second.poll() is not None,
                       timeout=15, what="the second run's trigger request")  # fmt: skip
        out, _ = second.communicate(timeout=90)
    finally:
        if second is not None and second.poll() is None:
            second.kill()
            second.wait()
    assert second.returncode == 0, errors.read_text()
    joined = json.loads(out)
    assert joined["joined"] is True, joined
    assert follows(joined, first), joined
    assert joined["status"] == "COMPLETED"
    [new] = savepoint_dirs(flink) - before
    assert on_disk(joined["location"]).name == new
    [row] = [r for r in catalog_rows(flink) if r["trigger_id"] == first["trigger-id"]]
    assert (row["status"], row["path"]) == ("COMPLETED", joined["location"])


def test_a_name_that_matches_nothing_is_a_note_line_and_exit_3(flink):
    glob = "no-such-job-*"
    code, lines, err = jsonl(flink, "--url", flink.url, "savepoint", "trigger", "--all",
                             "--name", glob, "--wait")  # fmt: skip
    assert code == 3, err
    [line] = lines
    stamped(line)
    assert list(line) == ["logged-at", "context", "note"]
    assert glob in line["note"] and glob in err


def test_a_context_that_is_down_writes_its_own_line_and_exit_5(flink, tmp_path):
    config = tmp_path / "fleet.yaml"
    down = f"http://127.0.0.1:{free_port()}"
    config.write_text(json.dumps({"current-context": "up", "contexts": {
        "up": {"url": flink.url}, "down": {"url": down}}}))  # fmt: skip
    config.chmod(0o600)
    env = {**flink.env, "FLINKCTL_CONFIG": str(config), "FLINKCTL_RETRY_BUDGET": "0"}
    code, lines, err = jsonl(flink, "savepoint", "trigger", "--all", "-A", "--wait", env=env)
    assert code == 5, err
    for line in lines:
        stamped(line)
    [failed] = [line for line in lines if line["context"] == "down"]
    assert list(failed) == ["logged-at", "context", "error"]
    assert (failed["error"]["code"], failed["error"]["kind"]) == (5, "unreachable"), failed
    assert failed["error"]["message"]
    [taken] = [line for line in lines if line["context"] == "up"]
    assert (taken["job-name"], taken["status"], taken["joined"]) == (
        "flinkctl-demo", "COMPLETED", False
    )  # fmt: skip
    assert on_disk(taken["location"]).is_dir()
    assert "context down: " in err  # still on stderr too: what cron mails


def test_the_recipes_crontab_runs_as_cron_runs_it(flink, tmp_path):
    """Each line of docs/recipes.md's crontab through `env -i` with cron's environment and
    `/bin/sh -c` (tests/test_recipes.py), its context `prod` this cluster."""
    assignments, (trigger, check, prune) = crontab(recipe("crontab"))
    home = cron_home(tmp_path, flink.url)
    ran = as_cron(home, assignments, trigger)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "", "")  # cron mails nothing
    [line] = [json.loads(x) for x in (home / "savepoints.jsonl").read_text().splitlines()]
    stamped(line)
    assert (line["context"], line["job-name"], line["status"], line["joined"]) == (
        "prod", "flinkctl-demo", "COMPLETED", False
    )  # fmt: skip
    assert on_disk(line["location"]).is_dir()
    ran = as_cron(home, assignments, check)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "", "")
    ran = as_cron(home, assignments, prune)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "", "")
    pruned = [json.loads(x) for x in (home / "pruned.jsonl").read_text().splitlines()]
    assert line["location"] in {p["path"] for p in pruned}
    assert all(p["action"] == "keep" for p in pruned), pruned  # --keep 24 --older-than 7d
    assert on_disk(line["location"]).is_dir()


def test_a_restarting_job_is_skipped_with_a_reason_and_exit_1(flink):
    """A job that fails a second after each start and waits 30 s before the next: while it is
    RESTARTING, `--all` takes the demo job's savepoint and writes a SKIPPED line for it."""
    args = [a for x in ["20", "--name", FAILING, "--fail-after", "1"] for a in ("--arg", x)]
    restarts = ["-D", "restart-strategy.type=fixed-delay", "-D",
                "restart-strategy.fixed-delay.attempts=100", "-D",
                "restart-strategy.fixed-delay.delay=30s"]  # fmt: skip
    jid = run(flink, "jars", "run", str(JAR), *args, *restarts)["job-id"]
    try:
        eventually(lambda: flinkctl(flink, "jobs", "status", jid)[1].strip(),
                   lambda state: state == "RESTARTING", timeout=30, what="RESTARTING")  # fmt: skip
        code, lines, err = jsonl(flink, "--url", flink.url, "savepoint", "trigger", "--all",
                                 "--wait")  # fmt: skip
        assert code == 1, err
        for line in lines:
            stamped(line)
        by_name = {line["job-name"]: line for line in lines}
        assert by_name.keys() == {"flinkctl-demo", FAILING}, lines
        assert by_name["flinkctl-demo"]["status"] == "COMPLETED"
        skipped = by_name[FAILING]
        assert (skipped["job-id"], skipped["status"]) == (jid, "SKIPPED"), skipped
        assert skipped["reason"] == "the job is RESTARTING"
        assert "trigger-id" not in skipped  # no savepoint was asked for
        assert f"job {jid} ({FAILING}): skipped: the job is RESTARTING" in err
    finally:
        code, _, err = flinkctl(flink, "jobs", "cancel", jid, "--yes")
        assert code == 0, err
