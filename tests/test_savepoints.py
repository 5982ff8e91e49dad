"""The savepoint regime over recorded responses: the catalog merged with Flink's history, list,
latest, check, prune, triggers of many jobs, joins of a trigger in progress, -o jsonl, fleets."""

from __future__ import annotations

import json

import pytest

from flinkctl.catalog import Catalog, Savepoint, now_ms
from flinkctl.errors import SEVERITY, ExitCode, worst
from flinkctl.local.ports import free_port
from flinkctl.workflows.savepoints import from_flink, merge

NAME = "flinkctl-demo"


def newest(flink) -> dict:
    """The savepoint Flink reports in the recorded checkpoint statistics."""
    return flink.body("checkpoints")["latest"]["savepoint"]


def row(flink, path: str, started_ms: int, **more) -> Savepoint:
    return Savepoint("(url)", more.pop("cluster", None) or "", flink.ids["jobid"], NAME,
                     "savepoint", started_ms, path=path, **more)  # fmt: skip


def recorded(httpserver, *rows: Savepoint) -> None:
    """ROWS in this test's catalog, on the test server's cluster."""
    url = httpserver.url_for("").rstrip("/")
    with Catalog() as catalog:
        for r in rows:
            done = catalog.begin_savepoint(Savepoint(**{**r.__dict__, "cluster": url}))
            if r.status != "IN_PROGRESS":
                catalog.finish_savepoint(done.id, r.status, path=r.path, finished_ms=r.started_ms)


def test_the_severity_order_ranks_every_exit_code_once():
    assert sorted(SEVERITY) == sorted(ExitCode)
    assert worst([]) == ExitCode.OK
    assert worst([0, 7, 1, 8]) == ExitCode.FAILED
    assert worst([7, 3]) == ExitCode.NOT_FOUND
    assert worst([1, 5, 4]) == ExitCode.AUTH
    assert worst([5, 7, 0]) == ExitCode.UNREACHABLE


def test_flinks_savepoints_merge_with_the_catalog_one_row_per_path(flink):
    job = flink.body("jobs-overview")["jobs"][0]
    reported = from_flink("prod", "http://flink", job, flink.body("checkpoints"))
    sp = newest(flink)
    assert [(r.path, r.kind, r.size, r.status, r.started_ms) for r in reported] == [
        (sp["external_path"], "savepoint", sp["state_size"], "COMPLETED", sp["trigger_timestamp"])
    ]
    disposed = row(flink, sp["external_path"], sp["trigger_timestamp"], status="DISPOSED", id=1)
    older = row(flink, "file:/sp/older", sp["trigger_timestamp"] - 1000, status="COMPLETED", id=2)
    running = row(flink, None, sp["trigger_timestamp"] + 1000, trigger_id="t", id=3)
    merged = merge([disposed, older, running], reported)
    assert [(r.path, r.status, r.size) for r in merged] == [
        (None, "IN_PROGRESS", None),
        (sp["external_path"], "DISPOSED", sp["state_size"]),  # Flink does not know it was
        ("file:/sp/older", "COMPLETED", None),
    ]


def test_list_with_an_empty_catalog_shows_and_records_what_flink_knows(cli, flink, httpserver):
    flink.serve(httpserver, "jobs-overview", "checkpoints")
    r = cli("savepoint", "list", NAME, "-o", "json")
    assert r.code == 0, r.err
    [item] = r.json()
    assert (item["path"], item["job-name"], item["status"], item["by"]) == (
        newest(flink)["external_path"], NAME, "COMPLETED", None
    )  # fmt: skip
    with Catalog() as catalog:
        assert [s.path for s in catalog.savepoints()] == [item["path"]]
    r = cli("savepoint", "list")
    lines = r.out.splitlines()
    assert lines[0].split("\t") == ["NAME", "STATUS", "TAKEN", "AGE", "KIND", "SIZE", "PATH"]
    assert lines[1].split("\t")[1::5] == ["COMPLETED", item["path"]]


def test_latest_prints_the_newest_path_alone_and_3_when_there_is_none(cli, flink, httpserver):
    flink.serve(httpserver, "jobs-overview", "checkpoints")
    sp = newest(flink)
    recorded(httpserver, row(flink, "file:/sp/older", sp["trigger_timestamp"] - 5, status="COMPLETED"),
             row(flink, "file:/sp/newer-gone", sp["trigger_timestamp"] + 5, status="DISPOSED"))  # fmt: skip
    r = cli("savepoint", "latest", NAME)
    assert (r.code, r.out, r.err) == (0, sp["external_path"] + "\n", "")
    assert cli("savepoint", "latest", NAME, "-o", "json").json()["path"] == sp["external_path"]
    r = cli("savepoint", "latest", "no-such-job")
    assert (r.code, r.out) == (3, "")
    assert "no completed savepoint of job 'no-such-job'" in r.err


@pytest.mark.parametrize(("max_age", "code"), [("7d", 0), ("30m", 7)])
def test_check_is_0_when_fresh_and_7_naming_the_stale(
    cli, flink, httpserver, monkeypatch, max_age, code
):
    flink.serve(httpserver, "jobs-overview", "checkpoints")
    taken = newest(flink)["trigger_timestamp"]
    monkeypatch.setattr("flinkctl.workflows.savepoints.now_ms", lambda: taken + 3600_000)
    r = cli("savepoint", "check", "--all", "--max-age", max_age, "-o", "json")
    assert r.code == code
    [item] = r.json()
    assert (item["job-name"], item["age-ms"], item["fresh"]) == (NAME, 3600_000, code == 0)
    if code:
        assert (
            "1 of 1 running job(s) have no savepoint younger than 30m00s: flinkctl-demo (1h00m)"
            in r.err
        )
    else:
        assert r.err == ""
    assert cli("savepoint", "check", "gone", "--max-age", "1h").code == 3


def test_check_needs_a_max_age_and_one_of_a_name_or_all(cli):
    assert cli("savepoint", "check", "--all").code == 2
    assert cli("savepoint", "check", "--max-age", "1h").code == 2
    assert cli("savepoint", "check", NAME, "--all", "--max-age", "1h").code == 2


@pytest.mark.parametrize(
    "verb, options", [("check", ["--max-age", "1h"]), ("prune", ["--keep", "1"])]
)
@pytest.mark.parametrize("names", [[], [NAME, "--all"]])
def test_a_job_name_or_all_is_one_of_them(cli, httpserver, verb, options, names):
    r = cli("savepoint", verb, *names, *options)
    assert (r.code, r.out, r.err) == (2, "", "error: give a job name or --all\n")
    assert httpserver.log == []


def test_prune_keeps_the_newest_and_the_restored_and_disposes_the_rest(
    cli, flink, httpserver, expect
):
    sp = newest(flink)
    stats = flink.body("checkpoints")
    stats["latest"]["restored"] = {**sp, "external_path": "file:/sp/restored"}
    flink.serve(httpserver, "jobs-overview", "job-config")
    expect("checkpoints", body=stats, always=True)
    t = sp["trigger_timestamp"]
    recorded(httpserver, *(row(flink, f"file:/sp/{p}", t - n, status="COMPLETED")
                           for n, p in enumerate(["restored", "old-1", "old-2"], 1)))  # fmt: skip
    r = cli("savepoint", "prune", NAME, "--keep", "1", "--dry-run", "-o", "json")
    assert r.code == 0, r.err
    plan = {d["path"]: (d["action"], d["reason"]) for d in r.json()}
    jid = flink.ids["jobid"]
    assert plan == {
        sp["external_path"]: ("keep", "the newest"),
        "file:/sp/restored": ("keep", f"job {jid} restored from it"),
        "file:/sp/old-1": ("dispose", "pruned"),
        "file:/sp/old-2": ("dispose", "pruned"),
    }
    assert cli("savepoint", "prune", NAME, "--keep", "1").code == 2  # no terminal, no --yes
    for path in ("file:/sp/old-1", "file:/sp/old-2"):
        expect("disposal-trigger", json={"savepoint-path": path})
    expect("disposal-status-completed", always=True)
    r = cli("savepoint", "prune", NAME, "--keep", "1", "--yes")
    assert r.code == 0, r.err
    assert r.err == "disposed 2 of 4 savepoint(s)\n"
    with Catalog() as catalog:
        status = {s.path: s.status for s in catalog.savepoints()}
    assert status == {sp["external_path"]: "COMPLETED", "file:/sp/restored": "COMPLETED",
                      "file:/sp/old-1": "DISPOSED", "file:/sp/old-2": "DISPOSED"}  # fmt: skip


def test_prune_by_age_a_gone_savepoint_counts_as_disposed_a_failure_is_exit_1(
    cli, flink, httpserver, expect, monkeypatch
):
    sp = newest(flink)
    flink.serve(httpserver, "jobs-overview", "checkpoints", "job-config")
    t = sp["trigger_timestamp"]
    monkeypatch.setattr("flinkctl.workflows.savepoints.now_ms", lambda: t + 3 * 86400_000)
    day, week, month = (f"file:/sp/{n}-old" for n in ("day", "week", "month"))
    recorded(httpserver, row(flink, day, t - 86400_000, status="COMPLETED"),
             row(flink, week, t - 7 * 86400_000, status="COMPLETED"),
             row(flink, month, t - 30 * 86400_000, status="COMPLETED"))  # fmt: skip
    failed = flink.body("disposal-status-failed")
    denied = json.loads(
        json.dumps(failed).replace("FileNotFoundException", "AccessDeniedException")
    )
    answer = {"request-id": flink.path("disposal-status-failed").rsplit("/", 1)[-1]}
    for path in (week, month):
        expect("disposal-trigger", json={"savepoint-path": path}, body=answer)
    expect("disposal-status-failed")  # Flink finds no such savepoint: it is gone already
    expect("disposal-status-failed", body=denied)
    r = cli("savepoint", "prune", NAME, "--older-than", "7d", "--yes", "-o", "json")
    assert r.code == 1
    outcome = {d["path"]: (d["action"], d["outcome"]) for d in r.json()}
    assert outcome[day] == ("keep", None)
    assert outcome[week] == ("dispose", "disposed")
    assert outcome[month][0] == "dispose" and "AccessDeniedException" in outcome[month][1]
    assert "AccessDeniedException" in r.err
    with Catalog() as catalog:
        status = {s.path: s.status for s in catalog.savepoints()}
    assert (status[week], status[month]) == ("DISPOSED", "COMPLETED")
    assert cli("savepoint", "prune", NAME).code == 2  # neither --keep nor --older-than


def test_three_cron_runs_append_three_json_lines(cli, flink, httpserver, tid, expect, tmp_path):
    flink.serve(httpserver, "jobs-overview", "savepoint-status-completed")
    expect("savepoint-trigger", json={"triggerId": tid, "cancel-job": False}, always=True)
    log = tmp_path / "savepoints.jsonl"
    for _ in range(3):
        r = cli("savepoint", "trigger", flink.ids["jobid"], "--wait", "-o", "jsonl")
        assert (r.code, r.err) == (0, "")
        with log.open("a") as f:
            f.write(r.out)
    lines = log.read_text().splitlines()
    assert len(lines) == 3
    location = flink.body("savepoint-status-completed")["operation"]["location"]
    assert [json.loads(line)["location"] for line in lines] == [location] * 3
    with Catalog() as catalog:
        assert [(s.status, s.path, s.job_name) for s in catalog.savepoints()] == [
            ("COMPLETED", location, NAME)
        ]  # one trigger id, one row: each run found the last one completed, not in progress


def test_jsonl_prints_a_list_one_item_per_line_and_an_empty_one_as_nothing(cli, flink, httpserver):
    flink.serve(httpserver, "jobs-overview", "checkpoints")
    r = cli("savepoint", "list", "-o", "jsonl")
    assert [json.loads(line)["job-name"] for line in r.out.splitlines()] == [NAME]
    r = cli("savepoint", "list", "nothing", "-o", "jsonl")
    assert (r.code, r.out) == (0, "")


def test_a_trigger_joins_the_savepoint_flink_reports_in_progress(
    cli, flink, httpserver, expect, monkeypatch
):
    """Another run's trigger is in progress (the catalog says, and Flink, asked by its trigger
    id, too): this one repeats its trigger id, reports the same savepoint, and says when it
    was triggered."""
    flink.serve(httpserver, "jobs-overview")
    theirs = flink.body("savepoint-trigger")["request-id"]
    monkeypatch.setattr("flinkctl.client.poller.new_trigger_id", lambda: "c" * 32)
    started = now_ms() - 5000
    recorded(httpserver, row(flink, None, started, trigger_id=theirs, by="cron@elsewhere"))
    expect("savepoint-status-in-progress")  # asked before joining; then followed to its end
    expect("savepoint-trigger", json={"triggerId": theirs, "cancel-job": False})
    expect("savepoint-status-completed")
    r = cli("savepoint", "trigger", flink.ids["jobid"], "--wait", "-o", "json")
    assert r.code == 0, r.err
    out = r.json()
    location = flink.body("savepoint-status-completed")["operation"]["location"]
    assert (out["location"], out["joined"], out["started-ms"]) == (location, True, started)
    with Catalog() as catalog:
        assert [(s.trigger_id, s.status) for s in catalog.savepoints()] == [(theirs, "COMPLETED")]


@pytest.mark.parametrize(
    ("answer", "age_s", "settled"),
    [
        ("savepoint-status-completed", 5, "COMPLETED"),  # finished: its path recorded
        ("savepoint-status-failed", 5, "FAILED"),  # Flink's failure recorded
        ("savepoint-status-unknown", 60, "FAILED"),  # forgotten: outcome unknown
    ],
)
def test_a_trigger_never_reports_an_old_savepoint(
    cli, flink, httpserver, expect, monkeypatch, answer, age_s, settled
):
    """The catalog has a row in progress (a run without --wait) that Flink reports finished or
    no longer knows: the row is settled and a new savepoint is taken, not joined."""
    flink.serve(httpserver, "jobs-overview")
    theirs = flink.path(answer).rsplit("/", 1)[-1]  # the trigger id that recording answers for
    monkeypatch.setattr("flinkctl.client.poller.new_trigger_id", lambda: "c" * 32)
    recorded(httpserver, row(flink, None, now_ms() - age_s * 1000, trigger_id=theirs))
    expect(answer)
    expect("savepoint-trigger", json={"triggerId": "c" * 32, "cancel-job": False},
           body={"request-id": "c" * 32})  # fmt: skip
    r = cli("savepoint", "trigger", flink.ids["jobid"], "-o", "json")
    assert r.code == 0, r.err
    out = r.json()
    assert (out["trigger-id"], out["joined"]) == ("c" * 32, False)
    assert out["started-ms"] >= now_ms() - 10_000
    with Catalog() as catalog:
        rows = {s.trigger_id: s for s in catalog.savepoints()}
    assert (rows["c" * 32].status, rows[theirs].status) == ("IN_PROGRESS", settled)
    if answer == "savepoint-status-completed":
        location = flink.body(answer)["operation"]["location"]
        assert rows[theirs].path == location
    if answer == "savepoint-status-unknown":
        assert rows[theirs].failure.startswith(
            f"outcome unknown: Flink no longer knows trigger id {theirs}"
        )


def test_a_young_row_flink_does_not_know_yet_is_joined(cli, flink, httpserver, expect, monkeypatch):
    """A row recorded a moment ago whose run has not sent its request yet: Flink answers 404,
    and repeating its trigger id is what takes the one savepoint."""
    flink.serve(httpserver, "jobs-overview")
    theirs = flink.path("savepoint-status-unknown").rsplit("/", 1)[-1]
    monkeypatch.setattr("flinkctl.client.poller.new_trigger_id", lambda: "c" * 32)
    recorded(httpserver, row(flink, None, now_ms(), trigger_id=theirs))
    expect("savepoint-status-unknown")
    expect("savepoint-trigger", json={"triggerId": theirs, "cancel-job": False},
           body={"request-id": theirs})  # fmt: skip
    r = cli("savepoint", "trigger", flink.ids["jobid"], "-o", "json")
    assert r.code == 0, r.err
    assert (r.json()["trigger-id"], r.json()["joined"]) == (theirs, True)


def test_trigger_all_attempts_every_job_and_exits_with_the_worst(
    cli, flink, httpserver, tid, expect
):
    other = "0" * 32
    overview = flink.body("jobs-overview")
    job = overview["jobs"][0]
    overview["jobs"] += [{**job, "jid": other, "name": "other-job"},
                         {**job, "jid": "1" * 32, "name": "ended", "state": "FINISHED"}]  # fmt: skip
    expect("jobs-overview", body=overview, always=True)
    expect("savepoint-trigger")
    expect("savepoint-status-completed")
    missing = flink.record("job-not-found")
    httpserver.expect_oneshot_request(f"/jobs/{other}/savepoints", method="POST").respond_with_json(
        missing["body"], status=missing["status"]
    )
    r = cli("savepoint", "trigger", "--all", "--wait", "-o", "json")
    assert r.code == 3
    items = {i["job-name"]: i for i in r.json()}
    assert set(items) == {NAME, "other-job"}  # every RUNNING job, no other
    assert items[NAME]["status"] == "COMPLETED" and "error" not in items[NAME]
    assert (items["other-job"]["status"], items["other-job"]["error"]["code"]) == ("FAILED", 3)
    assert f"job {other} (other-job): " in r.err
    r = cli("savepoint", "trigger", "--all", "--name", "nothing-*", "-o", "json")
    assert r.code == 3  # a cron line that does nothing is a broken one
    [line] = r.json()
    assert line["note"] == "no job whose name matches 'nothing-*' runs"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("--all", "x"), "not both"),
        ((), "or --all"),
        (("x", "--name", "a*"), "--name selects jobs with --all"),
        (("x", "-A"), "--all-contexts takes savepoints with --all"),
    ],
)
def test_trigger_refuses_contradictions(cli, args, problem):
    r = cli("savepoint", "trigger", *args)
    assert r.code == 2 and problem in r.err


def test_all_contexts_prints_those_that_answer_and_names_the_one_down(
    cli, flink, httpserver, monkeypatch
):
    from flinkctl import Config, Context, load_config

    monkeypatch.setenv("FLINKCTL_RETRY_BUDGET", "0")  # the context down: refused, not retried

    url = httpserver.url_for("").rstrip("/")
    down = f"http://127.0.0.1:{free_port()}"
    contexts = {"one": Context("one", url=url), "two": Context("two", url=url),
                "down": Context("down", url=down)}  # fmt: skip
    Config(load_config().path, contexts).save()
    flink.serve(httpserver, "jobs-overview", "checkpoints")
    r = cli("jobs", "list", "-A", url="")
    assert r.code == 5
    lines = [line.split("\t") for line in r.out.splitlines()]
    assert lines[0][:3] == ["CONTEXT", "ID", "NAME"]
    assert sorted(line[0] for line in lines[1:]) == ["one", "two"]
    assert r.err.startswith("error: context down: ")
    r = cli("jobs", "list", "-A", "-o", "json", url="")
    assert {j["context"] for j in r.json()["jobs"]} == {"one", "two"}
    r = cli("savepoint", "list", "-A", "-o", "json", url="")
    assert sorted(i["context"] for i in r.json()) == ["one", "two"]
    assert r.code == 5
    r = cli("savepoint", "check", "--all", "--max-age", "100000d", "-A", url="")
    assert r.code == 5 and "context down" in r.err
    r = cli("jobs", "list", "-A", url=url)
    assert r.code == 2 and "drop --url" in r.err


def test_list_settles_a_savepoint_left_in_progress_while_flink_remembers_it(
    cli, flink, httpserver, expect
):
    """A run without --wait left its row in progress: list asks Flink how it ended."""
    flink.serve(httpserver, "jobs-overview", "checkpoints")
    tid = flink.body("savepoint-trigger")["request-id"]
    recorded(httpserver, row(flink, None, now_ms(), trigger_id=tid))
    expect("savepoint-status-completed")
    r = cli("savepoint", "list", NAME, "-o", "json")
    location = flink.body("savepoint-status-completed")["operation"]["location"]
    assert {(i["path"], i["status"]) for i in r.json()} == {
        (location, "COMPLETED"),
        (newest(flink)["external_path"], "COMPLETED"),
    }
    cli("savepoint", "list", NAME)  # settled: not asked again (the stub answers once)


def test_several_jobs_an_unknown_one_does_not_stop_the_others(cli, flink, httpserver, tid, expect):
    flink.serve(httpserver, "jobs-overview")
    expect("savepoint-trigger")
    r = cli("savepoint", "trigger", NAME, "no-such-job", "-o", "json")
    assert r.code == 3
    items = {i["job-name"]: i for i in r.json()}
    mine = items[NAME]
    assert mine == {"logged-at": mine["logged-at"], "job-id": flink.ids["jobid"], "job-name": NAME,
                    "trigger-id": tid, "joined": False, "started-ms": mine["started-ms"],
                    "status": "IN_PROGRESS", "duration-ms": mine["duration-ms"]}  # fmt: skip
    assert (items["no-such-job"]["status"], items["no-such-job"]["error"]["code"]) == ("FAILED", 3)
    assert "job 'no-such-job' not found" in r.err


# -- the log alone tells the story (-o jsonl) ---------------------------------------------------


def utc_times(lines: list[dict]) -> list:
    """Each line's `logged-at`, parsed: UTC ISO 8601 (fails on anything else)."""
    from datetime import datetime, timedelta

    times = [datetime.fromisoformat(line["logged-at"].replace("Z", "+00:00")) for line in lines]
    assert all(t.utcoffset() == timedelta(0) and line["logged-at"].endswith("Z")
               for t, line in zip(times, lines, strict=True))  # fmt: skip
    return times


def jsonl(r) -> list[dict]:
    return [json.loads(line) for line in r.out.splitlines()]


def fleet_with_one_down(httpserver, monkeypatch) -> None:
    """Contexts `one` (the test server) and `down` (nothing listens) in the config file."""
    from flinkctl import Config, Context, load_config

    monkeypatch.setenv("FLINKCTL_RETRY_BUDGET", "0")  # the context down: refused, not retried
    url = httpserver.url_for("").rstrip("/")
    down = f"http://127.0.0.1:{free_port()}"
    contexts = {"one": Context("one", url=url), "down": Context("down", url=down)}
    Config(load_config().path, contexts, current_context="one").save()


def test_trigger_jsonl_has_a_line_for_the_context_down_each_with_utc_time(
    cli, flink, httpserver, tid, expect, monkeypatch
):
    from datetime import datetime, timezone

    fleet_with_one_down(httpserver, monkeypatch)
    flink.serve(httpserver, "jobs-overview", "savepoint-status-completed")
    expect("savepoint-trigger")
    before = datetime.now(timezone.utc)
    r = cli("savepoint", "trigger", "--all", "-A", "--wait", "-o", "jsonl", url="")
    assert r.code == 5
    lines = jsonl(r)
    assert all(before <= t <= datetime.now(timezone.utc) for t in utc_times(lines))
    by_context = {line["context"]: line for line in lines}
    assert by_context["one"]["status"] == "COMPLETED"
    down = by_context["down"]
    assert set(down) == {"logged-at", "context", "error"}
    assert (down["error"]["code"], down["error"]["kind"]) == (5, "unreachable")
    assert not down["error"]["message"].startswith("context down")  # the key says which
    assert json.loads(r.err)["error"]["message"].startswith("context down: ")  # cron mails it


def test_trigger_jsonl_has_a_line_for_this_runs_context_when_it_is_down(cli):
    url = f"http://127.0.0.1:{free_port()}"
    r = cli("savepoint", "trigger", "--all", "--wait", "-o", "jsonl", url=url)
    assert r.code == 5
    [line] = jsonl(r)
    assert (line["context"], line["error"]["code"], line["error"]["kind"]) == (
        "(url)",
        5,
        "unreachable",
    )
    assert json.loads(r.err)["error"]["code"] == 5
    utc_times([line])


def overview_with(flink, *changes: dict) -> dict:
    """The recorded overview with its job copied once per CHANGES (each a dict of fields)."""
    overview = flink.body("jobs-overview")
    job = overview["jobs"][0]
    overview["jobs"] = [job] + [
        {**job, "jid": f"{n:032x}", **change} for n, change in enumerate(changes, 1)
    ]
    return overview


def test_trigger_all_skips_jobs_not_running_cleanly_with_a_line_each_and_exit_1(
    cli, flink, httpserver, tid, expect
):
    """A RESTARTING job, and a RUNNING one with a task still deploying, are skipped: a line
    each (status SKIPPED, why) and exit 1, as a savepoint Flink refused; ended jobs are not
    candidates at all."""
    job = flink.body("jobs-overview")["jobs"][0]
    deploying = {**job["tasks"], "running": 1, "deploying": 1}
    overview = overview_with(
        flink,
        {"name": "restarting", "state": "RESTARTING"},
        {"name": "deploying", "tasks": deploying},
        {"name": "ended", "state": "FINISHED"},
    )
    expect("jobs-overview", body=overview, always=True)
    expect("savepoint-trigger")
    expect("savepoint-status-completed")
    r = cli("savepoint", "trigger", "--all", "--wait", "-o", "jsonl")
    assert r.code == 1
    lines = {line["job-name"]: line for line in jsonl(r)}
    assert set(lines) == {NAME, "restarting", "deploying"}
    assert lines[NAME]["status"] == "COMPLETED"
    assert (lines["restarting"]["status"], lines["restarting"]["reason"]) == (
        "SKIPPED", "the job is RESTARTING"
    )  # fmt: skip
    assert lines["deploying"]["reason"] == (
        "not running cleanly: 1 of 2 tasks not running (1 deploying)"
    )
    errors = [json.loads(line)["error"] for line in r.err.splitlines()]
    assert sorted(e["message"].split(": ", 1)[1] for e in errors) == [
        "skipped: not running cleanly: 1 of 2 tasks not running (1 deploying)",
        "skipped: the job is RESTARTING",
    ]
    r = cli("savepoint", "trigger", "--all", "--name", "restarting")  # table: the row, and why
    assert r.code == 1
    assert r.out.splitlines()[1].split("\t")[1:3] == ["restarting", "SKIPPED"]
    assert r.out.splitlines()[1].endswith("\tthe job is RESTARTING")
    assert "(restarting): skipped: the job is RESTARTING" in r.err
    assert "triggered" not in r.err  # nothing was


def test_a_glob_that_matches_nothing_is_a_note_and_exit_3_only_when_nothing_matched_anywhere(
    cli, flink, httpserver, tid, expect, monkeypatch
):
    from flinkctl import Config, Context, load_config

    url = httpserver.url_for("").rstrip("/")
    Config(load_config().path, {"one": Context("one", url=url), "two": Context("two", url=url)},
           current_context="one").save()  # fmt: skip
    overview = flink.body("jobs-overview")
    empty = {**overview, "jobs": []}
    expect("jobs-overview", body=overview)
    expect("jobs-overview", body=empty)
    expect("savepoint-trigger")
    r = cli("savepoint", "trigger", "--all", "--name", "flinkctl-*", "-A", "-o", "jsonl", url="")
    assert (r.code, r.err) == (0, "")
    lines = jsonl(r)
    notes = [line for line in lines if "note" in line]
    assert len(lines) == 2 and len(notes) == 1
    assert notes[0]["note"] == "no job whose name matches 'flinkctl-*' runs"
    expect("jobs-overview", body=overview, always=True)
    r = cli("savepoint", "trigger", "--all", "--name", "etl-*", "-A", "-o", "jsonl", url="")
    assert r.code == 3
    assert [line["context"] for line in jsonl(r)] == ["one", "two"]
    assert json.loads(r.err)["error"]["message"] == (
        "no job whose name matches 'etl-*' runs on any context"
    )
    r = cli("savepoint", "trigger", "--all", "--name", "etl-*", url="")  # a table: stderr says it
    assert (r.code, r.out.splitlines()[1:]) == (3, [])  # the header alone, piped
    assert r.err == "error: no job whose name matches 'etl-*' runs\n"


def test_check_jsonl_times_each_line_and_names_a_cluster_that_is_down(
    cli, flink, httpserver, monkeypatch
):
    fleet_with_one_down(httpserver, monkeypatch)
    flink.serve(httpserver, "jobs-overview", "checkpoints")
    r = cli("savepoint", "check", "--all", "--max-age", "100000d", "-A", "-o", "jsonl", url="")
    assert r.code == 5
    lines = jsonl(r)
    utc_times(lines)
    assert [(line["context"], line.get("fresh"), "error" in line) for line in lines] == [
        ("one", True, False), ("down", None, True)
    ]  # fmt: skip
    r = cli("savepoint", "check", "--all", "--max-age", "1h", "-o", "jsonl",
            url=f"http://127.0.0.1:{free_port()}")  # fmt: skip
    assert r.code == 5 and jsonl(r)[0]["error"]["code"] == 5


def test_check_all_with_no_job_anywhere_is_exit_3(cli, flink, httpserver, expect):
    expect("jobs-overview", body={"jobs": []}, always=True)
    r = cli("savepoint", "check", "--all", "--max-age", "1h", "-o", "jsonl")
    assert r.code == 3
    [line] = jsonl(r)
    assert line["note"] == "no job runs"


def test_prune_jsonl_times_each_line_a_cluster_down_is_a_line_and_nothing_at_all_exit_3(
    cli, flink, httpserver, expect
):
    flink.serve(httpserver, "jobs-overview", "checkpoints", "job-config")
    r = cli("savepoint", "prune", "--all", "--keep", "1", "--dry-run", "-o", "jsonl")
    assert r.code == 0, r.err
    [line] = jsonl(r)
    utc_times([line])
    assert (line["path"], line["action"]) == (newest(flink)["external_path"], "keep")
    r = cli("savepoint", "prune", "--all", "--keep", "1", "--yes", "-o", "jsonl",
            url=f"http://127.0.0.1:{free_port()}")  # fmt: skip
    assert r.code == 5
    [line] = jsonl(r)
    assert line["error"]["kind"] == "unreachable" and json.loads(r.err)["error"]["code"] == 5


def test_prune_all_with_no_savepoint_known_is_a_note_and_exit_3(cli, flink, httpserver, expect):
    expect("jobs-overview", body={"jobs": []}, always=True)
    r = cli("savepoint", "prune", "--all", "--keep", "3", "--yes", "-o", "jsonl")
    assert r.code == 3
    [line] = jsonl(r)
    assert line["note"] == "no job has a completed savepoint known here or on the cluster"


def test_one_job_trigger_json_has_its_log_time_and_when_it_was_triggered(
    cli, flink, httpserver, tid, expect
):
    flink.serve(httpserver, "jobs-overview")
    expect("savepoint-trigger")
    r = cli("savepoint", "trigger", flink.ids["jobid"], "-o", "jsonl")
    assert r.code == 0, r.err
    [line] = jsonl(r)
    utc_times([line])
    assert (line["trigger-id"], line["joined"]) == (tid, False)
    assert abs(line["started-ms"] - now_ms()) < 60_000
