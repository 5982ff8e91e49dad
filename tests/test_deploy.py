"""deploy, rollback and jobs history over recorded responses: revision records, the health gate's
verdicts, idempotence, and what deploy refuses before it touches the running job.

The deploy-* fixtures come from `scripts/record-fixtures --scenario deploy` (jobs of the demo
jar: one deployed with a record, one failing every few seconds, one without checkpointing, one
whose program sets its own global job parameters).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flinkctl.workflows import health
from flinkctl.workflows.revisions import (
    GLOBAL_PARAMETERS,
    RECORD_KEY,
    Previous,
    Record,
    Spec,
    record_in,
    with_record,
)

DEMO = Path(__file__).resolve().parents[1] / "flinkctl" / "local" / "demo" / "flinkctl-demo.jar"


def deployed_record(flink) -> Record:
    record = record_in(flink.body("deploy-config-deployed"))
    assert isinstance(record, Record)
    return record


def job_id(flink, name: str) -> str:
    return flink.body(f"deploy-job-{name}")["jid"]


def observation(flink, name: str) -> health.Observation:
    return health.observe(
        flink.body(f"deploy-job-{name}"),
        flink.body(f"deploy-exceptions-{name}"),
        flink.body(f"deploy-checkpoints-{name}"),
    )


# -- revision records ---------------------------------------------------------------------------


def spec(**changes) -> Spec:
    base = dict(jar_id="a_job.jar", jar_name="job.jar", sha256="ab" * 32, uploaded=True,
                entry_class="com.x.Main", args=("--in", "s3://b/x,y:z"), parallelism=2,
                conf=(("k", "v"),))  # fmt: skip
    return Spec(**{**base, **changes})


def test_a_record_survives_the_global_job_parameters_syntax():
    previous = Previous(3, spec(args=("old",)), "f" * 32)
    record = Record("etl", 4, 7, spec(), restored_from="s3://sp/1", previous_job_id="f" * 32,
                    previous=previous, time_ms=1, by="ci@runner")  # fmt: skip
    value = record.encode()
    assert not set(value) & set(":,'\"=% ")
    assert Record.decode(value) == record


def test_the_record_joins_global_job_parameters_given_with_d():
    record = Record("etl", 1, 1, spec(), time_ms=1, by="me@here")
    conf = with_record({"a": "b"}, record)
    assert conf == {"a": "b", GLOBAL_PARAMETERS: f"{RECORD_KEY}:{record.encode()}"}
    given = with_record({GLOBAL_PARAMETERS: "env:prod"}, record)
    assert given[GLOBAL_PARAMETERS] == f"env:prod,{RECORD_KEY}:{record.encode()}"


@pytest.mark.parametrize("value", ["", "not base64!", "e30", "eyJ2IjogOX0"])  # {} / {"v": 9}
def test_a_value_that_is_not_a_record_is_refused(value):
    with pytest.raises(ValueError):
        Record.decode(value)


def test_the_recorded_job_config_carries_the_record(flink):
    record = deployed_record(flink)
    assert (record.name, record.revision, record.generation) == ("deployed", 1, 1)
    assert record.spec.args == ("20", "--name", "deployed")
    assert record.spec.jar_id == flink.body("deploy-jars")["files"][0]["id"]
    assert record.by == "recorder@flinkctl"


def test_a_program_with_its_own_global_job_parameters_replaces_the_record(flink):
    user = flink.body("deploy-config-program-parameters")["execution-config"]["user-config"]
    assert user == {"demo.source": "program"}
    assert record_in(flink.body("deploy-config-program-parameters")) is None
    assert record_in(flink.body("job-config")) is None  # the demo job: no record at all


@pytest.mark.parametrize(
    "other, same",
    [
        (spec(), True),
        (spec(jar_id="b_job.jar", jar_name="renamed.jar"), True),  # same content, new upload
        (spec(sha256="cd" * 32), False),  # a jar of the same name with other content
        (spec(sha256=None, jar_id="a_job.jar"), True),  # the uploaded jar, given by id
        (spec(sha256=None, jar_id="c_job.jar"), False),
        (spec(args=("--in", "s3://b/other")), False),
        (spec(parallelism=3), False),
        (spec(conf=(("k", "w"),)), False),
        (spec(entry_class="com.x.Other"), False),
        (spec(allow_non_restored_state=True), True),  # how it restores, not what runs
    ],
)
def test_idempotence_compares_jar_content_class_args_parallelism_and_conf(other, same):
    assert spec().same_program(other) is same
    assert other.same_program(spec()) is same


# -- the health gate ----------------------------------------------------------------------------


def test_a_healthy_job_passes_after_healthy_for(flink):
    seen = observation(flink, "deployed")
    assert seen.tasks_running and seen.restarts == 0 and seen.checkpoints >= 1
    config = flink.body("deploy-checkpoints-config-deployed")
    judge = health.Judge(health.Gate(healthy_for=10), health.checkpointing_enabled(config), 0.0)
    assert judge.note() is None
    assert judge.judge(seen, 1.0).status is health.Health.WAITING
    assert judge.judge(seen, 10.5).status is health.Health.WAITING
    verdict = judge.judge(seen, 11.0)
    assert verdict.status is health.Health.HEALTHY, verdict.reason
    assert verdict.reason.startswith("RUNNING 10/10s, 0 restarts")


def test_a_restart_between_two_polls_counts(flink):
    """The restarting job runs again when recorded: only its exception history tells."""
    seen = observation(flink, "restarting")
    assert seen.state == "RUNNING" and seen.tasks_running
    assert seen.restarts >= 1
    verdict = health.Judge(health.Gate(), True, 0.0).judge(seen, 1.0)
    assert verdict.status is health.Health.UNHEALTHY
    assert f"{seen.restarts} restart" in verdict.reason and "(--max-restarts 0)" in verdict.reason
    assert "IllegalStateException: demo failure 4 s after the start" in verdict.reason


def test_restarts_within_max_restarts_are_tolerated(flink):
    seen = observation(flink, "restarting")
    judge = health.Judge(health.Gate(healthy_for=5, max_restarts=seen.restarts), True, 0.0)
    assert judge.judge(seen, 0.0).status is health.Health.WAITING
    assert judge.judge(seen, 5.0).status is health.Health.HEALTHY


def test_without_checkpointing_the_checkpoint_check_is_skipped_with_a_note(flink):
    config = flink.body("deploy-checkpoints-config-no-checkpoints")
    assert config["interval"] == health.NO_CHECKPOINTS
    assert not health.checkpointing_enabled(config)
    seen = observation(flink, "no-checkpoints")
    assert seen.checkpoints == 0
    judge = health.Judge(health.Gate(healthy_for=5, min_checkpoints=3), False, 0.0)
    assert judge.note() == "checkpointing is disabled: no checkpoints required"
    assert judge.judge(seen, 0.0).status is health.Health.WAITING
    verdict = judge.judge(seen, 5.0)
    assert verdict.status is health.Health.HEALTHY and "checkpoints" not in verdict.reason


def test_missing_checkpoints_keep_the_gate_waiting_until_its_timeout(flink):
    seen = observation(flink, "no-checkpoints")
    judge = health.Judge(health.Gate(healthy_for=5, timeout=60), True, 0.0)
    assert judge.judge(seen, 0.0).status is health.Health.WAITING
    assert judge.judge(seen, 30.0).reason.endswith("0 checkpoints (1 needed)")
    verdict = judge.judge(seen, 60.0)
    assert verdict.status is health.Health.UNHEALTHY
    assert verdict.reason == (
        "not healthy after 60s: RUNNING 5/5s, 0 restarts, 0 checkpoints (1 needed)"
    )


def test_a_failed_job_is_unhealthy_at_once_with_its_cause(flink):
    seen = health.observe(flink.body("job-failed"), flink.body("job-failed-exceptions"), {})
    verdict = health.Judge(health.Gate(), True, 0.0).judge(seen, 0.0)
    assert verdict.status is health.Health.UNHEALTHY
    assert verdict.reason.startswith("the job is FAILED")


def test_tasks_that_never_all_run_time_out(flink):
    job = flink.body("deploy-job-deployed")
    starting = {**job, "vertices": [{**v, "status": "DEPLOYING"} for v in job["vertices"]]}
    seen = health.observe(starting, {}, {})
    judge = health.Judge(health.Gate(healthy_for=5, timeout=20), True, 0.0)
    assert judge.judge(seen, 10.0).reason == "RUNNING, waiting for every task to run"
    verdict = judge.judge(seen, 20.0)
    assert (verdict.status, verdict.reason) == (
        health.Health.UNHEALTHY,
        "not healthy after 20s: tasks not all RUNNING (job RUNNING)",
    )


def test_watch_polls_until_the_gate_decides(flink, httpserver):
    from flinkctl.client import FlinkClient
    from flinkctl.client.poller import Poller
    from flinkctl.config import Context

    for name in ("job", "exceptions", "checkpoints", "checkpoints-config"):
        flink.serve(httpserver, f"deploy-{name}-restarting")
    seen: list[health.Health] = []
    with FlinkClient(Context("t", url=httpserver.url_for("").rstrip("/"))) as client:
        verdict, note = health.watch(
            client,
            job_id(flink, "restarting"),
            health.Gate(),
            Poller(0, sleep=lambda s: None),
            on_verdict=lambda v: seen.append(v.status),
        )
    assert verdict.status is health.Health.UNHEALTHY and note is None
    assert seen == [health.Health.UNHEALTHY]


def test_a_job_failed_before_it_ran_is_judged_by_its_execution_result(flink, httpserver):
    """The adaptive scheduler fails a job whose state it cannot map with an empty exception
    history (seen on 2.3.0): the cause is in the execution result."""
    from flinkctl.client import FlinkClient
    from flinkctl.client.poller import Poller
    from flinkctl.config import Context

    jid = flink.body("job-failed")["jid"]
    httpserver.expect_request(f"/jobs/{jid}").respond_with_json(flink.body("job-failed"))
    empty = {"exceptionHistory": {"entries": [], "truncated": False}}
    httpserver.expect_request(f"/jobs/{jid}/exceptions").respond_with_json(empty)
    httpserver.expect_request(f"/jobs/{jid}/execution-result").respond_with_json(
        flink.body("job-execution-result-failed")
    )
    httpserver.expect_request(f"/jobs/{jid}/checkpoints").respond_with_json(
        flink.body("deploy-checkpoints-no-checkpoints")  # none: it never ran
    )
    with FlinkClient(Context("t", url=httpserver.url_for("").rstrip("/"))) as client:
        verdict, _ = health.watch(client, jid, health.Gate(), Poller(0, sleep=lambda s: None))
    assert verdict.status is health.Health.UNHEALTHY
    assert verdict.reason.startswith(
        "the job is FAILED: JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy"
    )


# -- the commands over recorded responses -------------------------------------------------------


def serve_overview(httpserver, flink, jobs=None) -> None:
    body = flink.body("deploy-jobs-overview")
    if jobs is not None:
        body = {**body, "jobs": jobs}
    httpserver.expect_request("/jobs/overview").respond_with_json(body)


def posted(httpserver) -> list[str]:
    return [f"{r.method} {r.path}" for r, _ in httpserver.log if r.method != "GET"]


def test_deploy_refuses_a_failing_main_and_deletes_its_upload(cli, flink, httpserver, tmp_path):
    serve_overview(httpserver, flink)
    upload = flink.record("jar-upload")
    jar = Path(upload["body"]["filename"]).name
    httpserver.expect_request("/jars/upload", method="POST").respond_with_json(upload["body"])
    failing = flink.record("deploy-plan-failing-main")
    httpserver.expect_request(f"/jars/{jar}/plan", method="POST").respond_with_json(
        failing["body"], status=failing["status"]
    )
    httpserver.expect_oneshot_request(f"/jars/{jar}", method="DELETE").respond_with_json({})
    r = cli("deploy", "orders", "--jar", str(DEMO), "--arg", "x", "--catalog",
            str(tmp_path / "c.db"), "-o", "json")  # fmt: skip
    assert r.code == 2, r.err
    report = r.json()
    assert report["result"] == "refused"
    assert 'NumberFormatException: For input string: "x"' in report["cause"]
    assert report["hint"] == "the running job was not touched"
    assert [s["step"] for s in report["steps"]] == [
        "resolve",
        "compare",
        "upload",
        "plan",
        "cleanup",
    ]
    assert posted(httpserver) == [
        "POST /jars/upload",
        f"POST /jars/{jar}/plan",
        f"DELETE /jars/{jar}",
    ]
    assert r.err == ""  # -o json: the report is the only output


@pytest.mark.parametrize("state", ["INITIALIZING", "RUNNING"])
def test_a_first_deploy_finding_the_job_another_just_started_is_superseded(
    cli, flink, httpserver, tmp_path, state
):
    """Another runner's first deploy of the name started its job an instant ago: Flink lists it
    (INITIALIZING, or RUNNING a moment later) with an empty user-config until it has
    initialized, so no record shows. Its id is the name's generation 1: superseded by it, no
    request that changes anything (it was refused with a hint to take the job over)."""
    import time

    from flinkctl.workflows.revisions import job_id_for

    jid = job_id_for("orders", 1)
    listed = flink.body("deploy-jobs-overview")["jobs"][0]
    now = int(time.time() * 1000)
    serve_overview(httpserver, flink, [{**listed, "jid": jid, "name": "orders", "state": state,
                                        "start-time": now - 1500}])  # fmt: skip
    config = flink.body("deploy-config-deployed")
    config.update(jid=jid, name="orders")
    config["execution-config"]["user-config"] = {}  # as Flink answers while it initializes
    httpserver.expect_request(f"/jobs/{jid}/config").respond_with_json(config)
    r = cli("deploy", "orders", "--jar", str(DEMO), "--catalog", str(tmp_path / "c.db"),
            "-o", "json")  # fmt: skip
    report = r.json()
    assert (r.code, report["result"], report["job-id"]) == (9, "superseded", jid), r.err
    assert f"has just started job {jid} ({state};" in report["cause"]
    assert posted(httpserver) == []


def test_a_deploy_racing_another_for_the_same_start_is_refused(cli, flink, httpserver, tmp_path):
    """Both computed generation 1 of the name, so the same job id: Flink refuses the second."""
    from flinkctl.workflows.revisions import job_id_for

    jar = flink.serve_refused_start(httpserver)
    r = cli("deploy", "flinkctl-demo", "--jar", str(DEMO), "--catalog", str(tmp_path / "c.db"),
            "-o", "json")  # fmt: skip
    assert r.code == 2, r.err
    report = r.json()
    assert report["result"] == "refused"
    assert report["cause"] == (
        f"job id {job_id_for('flinkctl-demo', 1)} is taken: another deploy or rollback of "
        "'flinkctl-demo' started generation 1 at the same moment"
    )
    run = next(req for req, _ in httpserver.log if req.path.endswith("/run"))
    assert run.json["jobId"] == job_id_for("flinkctl-demo", 1)
    assert posted(httpserver)[-1] == f"DELETE /jars/{jar}"


def test_the_same_deploy_again_is_unchanged_and_touches_nothing(cli, flink, httpserver, tmp_path):
    """A revision whose health gate passed here (the catalog says healthy) is left alone."""
    from flinkctl.catalog import Catalog, Entry

    record = deployed_record(flink)
    jid = job_id(flink, "deployed")
    with Catalog(tmp_path / "c.db") as catalog:
        catalog.add(Entry(httpserver.url_for("").rstrip("/"), "deployed", jid, record.revision,
                          record.generation, record.to_json(), "healthy", 1))  # fmt: skip
    serve_overview(httpserver, flink)
    flink.serve(httpserver, "deploy-config-deployed", "deploy-jars")
    args = [a for arg in record.spec.args for a in ("--arg", arg)]
    r = cli("deploy", "deployed", "--jar", record.spec.jar_id, *args, "--catalog",
            str(tmp_path / "c.db"))  # fmt: skip
    assert r.code == 0, r.err
    assert "RESULT:   unchanged" in r.out and f"JOB-ID:   {jid}" in r.out
    assert [line.split()[:2] for line in r.err.splitlines()] == [
        ["ok", "resolve"],
        ["ok", "compare"],
    ]
    assert posted(httpserver) == []


def test_the_same_deploy_whose_gate_never_passed_is_gated_again(cli, flink, httpserver, tmp_path):
    """A fresh runner (empty catalog), or a deploy killed during its gate: the running revision
    has no healthy outcome on record, so it is gated, never reported unchanged blindly."""
    record = deployed_record(flink)
    jid = job_id(flink, "deployed")
    serve_overview(httpserver, flink)
    flink.serve(httpserver, "deploy-config-deployed", "deploy-jars", "deploy-job-deployed",
                "deploy-exceptions-deployed", "deploy-checkpoints-deployed",
                "deploy-checkpoints-config-deployed")  # fmt: skip
    httpserver.expect_request(f"/jobs/{jid}/status").respond_with_json(flink.body("job-status"))
    args = [a for arg in record.spec.args for a in ("--arg", arg)]
    r = cli("deploy", "deployed", "--jar", record.spec.jar_id, *args, "--healthy-for", "0",
            "--catalog", str(tmp_path / "c.db"), "-o", "json")  # fmt: skip
    assert r.code == 0, r.err
    report = r.json()
    assert report["result"] == "unchanged" and report["job-id"] == jid
    assert [s["step"] for s in report["steps"]] == ["resolve", "compare", "health"]
    assert "gated it again, healthy" in report["notes"][0]
    assert posted(httpserver) == []
    from flinkctl.catalog import Catalog

    with Catalog(tmp_path / "c.db") as catalog:  # the verdict is recorded: next time, unchanged
        assert catalog.entry(httpserver.url_for("").rstrip("/"), jid).outcome == "healthy"


def test_last_state_needs_retained_checkpoints(cli, flink, httpserver, tmp_path):
    serve_overview(httpserver, flink)
    flink.serve(httpserver, "deploy-config-deployed", "deploy-checkpoints-config-deployed")
    r = cli("deploy", "deployed", "--jar", str(DEMO), "--upgrade-mode", "last-state",
            "--catalog", str(tmp_path / "c.db"), "-o", "json")  # fmt: skip
    assert r.code == 2
    assert r.json()["cause"].endswith(
        "does not retain its checkpoints when cancelled, so --upgrade-mode last-state has no "
        "state to start from"
    )
    assert posted(httpserver) == []  # refused before the upload


def test_a_program_naming_another_job_is_refused(cli, flink, httpserver, tmp_path):
    record = deployed_record(flink)
    serve_overview(httpserver, flink)
    flink.serve(httpserver, "deploy-config-deployed", "deploy-jars", "deploy-job-deployed")
    httpserver.expect_request(f"/jars/{record.spec.jar_id}/plan", method="POST").respond_with_json(
        flink.body("jar-plan")  # the demo job's plan: named flinkctl-demo
    )
    args = [a for arg in record.spec.args for a in ("--arg", arg)]
    r = cli("deploy", "deployed", "--jar", record.spec.jar_id, *args, "-p", "2",
            "--catalog", str(tmp_path / "c.db"), "-o", "json")  # fmt: skip
    assert r.code == 2
    assert r.json()["cause"] == "the program names its job 'flinkctl-demo', not 'deployed'"
    assert posted(httpserver) == [f"POST /jars/{record.spec.jar_id}/plan"]  # not uploaded: kept


def test_two_running_jobs_of_one_name_are_refused(cli, flink, httpserver, tmp_path):
    jobs = flink.body("deploy-jobs-overview")["jobs"]
    running = next(j for j in jobs if j["name"] == "deployed")
    twin = {**running, "jid": "0" * 32}
    serve_overview(httpserver, flink, [running, twin])
    httpserver.expect_request(f"/jobs/{running['jid']}/config").respond_with_json(
        flink.body("deploy-config-deployed")
    )
    httpserver.expect_request(f"/jobs/{twin['jid']}/config").respond_with_json(
        flink.body("job-config")
    )
    r = cli("deploy", "deployed", "--jar", str(DEMO), "--catalog", str(tmp_path / "c.db"))
    assert r.code == 2
    assert f"2 jobs named 'deployed' run: {running['jid']} RUNNING; {'0' * 32} RUNNING" in r.out
    assert posted(httpserver) == []


def test_a_name_that_ran_before_needs_from_savepoint_or_fresh(cli, flink, httpserver, tmp_path):
    jobs = flink.body("deploy-jobs-overview")["jobs"]
    ended = {**next(j for j in jobs if j["name"] == "deployed"), "state": "CANCELED"}
    serve_overview(httpserver, flink, [ended])
    flink.serve(httpserver, "deploy-config-deployed")
    r = cli("deploy", "deployed", "--jar", str(DEMO), "--catalog", str(tmp_path / "c.db"),
            "-o", "json")  # fmt: skip
    assert r.code == 2
    assert "would drop that state" in r.json()["cause"]
    assert r.json()["hint"] == "say what to start from: --from-savepoint PATH or --fresh"


def test_history_lists_the_cluster_jobs_with_their_records(cli, flink, httpserver, tmp_path):
    serve_overview(httpserver, flink)
    flink.serve(httpserver, "deploy-config-deployed")
    r = cli("jobs", "history", "deployed", "--catalog", str(tmp_path / "c.db"), "-o", "json")
    assert r.code == 0, r.err
    [row] = r.json()
    assert row["revision"] == 1 and row["job-id"] == job_id(flink, "deployed")
    assert row["state"] == "RUNNING" and row["args"] == ["20", "--name", "deployed"]
    assert row["record"] == "cluster" and row["outcome"] is None
    r = cli("jobs", "history", "deployed", "--catalog", str(tmp_path / "c.db"))
    header = r.out.splitlines()[0].split("\t")
    assert header == ["REVISION", "JOB-ID", "STATE", "ACTION", "OUTCOME", "STARTED",
                      "PARALLELISM", "JAR", "ARGS", "RESTORED-FROM"]  # fmt: skip


@pytest.mark.parametrize(
    "args, message",
    [
        (["--drain"], "--drain fires timers and windows"),
        (["--fresh", "--from-savepoint", "/sp/1"], "choose one of --from-savepoint and --fresh"),
        (["--healthy-for", "60", "--timeout", "30"], "--healthy-for must be shorter"),
        (["--from-savepoint", "relative/sp"], "malformed savepoint path"),
        (["--upgrade-mode", "sideways"], "sideways"),
    ],
)
def test_bad_options_never_reach_the_cluster(cli, httpserver, args, message):
    r = cli("deploy", "etl", "--jar", str(DEMO), *args)
    assert r.code == 2
    assert message in r.err
    assert httpserver.log == []


def test_a_deploy_file_gives_options_that_flags_override(cli, httpserver, tmp_path):
    file = tmp_path / "deploy.yaml"
    file.write_text("name: etl\njar: /no/such.jar\nhealthy-for: 5\n")
    r = cli("deploy", "-f", str(file))
    assert (r.code, r.err) == (2, "error: jar file '/no/such.jar' does not exist\n")
    r = cli("deploy", "-f", str(file), "--jar", str(DEMO), "--timeout", "4")
    assert "--healthy-for must be shorter than --timeout" in r.err  # 5 from the file, 4 given
    file.write_text("name: etl\njar: x.jar\nhealthy_for: 5\n")
    r = cli("deploy", "-f", str(file))
    assert r.code == 2 and "unknown key 'healthy_for'" in r.err
    assert httpserver.log == []


def test_a_deploy_file_gets_only_the_options_given_on_the_command_line(cli, httpserver, tmp_path):
    """An option given with its default's value still wins over the file; an option not given
    (a flag not set, a value left at its default) never hides the file's."""
    file = tmp_path / "deploy.yaml"
    file.write_text(f"name: etl\njar: {DEMO}\ntimeout: 4\nhealthy-for: 5\nfrom-savepoint: rel/sp\n")
    r = cli("deploy", "-f", str(file))
    assert "--healthy-for must be shorter than --timeout" in r.err  # both from the file
    r = cli("deploy", "-f", str(file), "--timeout", "300")  # the default, given: it wins
    assert (r.code, r.err.splitlines()[0]) == (2, "error: malformed savepoint path 'rel/sp': "
                                               "use an absolute path or a URI (file:///..., "
                                               "s3://bucket/..., hdfs://...)")  # fmt: skip
    assert httpserver.log == []


def test_the_cli_hands_the_deploy_file_only_the_given_options(cli, tmp_path, monkeypatch):
    from flinkctl.errors import UsageError
    from flinkctl.workflows import deploy_options

    seen = []

    def load(path, given):
        seen.append((path, dict(given)))
        raise UsageError("stop here")

    monkeypatch.setattr(deploy_options, "load", load)
    file = tmp_path / "deploy.yaml"
    file.write_text("name: etl\n")
    r = cli("deploy", "-f", str(file), "--timeout", "300", "--max-restarts", "0", "--drain",
            "-D", "a=b", "--arg", "x")  # fmt: skip
    assert r.code == 2
    assert seen == [(file, {"arg": ("x",), "conf": {"a": "b"}, "drain": True,
                            "max_restarts": 0, "timeout": 300.0})]  # fmt: skip


def test_a_deploy_file_under_the_given_options_is_a_pure_merge():
    from flinkctl.workflows.deploy_options import DeployOptions, UpgradeMode, merge

    data = {"name": "etl", "arg": ["--in", 3], "configuration": {"a": 1, "b": "2", "c": False},
            "upgrade-mode": "last-state", "healthy-for": "1m", "drain": True}  # fmt: skip
    options = merge(data, {"conf": {"b": "cli"}, "timeout": 300.0})
    assert options == DeployOptions(
        name="etl", arg=("--in", "3"), conf={"a": "1", "b": "cli", "c": "false"},
        upgrade_mode=UpgradeMode.LAST_STATE, healthy_for=60.0, drain=True, timeout=300.0,
    )  # fmt: skip
    assert merge(data, {"arg": ("given",)}).arg == ("given",)
    assert merge(None, {}) == DeployOptions()


@pytest.mark.parametrize(
    "text, message",
    [
        ("- a list\n", "expected a mapping of option names to values"),
        ("max-restarts: many\n", "max-restarts: expected a whole number, 0 or more"),
        ("keep-jars: 0\n", "keep-jars: expected a whole number, 1 or more"),
        ("drain: maybe\n", "drain: expected true or false"),
        ("timeout: soon\n", "timeout: invalid duration 'soon'"),
        ("upgrade-mode: sideways\n", "upgrade-mode: expected one of savepoint, last-state,"),
        ("configuration: [a, b]\n", "configuration: must map keys to values"),
        ("configuration: {a: null}\n", "configuration: a: expected a string, a number or true/"),
        ("configuration: {a: {x: 1}}\n", "configuration: a: expected a string, a number or tr"),
        ("configuration: {a: [1, 2]}\n", "configuration: a: expected a string, a number or tr"),
        ("configuration: {null: 1}\n", "configuration: None: expected a Flink option name"),
        ("configuration: {a: .nan}\n", "configuration: a: expected a string, a number or true/f"),
        ('configuration: {"a\\nb": 1}\n', "configuration: 'a\\nb': expected a Flink option name"),
        ("arg: {a: 1}\n", "arg: expected an argument or a list of them"),
        ("name: [a]\n", "name: expected a string"),
        ("name: etl\n  jar: : x\n", "deploy.yaml:2: mapping values are not allowed here"),
        ("name: a\nname: b\n", "deploy.yaml:2: duplicate key 'name' (first on line 1)"),
        ("name: caf\xe9\n", "deploy.yaml:1: not UTF-8 text (byte 0xe9 at offset 9)"),
    ],
)
def test_a_bad_deploy_file_is_one_usage_error(cli, httpserver, tmp_path, text, message):
    file = tmp_path / "deploy.yaml"
    file.write_bytes(text.encode("latin-1"))
    r = cli("deploy", "-f", str(file))
    assert r.code == 2 and message in r.err.splitlines()[0], r.err
    assert len(r.err.splitlines()) <= 2 and "Traceback" not in r.err, r.err  # the error, a hint
    assert r.err.startswith("error: ") and r.out == ""
    assert httpserver.log == []


def test_deploy_options_are_declared_once():
    """Every option of `deploy` (but -f, --catalog and the output options) is a DeployOptions
    field of its name and vice versa; the help shows the field's default; a file key is the
    option's long name (kebab-case)."""
    import typer

    from flinkctl.cli.deploy import app
    from flinkctl.workflows.deploy_options import DeployOptions

    command = typer.main.get_command(app).get_command(None, "deploy")
    params = {
        p.name: p for p in command.params if p.name not in ("file", "catalog", "output", "query")
    }
    assert sorted(params) == sorted(DeployOptions.names())
    keys = {name: key for key, name in DeployOptions.file_keys().items()}
    assert set(keys) == set(DeployOptions.names()) - {"dry_run"}
    for name, param in params.items():
        default = DeployOptions.default(name)
        if getattr(param, "is_flag", False):
            assert param.default is False is default, name
        elif param.default is None and isinstance(param.show_default, str):
            assert param.show_default == str(default), name  # None on the command line: not given
        else:
            assert param.default is None and default in (None, (), {}), name
        longest = max(param.opts, key=len)
        if longest.startswith("--") and name != "dry_run":  # --dry-run is not in deploy.yaml
            assert keys[name] == longest[2:], name
    assert keys["conf"] == "configuration" and keys["name"] == "name"


def test_outcomes_serialise_as_plain_strings():
    """Result, Status and Health are str-valued: the report's JSON and YAML are unchanged."""
    import yaml

    from flinkctl.workflows.deploy import Report, Result, Status, Step
    from flinkctl.workflows.health import Health

    report = Report("x", Result.ROLLED_BACK, steps=[Step("health", Status.FAILED, 5, "d")])
    body = report.to_json()
    assert type(body["result"]) is str and type(body["steps"][0]["status"]) is str
    assert json.dumps(body).startswith('{"name": "x", "result": "rolled-back"')
    assert '"step": "health", "status": "failed"' in json.dumps(body)
    assert yaml.safe_load(yaml.safe_dump(body)) == body
    assert f"{Result.ROLLED_BACK} {Status.OK:<4}|{Health.HEALTHY}" == "rolled-back ok  |healthy"
    assert Result.REFUSED == "refused" and report.exit_code == 6


def test_rollback_without_a_running_job_is_refused(cli, flink, httpserver, tmp_path):
    serve_overview(httpserver, flink, [])
    r = cli("rollback", "etl", "--catalog", str(tmp_path / "c.db"), "-o", "json")
    assert r.code == 2
    assert r.json()["cause"] == "no job named 'etl' runs: nothing to roll back"


def test_top_level_commands_complete_with_the_first_line_of_their_help():
    import typer

    from flinkctl.cli.main import COMMANDS, app

    root = typer.main.get_command(app)
    for name, _, summary in COMMANDS:
        command = root.get_command(None, name)
        assert command.help.splitlines()[0] == summary


def test_the_report_documents_its_fields():
    from flinkctl.workflows.deploy import Report

    assert list(Report("x").to_json()) == [
        "name", "result", "revision", "job-id", "previous-job-id", "savepoint", "steps",
        "cause", "hint", "notes",
    ]  # fmt: skip
    assert json.dumps(Report("x").to_json())


def test_dry_run_shows_what_would_change_and_changes_nothing(cli, flink, httpserver, tmp_path):
    record = deployed_record(flink)
    serve_overview(httpserver, flink)
    flink.serve(httpserver, "deploy-config-deployed", "deploy-jars", "deploy-job-deployed",
                "config", "overview", "jobmanager-config")  # fmt: skip
    plan = flink.body("jar-plan")
    httpserver.expect_request(f"/jars/{record.spec.jar_id}/plan", method="POST").respond_with_json(
        {**plan, "plan": {**plan["plan"], "name": "deployed"}}
    )
    args = [a for arg in record.spec.args for a in ("--arg", arg)]
    base = ["deploy", "deployed", "--jar", record.spec.jar_id, *args, "-p", "3", "-D", "k=v",
            "--dry-run", "--catalog", str(tmp_path / "c.db")]  # fmt: skip
    r = cli(*base, "-o", "json")
    assert r.code == 0, r.err
    report = r.json()
    assert report["result"] == "planned"
    assert report["diff"] == [
        {"field": "parallelism", "running": record.spec.parallelism, "requested": 3},
        {"field": "-D k", "running": None, "requested": "v"},
    ]
    assert [s["status"] for s in report["steps"][-4:]] == ["planned"] * 4
    assert posted(httpserver) == [f"POST /jars/{record.spec.jar_id}/plan"]
    r = cli(*base)
    assert r.code == 0, r.err
    assert "CHANGES" in r.out and "parallelism" in r.out


def test_a_rollback_needing_a_secret_this_machine_lacks_is_refused_untouched(
    cli, flink, httpserver, tmp_path
):
    """The cluster's record masks the previous revision's -D s3.secret-key: from a machine whose
    catalog lacks it, rollback names the key and touches nothing."""
    import copy
    from dataclasses import replace

    record = deployed_record(flink)
    previous = Previous(1, replace(record.spec, conf=(("s3.secret-key", "SEKRIT-9"),)), "f" * 32)
    masked = replace(record, revision=2, generation=2, previous=previous)
    config = copy.deepcopy(flink.body("deploy-config-deployed"))
    config["execution-config"]["user-config"][RECORD_KEY] = masked.encode()
    assert "SEKRIT-9" not in json.dumps(config)
    serve_overview(httpserver, flink)
    jid = job_id(flink, "deployed")
    httpserver.expect_request(f"/jobs/{jid}/config").respond_with_json(config)
    flink.serve(httpserver, "deploy-jars", "deploy-job-deployed")
    r = cli("rollback", "deployed", "--catalog", str(tmp_path / "c.db"), "-o", "json")
    assert r.code == 2, r.err
    report = r.json()
    assert report["result"] == "refused"
    assert report["cause"].endswith("was not given: -D s3.secret-key")
    assert "SEKRIT-9" not in r.out + r.err
    assert posted(httpserver) == []


def test_a_parallelism_the_cluster_can_never_give_is_refused_untouched(cli, flink, httpserver, tmp_path):  # fmt: skip
    record = deployed_record(flink)
    serve_overview(httpserver, flink)
    flink.serve(httpserver, "deploy-config-deployed", "deploy-jars", "deploy-job-deployed",
                "config", "overview", "jobmanager-config")  # fmt: skip
    plan = flink.body("jar-plan")
    nodes = [{**n, "parallelism": 8} for n in plan["plan"]["nodes"]]  # what -p 8 plans
    httpserver.expect_request(f"/jars/{record.spec.jar_id}/plan", method="POST").respond_with_json(
        {**plan, "plan": {**plan["plan"], "name": "deployed", "nodes": nodes}}
    )
    args = [a for arg in record.spec.args for a in ("--arg", arg)]
    r = cli("deploy", "deployed", "--jar", record.spec.jar_id, *args, "-p", "8",
            "--catalog", str(tmp_path / "c.db"), "-o", "json")  # fmt: skip
    assert r.code == 2, r.err
    report = r.json()
    assert report["result"] == "refused"
    assert report["cause"].startswith("the new revision needs 8 slots; the cluster has")
    assert posted(httpserver) == [f"POST /jars/{record.spec.jar_id}/plan"]  # nothing stopped
