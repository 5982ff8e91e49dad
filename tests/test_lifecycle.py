"""Savepoints, stop, cancel, checkpoint trigger, rescale, submit, datasets and applications."""

from __future__ import annotations

import pytest


def expect_operation(expect, trigger: str, body: dict, status: str) -> None:
    """An asynchronous operation followed to its end: the request TRIGGER carrying BODY, then its
    status asked twice, the recorded answers STATUS-in-progress and STATUS-completed."""
    expect(trigger, json=body)
    expect(f"{status}-in-progress")
    expect(f"{status}-completed")


# -- savepoint trigger / status -----------------------------------------------------------------


def test_savepoint_trigger_prints_trigger_id(cli, flink, httpserver, tid, expect):
    flink.serve(httpserver, "jobs-overview")  # the job's name, for the catalog
    jid = flink.ids["jobid"]
    url = httpserver.url_for("").rstrip("/")
    expect(
        "savepoint-trigger",
        json={"triggerId": tid, "cancel-job": False},
        always=True,
    )
    r = cli("savepoint", "trigger", jid)
    assert (r.code, r.out) == (0, f"{tid}\n")
    assert (
        r.err == f"savepoint of job {jid} triggered; follow it with: flinkctl --url {url} "
        f"savepoint status {jid} {tid} --wait\n"
    )
    r = cli("savepoint", "trigger", jid, "-o", "json")
    out = r.json()
    assert out.pop("logged-at").endswith("Z") and out.pop("started-ms") > 0
    assert out == {"job-id": jid, "trigger-id": tid, "joined": False}
    assert r.err == ""


def test_savepoint_trigger_wait_json_object(cli, flink, httpserver, tid, expect):
    flink.serve(httpserver, "jobs-overview")  # the job's name, for the catalog
    jid = flink.ids["jobid"]
    body = {
        "triggerId": tid,
        "cancel-job": True,
        "target-directory": "file:///sp",
        "formatType": "NATIVE",
    }
    expect_operation(expect, "savepoint-trigger", body, "savepoint-status")
    expect("job-canceled")  # --cancel: the wait lasts until the job has ended
    r = cli(
        "savepoint",
        "trigger",
        jid,
        "--dir",
        "file:///sp",
        "--cancel",
        "--format",
        "native",
        "--wait",
        "-o",
        "json",
    )
    assert (r.code, r.err) == (0, "")
    out = r.json()
    location = flink.body("savepoint-status-completed")["operation"]["location"]
    assert out.pop("duration-ms") >= 0
    assert out.pop("logged-at").endswith("Z") and out.pop("started-ms") > 0
    assert out == {
        "job-id": jid,
        "trigger-id": tid,
        "joined": False,
        "status": "COMPLETED",
        "location": location,
        "job-state": "CANCELED",
    }


def test_savepoint_trigger_wait_table_prints_location(cli, flink, httpserver, tid, expect):
    flink.serve(httpserver, "jobs-overview")  # the job's name, for the catalog
    expect("savepoint-trigger")
    expect("savepoint-status-completed")
    r = cli("savepoint", "trigger", flink.ids["jobid"], "--wait")
    assert r.code == 0
    assert r.out == flink.body("savepoint-status-completed")["operation"]["location"] + "\n"
    assert r.err.startswith(f"savepoint of job {flink.ids['jobid']} completed in ")


def test_savepoint_trigger_resolves_job_by_name(cli, flink, httpserver, tid, expect):
    flink.serve(httpserver, "jobs-overview")
    expect("savepoint-trigger")
    r = cli("savepoint", "trigger", "flinkctl-demo", "-o", "json")
    assert r.code == 0
    assert {k: r.json()[k] for k in ("job-id", "trigger-id")} == {
        "job-id": flink.ids["jobid"], "trigger-id": tid
    }  # fmt: skip


def test_savepoint_status_once(cli, flink, httpserver, tid, expect):
    jid = flink.ids["jobid"]
    expect("savepoint-status-completed", always=True)
    r = cli("savepoint", "status", jid, tid, "-o", "json")
    assert (r.code, r.json()) == (0, flink.body("savepoint-status-completed"))
    r = cli("savepoint", "status", jid, tid)
    location = flink.body("savepoint-status-completed")["operation"]["location"]
    assert r.out.splitlines() == [
        "Status:     COMPLETED",
        f"Location:   {location}",
        "Checkpoint: -",
        "Failure:    -",
    ]


def test_savepoint_status_failed_is_exit_1(cli, flink, httpserver, expect):
    jid = flink.ids["jobid"]
    tid = flink.path("savepoint-status-failed").rsplit("/", 1)[-1]
    expect("savepoint-status-failed")
    r = cli("savepoint", "status", jid, tid)
    assert r.code == 1
    assert (
        "Failure:    CheckpointException: An Exception occurred while triggering the checkpoint. "
        "IO-problem detected.; caused by: IOException: Failed to create savepoint directory at "
        "file:/proc/flinkctl-no-such-dir" in r.out
    )


def test_savepoint_status_wait_resumes(cli, flink, httpserver, tid, expect):
    jid = flink.ids["jobid"]
    expect("savepoint-status-in-progress")
    expect("savepoint-status-completed")
    r = cli("savepoint", "status", jid, tid, "--wait", "-o", "json")
    assert r.code == 0
    assert r.json()["location"] == flink.body("savepoint-status-completed")["operation"]["location"]


# -- dispose ----------------------------------------------------------------------------------


def test_dispose_needs_yes_without_a_terminal(cli, flink, httpserver):
    r = cli("savepoint", "dispose", "file:/tmp/sp/savepoint-1")
    assert r.code == 2
    assert r.err.startswith("error: refusing to act without confirmation")
    assert httpserver.log == []


def test_dispose_wait(cli, flink, httpserver, expect):
    path = "file:/tmp/sp/savepoint-1"
    tid = flink.body("disposal-trigger")["request-id"]
    expect_operation(expect, "disposal-trigger", {"savepoint-path": path}, "disposal-status")
    r = cli("savepoint", "dispose", path, "--yes", "--wait", "-o", "json")
    assert (r.code, r.err) == (0, "")
    out = r.json()
    out.pop("duration-ms")
    assert out == {"savepoint-path": path, "trigger-id": tid, "status": "COMPLETED"}


def test_dispose_failure(cli, flink, httpserver, expect):
    expect("disposal-trigger")
    expect("disposal-status-completed", answer="disposal-status-failed")
    r = cli("savepoint", "dispose", "file:///tmp/flinkctl-no-such-savepoint", "--yes", "--wait")
    assert (r.code, r.out) == (1, "")
    assert r.err == (
        "error: savepoint disposal failed: FlinkException: Could not dispose savepoint "
        "file:///tmp/flinkctl-no-such-savepoint.; caused by: FileNotFoundException: Cannot find "
        "checkpoint or savepoint file/directory 'file:///tmp/flinkctl-no-such-savepoint' "
        "on file system 'file'.\n"
    )


def test_dispose_status_once(cli, flink, httpserver, expect):
    tid = flink.body("disposal-trigger")["request-id"]
    expect("disposal-status-completed")
    r = cli("savepoint", "dispose-status", tid, "-o", "json")
    assert (r.code, r.json()) == (0, flink.body("disposal-status-completed"))


@pytest.mark.parametrize(
    "args",
    [
        ["savepoint", "dispose", "relative/path", "--yes"],
        ["savepoint", "dispose", "file://", "--yes"],
        ["savepoint", "trigger", "0123456789abcdef0123456789abcdef", "--dir", "sp"],
        ["savepoint", "trigger", "0123456789abcdef0123456789abcdef", "--format", "binary"],
        ["savepoint", "status", "0123456789abcdef0123456789abcdef", "not-a-trigger"],
        ["jobs", "stop", "0123456789abcdef0123456789abcdef", "--savepoint-dir", "x\ny", "--yes"],
        ["savepoint", "trigger", "0123456789abcdef0123456789abcdef", "--wait", "--timeout", "-1"],
        # an empty JOB, VERTEX, JAR... (a break-it round: `jobs jobmanager-config ''` asked Flink)
        ["jobs", "jobmanager-config", ""],
        ["jobs", "cancel", " ", "--yes"],
        ["savepoint", "trigger", "a", ""],
        ["vertices", "show", "0123456789abcdef0123456789abcdef", ""],
        ["jars", "delete", "", "--yes"],
        ["doctor", ""],
    ],
)
def test_bad_input_never_reaches_the_cluster(cli, httpserver, args):
    r = cli(*args)
    assert r.code == 2
    assert r.out == ""
    assert r.err.startswith("error: ")
    assert httpserver.log == []


# -- stop / cancel ------------------------------------------------------------------------------


def test_stop_wait_prints_the_savepoint_path(cli, flink, httpserver, trigger_id, expect):
    flink.serve(httpserver, "jobs-overview")  # the job's name, for the catalog
    jid = flink.ids["jobid"]
    tid = trigger_id("stop-trigger")
    body = {
        "triggerId": tid,
        "drain": True,
        "targetDirectory": "file:///sp",
        "formatType": "CANONICAL",
    }
    expect_operation(expect, "stop-trigger", body, "stop-status")
    expect("job")  # still RUNNING right after the savepoint ...
    expect("job-stopped")  # ... FINISHED a moment later: --wait waits for it
    args = (
        "jobs",
        "stop",
        jid,
        "--drain",
        "--savepoint-dir",
        "file:///sp",
        "--format",
        "canonical",
    )
    r = cli(*args, "--wait", "--yes")
    assert r.code == 0
    assert r.out == flink.body("stop-status-completed")["operation"]["location"] + "\n"
    assert r.err.startswith(f"stop-with-savepoint of job {jid} completed in ")


def test_stop_without_wait_prints_trigger_id(cli, flink, httpserver, trigger_id, expect):
    flink.serve(httpserver, "jobs-overview")  # the job's name, for the catalog
    tid = trigger_id("stop-trigger")
    expect("stop-trigger", json={"triggerId": tid, "drain": False})
    r = cli("jobs", "stop", flink.ids["jobid"], "--yes", "-o", "json")
    assert (r.code, r.json()) == (0, {"job-id": flink.ids["jobid"], "trigger-id": tid})


def test_stop_and_cancel_need_yes(cli, flink, httpserver):
    for verb in ("stop", "cancel"):
        r = cli("jobs", verb, flink.ids["jobid"])
        assert r.code == 2
        assert "pass --yes" in r.err
    assert httpserver.log == []


def test_cancel_wait(cli, flink, httpserver, expect):
    jid = flink.ids["jobid"]
    expect("job-cancel", query={"mode": "cancel"})
    expect("job")
    expect("job-canceled")
    r = cli("jobs", "cancel", jid, "--yes", "--wait")
    assert (r.code, r.out) == (0, "")
    assert r.err == f"job {jid} is CANCELED\n"


def test_flinkctl_yes_confirms_like_yes(cli, flink, expect, monkeypatch):
    jid = flink.ids["jobid"]
    expect("job-cancel", query={"mode": "cancel"})
    monkeypatch.setenv("FLINKCTL_YES", "1")
    assert cli("jobs", "cancel", jid).code == 0


def test_declining_a_confirmation_says_aborted_and_exits_1(cli, flink, httpserver, monkeypatch):
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    r = cli("jobs", "cancel", flink.ids["jobid"])
    assert (r.code, r.out) == (1, "")
    assert r.err.endswith("? Its state is not saved. [y/N]: aborted\n")
    assert httpserver.log == []


def test_cancel_unknown_job_is_exit_3(cli, flink, expect):
    expect("job-not-found", method="PATCH", query={"mode": "cancel"})
    r = cli("jobs", "cancel", flink.path("job-not-found").rsplit("/", 1)[-1], "--yes")
    assert r.code == 3


# -- checkpoints trigger ------------------------------------------------------------------------


def test_checkpoint_trigger_wait(cli, flink, httpserver, trigger_id, expect):
    jid = flink.ids["jobid"]
    tid = trigger_id("checkpoint-trigger")
    flink.serve(httpserver, "config")
    body = {"triggerId": tid, "checkpointType": "FULL"}
    expect_operation(expect, "checkpoint-trigger", body, "checkpoint-trigger-status")
    r = cli("checkpoints", "trigger", jid, "--type", "full", "--wait", "-o", "json")
    assert (r.code, r.err) == (0, "")
    out = r.json()
    out.pop("duration-ms")
    cid = flink.body("checkpoint-trigger-status-completed")["operation"]["checkpointId"]
    assert out == {"job-id": jid, "trigger-id": tid, "status": "COMPLETED", "checkpoint-id": cid}


def test_checkpoint_trigger_incremental_refused(cli, flink, httpserver, expect):
    flink.serve(httpserver, "config")
    expect("checkpoint-trigger-incremental")
    r = cli("checkpoints", "trigger", flink.ids["jobid"], "--type", "incremental")
    assert (r.code, r.out) == (1, "")
    assert "does not support triggering incremental checkpoint" in r.err


def test_checkpoint_trigger_status_once(cli, flink, httpserver, expect):
    jid = flink.ids["jobid"]
    tid = flink.body("checkpoint-trigger")["request-id"]
    expect("checkpoint-trigger-status-completed")
    r = cli("checkpoints", "trigger-status", jid, tid)
    cid = flink.body("checkpoint-trigger-status-completed")["operation"]["checkpointId"]
    assert r.code == 0
    assert f"Checkpoint: {cid}" in r.out


def test_checkpoint_trigger_unknown_trigger_is_exit_3(cli, flink, httpserver, expect):
    expect("checkpoint-trigger-status-unknown")
    r = cli("checkpoints", "trigger-status", flink.ids["jobid"], "0" * 32)
    assert r.code == 3


# -- rescale ----------------------------------------------------------------------------------


def test_rescale_on_default_scheduler_explains(cli, flink, httpserver, expect):
    jid = flink.ids["jobid"]
    flink.serve(httpserver, "config", "job")
    expect("job-resource-requirements")
    r = cli("jobs", "rescale", jid, "-p", "2")
    assert (r.code, r.out) == (1, "")
    err = r.err.splitlines()
    assert (
        err[0] == f"error: job {jid} does not run on the adaptive scheduler, "
        "which rescaling without a restart needs"
    )
    assert err[1].startswith("hint: set 'jobmanager.scheduler: adaptive'")


def test_rescale_puts_new_upper_bounds_and_waits(cli, flink, httpserver, expect):
    jid = flink.ids["jobid"]
    flink.serve(httpserver, "config")
    wanted = flink.body("job-resource-requirements-rescaled")

    def expect_rescale():
        expect("job")
        expect("job-resource-requirements-adaptive")
        expect("job-resource-requirements-put", json=wanted)

    expect_rescale()
    expect("job")
    expect("job-rescaled")
    r = cli("jobs", "rescale", jid, "-p", "2", "--wait", "--timeout", "10", "-o", "json")
    assert (r.code, r.json()) == (0, wanted)
    expect_rescale()
    r = cli("jobs", "rescale", jid, "-p", "2")
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0].split("\t") == ["VERTEX", "NAME", "FROM", "TO"]
    assert lines[1].split("\t")[2:] == ["1", "2"]


def test_rescale_one_vertex_by_name(cli, flink, httpserver, expect):
    jid = flink.ids["jobid"]
    flink.serve(httpserver, "config", "job")
    expect("job-resource-requirements-adaptive")
    sink = flink.ids["vertexid"]
    wanted = dict(flink.body("job-resource-requirements-adaptive"))
    wanted[sink] = {"parallelism": {"lowerBound": 1, "upperBound": 2}}
    expect("job-resource-requirements-put", json=wanted)
    name = next(v["name"] for v in flink.body("job")["vertices"] if v["id"] == sink)
    r = cli("jobs", "rescale", jid, "--vertex", f"{name}=2")
    assert r.code == 0


@pytest.mark.parametrize(
    "args", [[], ["--vertex", "x"], ["--vertex", "x=0"], ["-p", "-1"], ["-p", "0"]]
)
def test_rescale_bad_input(cli, httpserver, args):
    r = cli("jobs", "rescale", "0123456789abcdef0123456789abcdef", *args)
    assert r.code == 2
    assert httpserver.log == []


def test_rescale_needs_flink_1_18(cli, httpserver, monkeypatch):
    """1.17 has no resource-requirements endpoint (and its PATCH /rescaling is disabled): refuse
    before any request about the job."""
    monkeypatch.setattr(
        "flinkctl.client.base.Base.dashboard_config", lambda self: {"flink-version": "1.17.2"}
    )
    r = cli("jobs", "rescale", "0123456789abcdef0123456789abcdef", "-p", "2")
    assert r.code == 1
    assert "jobs rescale needs Flink 1.18 or newer (this cluster runs 1.17.2)" in r.err
    assert httpserver.log == []


# -- submit -----------------------------------------------------------------------------------


def test_submit_job_graph(cli, flink, httpserver, tmp_path, expect):
    graph, udf = tmp_path / "job.graph", tmp_path / "udf.jar"
    graph.write_bytes(b"\xac\xed\x00\x05")
    udf.write_bytes(b"PK\x03\x04")
    expect("job-submit")
    r = cli("jobs", "submit", "--job-graph", str(graph), "--jar", str(udf), "-o", "json")
    assert r.code == 0
    job = flink.body("job-submit")["jobUrl"].rsplit("/", 1)[-1]
    assert r.json() == {"job-id": job}
    request = httpserver.log[0][0]
    import json

    assert json.loads(request.form["request"]) == {
        "jobGraphFileName": "job.graph",
        "jobJarFileNames": ["udf.jar"],
        "jobArtifactFileNames": [],
    }
    assert sorted(f.filename for f in request.files.values()) == ["job.graph", "udf.jar"]


def test_submit_missing_file(cli, httpserver, tmp_path):
    r = cli("jobs", "submit", "--job-graph", str(tmp_path / "nope.graph"))
    assert r.code == 2
    assert httpserver.log == []


# -- datasets ---------------------------------------------------------------------------------


def test_datasets_list(cli, flink, httpserver):
    flink.serve(httpserver, "datasets")
    r = cli("datasets", "list", "-o", "json")
    assert (r.code, r.json()) == (0, flink.body("datasets"))
    r = cli("datasets", "list")
    assert r.out.splitlines()[0].split("\t") == ["ID", "COMPLETE"]


def test_datasets_delete_wait(cli, flink, httpserver, expect):
    rec = flink.record("dataset-delete-trigger")
    dataset = rec["path"].rsplit("/", 1)[-1]
    expect("dataset-delete-trigger")
    expect("dataset-delete-status-completed")
    r = cli("datasets", "delete", dataset, "--yes", "--wait", "-o", "json")
    assert r.code == 0
    out = r.json()
    out.pop("duration-ms")
    assert out == {
        "dataset-id": dataset,
        "trigger-id": rec["body"]["request-id"],
        "status": "COMPLETED",
    }


def test_datasets_delete_bad_id(cli, httpserver):
    r = cli("datasets", "delete", "xyz", "--yes")
    assert r.code == 2
    assert httpserver.log == []


# -- applications -----------------------------------------------------------------------------


@pytest.mark.flink(before="2.3")
@pytest.mark.parametrize(
    "args",
    [["list"], ["show", "x"], ["exceptions", "x"], ["config", "x"], ["cancel", "x", "-y"]],
    ids=" ".join,
)
def test_applications_need_2_3(cli, flink, httpserver, args):
    flink.serve(httpserver, "config")
    r = cli("applications", *args)
    assert (r.code, r.out) == (1, "")
    assert r.err.startswith("error: applications needs Flink 2.3 or newer")


@pytest.mark.flink(since="2.3")
def test_applications_show_the_rest_bodies(cli, flink, httpserver, expect):
    flink.serve(httpserver, "config")
    flink.serve(httpserver, "applications-overview", "application", "application-exceptions")
    flink.serve(httpserver, "application-config")
    app_id = flink.body("application")["id"]
    r = cli("applications", "list", "-o", "json")
    assert (r.code, r.json()) == (0, flink.body("applications-overview"))
    r = cli("applications", "list", "-o", "name")
    assert r.out == f"{app_id}\n"
    r = cli("applications", "show", app_id[:6], "-o", "json")
    assert r.json() == flink.body("application")
    r = cli("applications", "show", flink.body("application")["name"])
    assert r.code == 0
    assert f"ID:       {app_id}" in r.out
    r = cli("applications", "exceptions", app_id, "-o", "json")
    assert r.json() == flink.body("application-exceptions")
    r = cli("applications", "config", app_id, "-o", "json")
    assert r.json() == flink.body("application-config")
    expect("application-cancel")
    r = cli("applications", "cancel", app_id, "--yes")
    assert (r.code, r.out) == (0, "")
    assert r.err == f"application {app_id} is being cancelled\n"
