"""`flinkctl jars`: list, upload, delete, plan, run, run-application."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flinkctl.client.base import parse_version

DEMO = Path(__file__).resolve().parents[1] / "flinkctl" / "local" / "demo" / "flinkctl-demo.jar"


def uploaded_id(flink) -> str:
    return Path(flink.body("jar-upload")["filename"]).name


def serve_jars(httpserver, flink) -> dict:
    """GET /jars: the recorded list plus the recorded upload (the id the run fixtures use)."""
    listing = flink.body("jars")
    entry = dict(
        listing["files"][0], id=uploaded_id(flink), uploaded=listing["files"][0]["uploaded"] + 1
    )
    body = {**listing, "files": [*listing["files"], entry]}
    flink.serve(httpserver, "jars", body=body)
    return body


def test_list(cli, flink, httpserver):
    flink.serve(httpserver, "jars")
    r = cli("jars", "list", "-o", "json")
    assert (r.code, r.json()) == (0, flink.body("jars"))
    r = cli("jars", "list")
    header, *rows = r.out.splitlines()
    assert header.split("\t") == ["ID", "NAME", "UPLOADED", "ENTRY CLASSES"]
    first = flink.body("jars")["files"][0]
    assert rows[0].split("\t")[0] == first["id"]
    assert rows[0].split("\t")[3] == "flinkctl.demo.DemoJob"
    r = cli("jars", "list", "-o", "name")
    assert r.out == "".join(f"{f['id']}\n" for f in flink.body("jars")["files"])


def test_upload_sends_multipart_jarfile(cli, flink, httpserver, expect):
    expect("jar-upload")
    r = cli("jars", "upload", str(DEMO))
    assert (r.code, r.out) == (0, f"{uploaded_id(flink)}\n")
    request = httpserver.log[0][0]
    assert list(request.files) == ["jarfile"]
    assert request.files["jarfile"].filename == DEMO.name
    assert request.files["jarfile"].read() == DEMO.read_bytes()
    expect("jar-upload")
    r = cli("jars", "upload", str(DEMO), "-o", "json")
    assert r.json() == flink.body("jar-upload")


def test_upload_progress_callback_sees_every_byte(flink, httpserver, expect):
    from flinkctl.client import FlinkClient
    from flinkctl.config import Context

    expect("jar-upload")
    seen = []
    client = FlinkClient(Context(name="t", url=httpserver.url_for("").rstrip("/")))
    client.upload_jar(DEMO, lambda sent, total: seen.append((sent, total)))
    assert seen[-1] == (DEMO.stat().st_size, DEMO.stat().st_size)


@pytest.mark.parametrize(
    "args,message",
    [
        (["jars", "upload", "missing.jar"], "error: jar file 'missing.jar' does not exist"),
        (["jars", "run", "./missing.jar"], "error: jar file './missing.jar' does not exist"),
        (["jars", "run", "{notjar}"], "is not a jar (no zip header)"),
        (["jars", "run", "{demo}", "-D", "novalue"], "error: -D 'novalue': expected key=value"),
        (["jars", "run", "{demo}", "-D", "=x"], "error: -D '=x': expected key=value"),
        (["jars", "run", "{demo}", "-p", "-2"], "-2 is not in the range x>=1"),
        (["jars", "run", "{demo}", "--claim-mode", "steal"], "'steal' is not one of"),
        (
            ["jars", "run", "{demo}", "-s", "savepoints/sp-1"],
            "malformed savepoint path 'savepoints/sp-1'",
        ),
        (["jars", "run", "{demo}", "--job-id", "xyz"], "--job-id 'xyz' is not a job id"),
        (["jars", "plan", "x", "-p", "0"], "0 is not in the range x>=1"),
    ],
)
def test_invalid_input_never_reaches_the_cluster(cli, httpserver, tmp_path, args, message):
    notjar = tmp_path / "notes.jar"
    notjar.write_text("not a zip")
    args = [a.format(demo=DEMO, notjar=notjar) for a in args]
    r = cli(*args)
    assert r.code == 2
    assert r.out == ""
    assert message in r.err.splitlines()[0]
    assert httpserver.log == []


def test_run_local_file_uploads_first_and_sends_programargslist(cli, flink, httpserver, expect):
    jar = uploaded_id(flink)
    expect("jar-upload")
    flink.serve(httpserver, "config")
    body = {
        "programArgsList": ["--input", "a b c"],
        "entryClass": "flinkctl.demo.DemoJob",
        "parallelism": 2,
        "flinkConfiguration": {"pipeline.name": "x=y"},
        "savepointPath": "file:/sp/savepoint-1",
        "allowNonRestoredState": True,
        "claimMode" if parse_version(flink.version) >= (1, 20) else "restoreMode": "NO_CLAIM",
    }
    expect("jar-run", json=body)
    expect("jar-delete")  # Flink has the job: the upload goes again
    args = ["--class", "flinkctl.demo.DemoJob", "--arg", "--input", "--arg", "a b c", "-p", "2"]
    args += [
        "-D",
        "pipeline.name=x=y",
        "-s",
        "file:/sp/savepoint-1",
        "-n",
        "--claim-mode",
        "no-claim",
    ]
    r = cli("jars", "run", str(DEMO), *args, "-o", "json")
    assert (r.code, r.err) == (0, "")
    assert r.json() == {
        "job-id": flink.body("jar-run")["jobid"],
        "jar-id": jar,
        "jar-deleted": True,
        "state": None,
    }


def test_run_local_file_keep_jar(cli, flink, httpserver, expect):
    expect("jar-upload")
    expect("jar-run")
    r = cli("jars", "run", str(DEMO), "--keep-jar", "-o", "json")
    assert (r.code, r.err) == (0, "")
    assert r.json()["jar-deleted"] is False  # and no DELETE came: it would find no stub


def test_run_local_file_deletes_its_upload_when_flink_refuses_the_job(
    cli, flink, httpserver, expect
):
    expect("jar-upload")
    expect("jar-run-bad-class")
    expect("jar-delete")
    r = cli("jars", "run", str(DEMO), "--class", "flinkctl.demo.NoSuchClass")
    assert (r.code, r.out) == (1, "")
    assert "entry point class 'flinkctl.demo.NoSuchClass' was not found" in r.err


def test_run_local_file_warns_when_its_upload_cannot_be_deleted(cli, flink, httpserver, expect):
    expect("jar-upload")
    expect("jar-run")
    expect("jar-delete", status=500, body={"errors": ["Internal server error."]})
    r = cli("jars", "run", str(DEMO))
    assert (r.code, r.out) == (0, f"{flink.body('jar-run')['jobid']}\n")  # the job runs
    assert r.err.startswith(f"warning: could not delete the uploaded jar {uploaded_id(flink)}: ")


def test_run_by_name_picks_the_newest_upload_and_says_so(cli, flink, httpserver, expect):
    from flinkctl.flink import local_time

    newest = serve_jars(httpserver, flink)["files"][-1]
    expect("jar-run", json={"programArgsList": []})
    r = cli("jars", "run", "flinkctl-demo.jar", "-o", "json")
    assert (r.code, r.json()["jar-deleted"]) == (0, False)  # not its own upload: kept
    assert r.err == (
        f"warning: 2 uploads of flinkctl-demo.jar: using the newest, {newest['id']} "
        f"(uploaded {local_time(newest['uploaded'])})\n"
    )


def test_plan_by_name_picks_the_newest_upload_and_says_so(cli, flink, httpserver):
    newest = serve_jars(httpserver, flink)["files"][-1]
    rec = flink.record("jar-plan")
    httpserver.expect_oneshot_request(
        f"/jars/{newest['id']}/plan", method="POST"
    ).respond_with_json(rec["body"], status=rec["status"])
    r = cli("jars", "plan", "flinkctl-demo.jar", "-o", "json")
    assert (r.code, r.json()) == (0, rec["body"])
    assert r.err.startswith("warning: 2 uploads of flinkctl-demo.jar: using the newest, ")


def test_delete_by_name_with_two_uploads_is_ambiguous(cli, flink, httpserver):
    from flinkctl.flink import local_time

    files = serve_jars(httpserver, flink)["files"]
    r = cli("jars", "delete", "flinkctl-demo.jar", "--yes")
    assert (r.code, r.out) == (2, "")
    error, hint = r.err.splitlines()
    assert error.startswith("error: jar 'flinkctl-demo.jar' is ambiguous: ")
    for f in files:  # upload times as times, not milliseconds
        assert f"{f['id']} (uploaded {local_time(f['uploaded'])})" in error
        assert str(f["uploaded"]) not in error
    assert hint == "hint: delete them all: flinkctl jars delete flinkctl-demo.jar --all"


def test_delete_all_uploads_of_a_name(cli, flink, httpserver, expect):
    files = serve_jars(httpserver, flink)["files"]
    expect("jar-delete")  # the upload the recorded DELETE names ...
    first = files[0]["id"]  # ... and the other one, answered as Flink answers a DELETE
    httpserver.expect_oneshot_request(f"/jars/{first}", method="DELETE").respond_with_json({})
    r = cli("jars", "delete", "flinkctl-demo.jar", "--all", "--yes")
    assert (r.code, r.out) == (0, "")
    assert r.err == "".join(f"jar {f['id']} deleted\n" for f in files)
    r = cli("jars", "delete", "nosuch.jar", "--all", "--yes")
    assert (r.code, r.err) == (3, "error: no jar named 'nosuch.jar'\n")


def test_delete_by_prefix(cli, flink, httpserver, expect):
    serve_jars(httpserver, flink)
    jar = uploaded_id(flink)
    expect("jar-delete")
    r = cli("jars", "delete", jar[:8], "--yes")
    assert (r.code, r.out, r.err) == (0, "", f"jar {jar} deleted\n")
    r = cli("jars", "delete", jar[:8])
    assert r.code == 2  # no --yes without a terminal


def test_a_failing_main_quoting_a_secret_argument_shows_it_masked(cli, flink, httpserver):
    """Break-it round 8: main() failing on `--arg --password --arg S` quoted S in Flink's
    message, printed as is (the recorded failure, its input string made the secret)."""
    serve_jars(httpserver, flink)
    jar = uploaded_id(flink)
    rec = flink.record("deploy-plan-failing-main")
    body = json.loads(json.dumps(rec["body"]).replace('\\"x\\"', '\\"S3cr3t\\"'))
    assert "S3cr3t" in json.dumps(body)
    for command in ("plan", "run"):
        httpserver.expect_request(f"/jars/{jar}/{command}", method="POST").respond_with_json(
            body, status=rec["status"]
        )
        r = cli("jars", command, jar, "--arg", "--password", "--arg", "S3cr3t", "-o", "json")
        assert r.code == 1 and "S3cr3t" not in r.err + r.out, r.err
        assert 'For input string: \\"******\\"' in r.err, r.err


def test_run_unknown_jar_is_exit_3(cli, flink, httpserver):
    flink.serve(httpserver, "jars")
    r = cli("jars", "run", "nosuch.jar")
    assert r.code == 3
    assert r.err == "error: jar 'nosuch.jar' not found\n"


def test_run_bad_entry_class_fails(cli, flink, httpserver, expect):
    serve_jars(httpserver, flink)
    expect("jar-run-bad-class")
    r = cli("jars", "run", uploaded_id(flink), "--class", "flinkctl.demo.NoSuchClass")
    assert r.code == 1  # Flink refused the request; a ClassNotFoundException is no 404
    assert r.out == ""
    assert "entry point class 'flinkctl.demo.NoSuchClass' was not found" in r.err


def test_a_failing_main_is_reported_by_its_deepest_cause(cli, flink, httpserver):
    """Not "Could not execute application." alone: the cause Flink buries under it."""
    serve_jars(httpserver, flink)
    jar = uploaded_id(flink)
    for name, command in (
        ("deploy-plan-failing-main", "plan"),
        ("deploy-run-duplicate-job-id", "run"),
    ):
        rec = flink.record(name)
        httpserver.expect_request(f"/jars/{jar}/{command}", method="POST").respond_with_json(
            rec["body"], status=rec["status"]
        )
    r = cli("jars", "plan", jar, "--arg", "x")
    assert r.code == 1
    assert r.err.splitlines()[0].endswith(
        'The main method caused an error: For input string: "x"; '
        'caused by: NumberFormatException: For input string: "x"'
    )
    r = cli("jars", "run", jar, "--job-id", "0" * 32, "-o", "json")
    message = json.loads(r.err)["error"]["message"]
    what = "Job" if parse_version(flink.version) < (2, 3) else "Application"  # 2.3: applications
    assert message == (
        f"Flink refused POST /jars/{jar}/run: Could not execute application.; "
        f"caused by: Duplicate{what}SubmissionException: {what} has already been submitted."
    )


def test_run_wait_running_fails_with_root_exception(cli, flink, httpserver, expect):
    serve_jars(httpserver, flink)
    failed = flink.body("job-failed")
    jid = failed["jid"]
    expect("jar-run")
    flink.serve(httpserver, "job-failed", "job-failed-exceptions")
    r = cli("jars", "run", uploaded_id(flink), "--arg", "-1", "--wait-running")
    assert (r.code, r.out) == (1, "")
    assert r.err == (
        f"error: job {jid} is FAILED: JobException: Recovery is suppressed by "
        "NoRestartBackoffTimeStrategy; caused by: IllegalArgumentException: "
        "timeout value is negative\n"
    )


def test_run_wait_running(cli, flink, httpserver, expect):
    serve_jars(httpserver, flink)
    expect("jar-run")
    jid = flink.body("jar-run")["jobid"]
    running = dict(flink.body("job"), jid=jid)
    starting = dict(running, state="CREATED")
    httpserver.expect_oneshot_request(f"/jobs/{jid}").respond_with_json(starting)
    httpserver.expect_oneshot_request(f"/jobs/{jid}").respond_with_json(running)
    r = cli("jars", "run", uploaded_id(flink), "--wait-running", "-o", "json")
    assert r.code == 0
    assert r.json() == {
        "job-id": jid,
        "jar-id": uploaded_id(flink),
        "jar-deleted": False,
        "state": "RUNNING",
    }


def test_plan(cli, flink, httpserver, expect):
    serve_jars(httpserver, flink)
    expect("jar-plan", json={"programArgsList": ["100"], "parallelism": 1})
    r = cli("jars", "plan", uploaded_id(flink)[:8], "--arg", "100", "-p", "1", "-o", "json")
    assert (r.code, r.json()) == (0, flink.body("jar-plan"))
    expect("jar-plan")
    r = cli("jars", "plan", uploaded_id(flink)[:8])
    assert r.code == 0
    assert "Count" in r.out


def test_plan_dot(cli, flink, httpserver, expect):
    serve_jars(httpserver, flink)
    expect("jar-plan")
    r = cli("jars", "plan", uploaded_id(flink)[:8], "-o", "dot")
    assert (r.code, r.err) == (0, "")
    plan = flink.body("jar-plan")["plan"]
    assert r.out.startswith(f'digraph "{plan["name"]}" {{\n')
    for node in plan["nodes"]:
        for edge in node.get("inputs") or []:
            assert f'  "{edge["id"]}" -> "{node["id"]}" [label="{edge["ship_strategy"]}"];' in r.out
    assert r.out.endswith("}\n")


@pytest.mark.parametrize(
    "command", [["jars", "plan", "x"], ["jobs", "plan", "x"], ["jobs", "list"]]
)
def test_dot_is_only_offered_by_plan_commands(cli, httpserver, command):
    r = cli(*command, "-o", "dotty")
    assert r.code == 2
    plan = command[1] == "plan"
    choices = "table, wide, json, jsonl, yaml, name" + (", dot" if plan else "")
    choices += ", custom-columns=NAME:EXPR,..."
    assert r.err == f"error: unknown output format 'dotty' (choose from {choices})\n"
    assert httpserver.log == []
    help_text = " ".join(cli(*command, "-h").out.replace("│", " ").split())  # unwrap Rich's box
    assert ("yaml, name, dot or" in help_text) == plan


@pytest.mark.flink(before="2.3")
def test_run_application_needs_2_3(cli, flink, httpserver):
    flink.serve(httpserver, "config")
    r = cli("jars", "run-application", str(DEMO))
    assert (r.code, r.out) == (1, "")
    assert r.err.startswith("error: running a jar as an application needs Flink 2.3 or newer")
    assert [req.path for req, _ in httpserver.log] == ["/config"]


@pytest.mark.flink(since="2.3")
def test_run_application(cli, flink, httpserver, expect):
    flink.serve(httpserver, "config")
    serve_jars(httpserver, flink)
    expect("jar-run-application")
    r = cli(
        "jars",
        "run-application",
        uploaded_id(flink),
        "--arg",
        "-1",
        "-D",
        "restart-strategy.type=none",
    )
    assert (r.code, r.out) == (0, flink.body("jar-run-application")["applicationid"] + "\n")
    sent = json.loads(httpserver.log[-1][0].data)
    assert sent == {
        "programArgsList": ["-1"],
        "flinkConfiguration": {"restart-strategy.type": "none"},
    }
