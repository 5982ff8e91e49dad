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
    assert lines[0].split("\t") == ["NAME", "TAKEN", "AGE", "KIND", "SIZE", "STATUS", "PATH"]
    assert lines[1].split("\t")[-2:] == ["COMPLETED", item["path"]]


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


def test_a_trigger_joins_the_savepoint_in_progress(cli, flink, httpserver, expect, monkeypatch):
    """Another run's trigger is in progress (the catalog says): this one repeats its trigger id
    and reports the same savepoint."""
    flink.serve(httpserver, "jobs-overview")
    theirs = flink.body("savepoint-trigger")["request-id"]
    monkeypatch.setattr("flinkctl.client.poller.new_trigger_id", lambda: "c" * 32)
    recorded(httpserver, row(flink, None, now_ms(), trigger_id=theirs, by="cron@elsewhere"))
    expect("savepoint-trigger", json={"triggerId": theirs, "cancel-job": False})
    expect("savepoint-status-completed")
    r = cli("savepoint", "trigger", flink.ids["jobid"], "--wait")
    assert r.code == 0, r.err
    assert r.out == flink.body("savepoint-status-completed")["operation"]["location"] + "\n"
    assert "triggered by cron@elsewhere at " in r.err and f"(trigger id {theirs})" in r.err
    with Catalog() as catalog:
        assert [(s.trigger_id, s.status) for s in catalog.savepoints()] == [(theirs, "COMPLETED")]


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
    assert (r.code, r.json()) == (0, [])


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
    assert items[NAME] == {"job-id": flink.ids["jobid"], "job-name": NAME, "trigger-id": tid,
                           "joined": False, "status": "IN_PROGRESS", "duration-ms": items[NAME]["duration-ms"]}  # fmt: skip
    assert (items["no-such-job"]["status"], items["no-such-job"]["error"]["code"]) == ("FAILED", 3)
    assert "job 'no-such-job' not found" in r.err
