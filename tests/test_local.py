"""`flinkctl local` without a cluster: `up -D KEY=VALUE` (parsing, the config file, what is
kept) and `demo` (its refusals, the upload it deletes, the job it cancels when it gives up).

For `up`, Flink itself is replaced by a fake FLINK_HOME (a shipped conf/ and the files `up`
checks for), and starting/stopping processes by stubs; `demo` runs over recorded answers;
tests/e2e runs the real thing.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from types import SimpleNamespace

import pytest
import yaml
from conftest import FaultServer
from signals import interrupt, start

from flinkctl.errors import FlinkctlError, UsageError
from flinkctl.flink import jar_id
from flinkctl.local import cluster, processes
from flinkctl.local.cluster import Settings
from flinkctl.local.flinkconf import parse_config
from flinkctl.local.ports import free_port
from flinkctl.local.state import LocalCluster, load

SHIPPED_YAML = """\
jobmanager:
  bind-host: localhost
  scheduler: default
parallelism:
  default: 1
"""
SHIPPED_LEGACY = "# comment\njobmanager.scheduler: default\nparallelism.default: 1\n"
PORT = free_port()  # only checked to be free: nothing listens on it


@pytest.fixture
def local_home(tmp_path, monkeypatch):
    monkeypatch.setenv("FLINKCTL_LOCAL_HOME", str(tmp_path / "local"))
    return tmp_path / "local"


def fake_flink_home(tmp_path, version: str):
    """A directory `up` accepts as FLINK_HOME: bin/start-cluster.sh, lib/flink-dist, conf/."""
    home = tmp_path / f"flink-{version}"
    for sub in ("bin", "lib", "conf"):
        (home / sub).mkdir(parents=True)
    (home / "bin" / "start-cluster.sh").touch()
    (home / "lib" / f"flink-dist-{version}.jar").touch()
    if version.startswith(("1.19", "1.2", "2.")):
        (home / "conf" / "config.yaml").write_text(SHIPPED_YAML)
    else:
        (home / "conf" / "flink-conf.yaml").write_text(SHIPPED_LEGACY)
    return home


@pytest.fixture
def no_processes(monkeypatch):
    """`up` runs through without starting Flink; `running` tells it whether one runs."""

    fake = SimpleNamespace(running=False, scripts=[])

    def pids(_cluster):
        return {"jobmanager": [1] * fake.running, "taskmanager": [2] * fake.running}

    monkeypatch.setattr(processes, "pids", pids)
    monkeypatch.setattr(cluster, "_overview", lambda _cluster: {"taskmanagers": 1})
    monkeypatch.setattr(processes, "run_script", lambda _c, script: fake.scripts.append(script))
    monkeypatch.setattr(cluster, "_wait_ready", lambda *_a: None)
    monkeypatch.setattr(cluster.distribution, "find_java", lambda _v: "java")
    return fake


def test_parse_config_splits_at_the_first_equals_and_a_later_key_wins():
    pairs = ["a.b=1", "c=x=y", "a.b=2", " d =", "e=with spaces"]
    assert parse_config(pairs) == {"a.b": "2", "c": "x=y", "d": "", "e": "with spaces"}
    assert parse_config([]) == {}


@pytest.mark.parametrize(
    "pair, message",
    [
        ("jobmanager.scheduler", "-D 'jobmanager.scheduler': expected KEY=VALUE"),
        ("=adaptive", "-D '=adaptive': expected KEY=VALUE"),
        (" =adaptive", "-D ' =adaptive': expected KEY=VALUE"),
        ("job manager=x", "-D 'job manager=x': expected KEY=VALUE"),
        ("a=one\ntwo", "-D a: the value must be a single line"),
        ("rest.port=9000", "-D rest.port: flinkctl sets this key itself; use --port"),
        ("taskmanager.numberOfTaskSlots=4", "flinkctl sets this key itself; use --slots"),
        ("rest.address=0.0.0.0", "flinkctl sets this key itself, so it can reach the cluster"),
    ],
)
def test_bad_option_is_a_usage_error_before_anything_starts(cli, local_home, pair, message):
    r = cli("local", "up", "--name", "t", "-D", "parallelism.default=2", "-D", pair, url="")
    assert r.code == 2
    assert r.out == ""
    assert message in r.err
    assert not local_home.exists()


def test_set_is_the_long_form(cli, local_home):
    r = cli("local", "up", "--name", "t", "--set", "no-equals-sign", url="")
    assert (r.code, r.out) == (2, "")
    assert "-D 'no-equals-sign': expected KEY=VALUE" in r.err


def test_options_win_over_shipped_config_and_flinkctl_defaults(tmp_path, local_home, no_processes):
    home = fake_flink_home(tmp_path, "2.3.0")
    options = {"jobmanager.scheduler": "adaptive", "taskmanager.memory.process.size": "2g"}
    local, already = cluster.up("t", Settings(flink_home=home, port=PORT, flink_config=options))
    assert not already
    written = yaml.safe_load((local.dir / "conf" / "config.yaml").read_text())
    assert written["jobmanager.scheduler"] == "adaptive"  # shipped: default
    assert written["taskmanager.memory.process.size"] == "2g"  # flinkctl: 1536m
    assert written["jobmanager.bind-host"] == "localhost"  # shipped, untouched
    assert written["rest.port"] == PORT
    assert json.loads((local.dir / "cluster.json").read_text())["flink-config"] == options
    assert cluster.status("t")["flink-config"] == options


def test_options_in_legacy_flink_conf_yaml(tmp_path, local_home, no_processes):
    home = fake_flink_home(tmp_path, "1.18.1")
    local, _ = cluster.up("t", Settings(flink_home=home, port=PORT, flink_config={"a.b": "x: y"}))
    lines = (local.dir / "conf" / "flink-conf.yaml").read_text().splitlines()
    assert "jobmanager.scheduler: default" in lines
    assert "a.b: x: y" in lines  # Flink splits a line at its first ': '


def test_a_restart_keeps_the_options_unless_given_again(tmp_path, local_home, no_processes):
    home = fake_flink_home(tmp_path, "2.3.0")
    cluster.up("t", Settings(flink_home=home, port=PORT, flink_config={"a": "1", "b": "2"}))
    local, _ = cluster.up("t")
    assert local.flink_config == {"a": "1", "b": "2"}
    assert load("t").flink_config == {"a": "1", "b": "2"}
    local, _ = cluster.up("t", Settings(flink_config={"c": "3"}))
    assert local.flink_config == {"c": "3"}
    written = yaml.safe_load((local.dir / "conf" / "config.yaml").read_text())
    assert written["c"] == "3" and "a" not in written


def test_a_running_cluster_asked_for_other_options_is_a_usage_error(
    tmp_path, local_home, no_processes
):
    home = fake_flink_home(tmp_path, "2.3.0")
    cluster.up("t", Settings(flink_home=home, port=PORT, flink_config={"a": "1 2"}))
    no_processes.running = True
    no_processes.scripts.clear()
    assert cluster.up("t")[1] is True
    assert cluster.up("t", Settings(flink_config={"a": "1 2"}))[1] is True
    with pytest.raises(UsageError, match=r"already running with configuration -D 'a=1 2'$"):
        cluster.up("t", Settings(flink_config={"a": "3"}))
    assert cluster.up("t", Settings(slots=2))[1] is True  # the default: what it runs with
    with pytest.raises(UsageError, match=r"already running with slots per TaskManager 2$"):
        cluster.up("t", Settings(slots=20))
    assert no_processes.scripts == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--port", "0"], "--port must be from 1 to 65535, not 0"),
        (["--port", "99999"], "--port must be from 1 to 65535, not 99999"),
        (["-p", "-5"], "--port must be from 1 to 65535, not -5"),
        (["--slots", "0"], "--slots must be from 1 to 2147483647, not 0"),
        (["--slots", "99999999999999999999"], "--slots must be from 1 to 2147483647, not 9999"),
        (["--taskmanagers", "101"], "--taskmanagers must be from 1 to 100, not 101"),
        (["--flink-version", ""], "invalid Flink version '' (expected e.g. "),
        (["--flink-version", "02.3.0"], "invalid Flink version '02.3.0' (expected e.g. "),
    ],
)
def test_settings_out_of_range_are_usage_errors_before_anything(cli, local_home, args, message):
    """Found by a break-it round: --port 99999 ended in an OverflowError's traceback, --port 0
    and --flink-version '' were taken as not given (a cluster started on 8081)."""
    r = cli("local", "up", "--name", "t", *args, url="")
    assert (r.code, r.out) == (2, "")
    assert r.err.startswith(f"error: {message}"), r.err
    assert not local_home.exists()


def test_a_failed_start_keeps_a_stopped_clusters_settings(
    tmp_path, local_home, no_processes, monkeypatch
):
    """A start that fails leaves the cluster as it was recorded, so that a plain `up` starts it
    as it ran before (a break-it round saw --slots 99999999999999999999 kept after the
    TaskManager failed, and every later `up` fail the same way)."""
    home = fake_flink_home(tmp_path, "2.3.0")
    cluster.up("t", Settings(flink_home=home, port=PORT, slots=4, flink_config={"a": "1"}))
    recorded = (local_home / "t" / "cluster.json").read_text()

    def fails(*_args):
        raise FlinkctlError("the taskmanager of cluster 't' exited during start-up")

    no_processes.scripts.clear()
    monkeypatch.setattr(cluster, "_wait_ready", fails)
    with pytest.raises(FlinkctlError, match="exited during start-up"):
        cluster.up("t", Settings(slots=8, taskmanagers=2, flink_config={"b": "2"}))
    assert no_processes.scripts == ["start-cluster.sh"]
    assert (local_home / "t" / "cluster.json").read_text() == recorded
    assert (load("t").slots, load("t").flink_config) == (4, {"a": "1"})


def test_a_failed_start_shows_only_the_logs_written_since_it_began(tmp_path, local_home):
    """A daemon that failed before it logged (a bad setting read by Flink's start script) left
    an earlier run's log the newest: a break-it round saw its tail shown as this start's."""
    import os

    from flinkctl.local.logs import log_tails

    home = fake_flink_home(tmp_path, "2.3.0")
    local = LocalCluster("t", local_home / "t", "2.3.0", home, PORT, PORT + 1, 2)
    logs = local.dir / "log"
    logs.mkdir(parents=True)
    old = logs / "flink-u-taskexecutor-0-h.log"
    old.write_text("an earlier run's last line\n")
    os.utime(old, (1_000_000, 1_000_000))
    (logs / "flink-u-standalonesession-0-h.log").write_text("this start's line\n")
    shown = log_tails(local, since=2_000_000)
    assert "this start's line" in shown and "earlier" not in shown
    assert log_tails(local, since=time.time() + 5) == f"(no log written since the start in {logs})"
    # a daemon whose start script refused a setting says why only in the scripts' output
    scripts = processes.script_output(local)
    runs = ("start-cluster.sh\nan earlier start's line\n", "start-cluster.sh\nStarting cluster.\n"
            "Exception in thread \"main\" IllegalConfigurationException: TaskManager memory\n")  # fmt: skip
    scripts.write_text("".join(processes.SCRIPT_MARK + run for run in runs))
    shown = log_tails(local, since=2_000_000)
    assert shown.endswith(f"--- {scripts} ---\nStarting cluster.\n"
                          "Exception in thread \"main\" IllegalConfigurationException: TaskManager memory")  # fmt: skip
    assert "earlier" not in shown


def test_a_restart_whose_distribution_is_gone_asks_for_its_version_again(tmp_path):
    home = tmp_path / "flink-1.18.1"
    previous = LocalCluster("t", tmp_path / "t", "1.18.1", home, PORT, PORT + 1, 4, 2, tls=True)
    kept = Settings(slots=3).after(previous, home_kept=True)
    assert kept == Settings(None, home, PORT, 3, 2, {}, True)
    # a cache cleaned, or a --flink-home moved: the version it ran, downloaded again
    assert Settings().after(previous, home_kept=False).version == "1.18.1"
    assert Settings().after(previous, home_kept=False).flink_home is None
    assert Settings(version="2.3.0").after(previous, home_kept=True).version == "2.3.0"


def test_taskmanagers_are_workers_kept_on_restart_and_checked_when_running(
    tmp_path, local_home, no_processes
):
    home = fake_flink_home(tmp_path, "2.3.0")
    local, _ = cluster.up("t", Settings(flink_home=home, port=PORT, taskmanagers=2))
    # bin/start-cluster.sh starts one TaskManager per line of conf/workers
    assert (local.dir / "conf" / "workers").read_text() == "localhost\nlocalhost\n"
    assert load("t").taskmanagers == 2
    assert cluster.up("t")[0].taskmanagers == 2  # a restart keeps the count
    no_processes.running = True
    with pytest.raises(UsageError, match=r"already running with TaskManager count 2$"):
        cluster.up("t", Settings(taskmanagers=3))
    with pytest.raises(UsageError, match=r"--taskmanagers must be from 1 to 100, not 0"):
        cluster.up("u", Settings(taskmanagers=0))


def test_a_cluster_state_without_options_loads(tmp_path, local_home, no_processes):
    local, _ = cluster.up("t", Settings(flink_home=fake_flink_home(tmp_path, "2.3.0"), port=PORT))
    state = json.loads((local.dir / "cluster.json").read_text())
    del state["flink-config"]  # written by flinkctl before -D existed
    del state["taskmanagers"]  # ... and before --taskmanagers
    (local.dir / "cluster.json").write_text(json.dumps(state))
    assert load("t").flink_config == {}
    assert load("t").taskmanagers == 1
    no_processes.running = True
    with pytest.raises(UsageError, match=r"configuration \(no -D options\)"):
        cluster.up("t", Settings(flink_config={"a": "1"}))


def test_status_shows_the_options_as_arguments(tmp_path, local_home, no_processes, cli):
    home = fake_flink_home(tmp_path, "2.3.0")
    cluster.up("t", Settings(flink_home=home, port=PORT, flink_config={"a": "1", "b": "x y"}))
    r = cli("local", "status", "--name", "t", url="")
    assert (r.code, r.err) == (0, "")
    assert "Flink config:    -D a=1 -D 'b=x y'\n" in r.out
    r = cli("local", "status", "--name", "t", "-o", "json", url="")
    assert r.json()["flink-config"] == {"a": "1", "b": "x y"}


def test_flink_1_17_on_java_17_gets_the_jvm_flags_of_1_18(
    tmp_path, local_home, no_processes, monkeypatch
):
    from flinkctl.local.versions import JAVA_MODULE_OPTIONS

    monkeypatch.setattr(cluster.distribution, "java_major", lambda _java: 17)
    home = fake_flink_home(tmp_path, "1.17.2")
    local, _ = cluster.up("t", Settings(flink_home=home, port=PORT))
    lines = (local.dir / "conf" / "flink-conf.yaml").read_text().splitlines()
    assert f"env.java.opts.all: {JAVA_MODULE_OPTIONS}" in lines
    cluster.down("t")
    local, _ = cluster.up(
        "t", Settings(flink_home=home, port=PORT, flink_config={"env.java.opts.all": "-X"})
    )
    lines = (local.dir / "conf" / "flink-conf.yaml").read_text().splitlines()
    assert "env.java.opts.all: -X" in lines  # -D wins


@pytest.fixture
def fake_certificates(monkeypatch):
    """`up --tls` without keytool (tests/e2e/test_tls.py runs it): only the store password."""
    from flinkctl.local import tls

    def ensure(tls_dir, mutual):
        tls_dir.mkdir(parents=True, exist_ok=True)
        (tls_dir / tls.PASSWORD).write_text("s3cret\n")
        made.append(mutual)

    made: list[bool] = []
    monkeypatch.setattr(tls, "ensure", ensure)
    return made


def test_tls_serves_https_and_is_kept_on_a_restart(
    tmp_path, local_home, no_processes, fake_certificates
):
    home = fake_flink_home(tmp_path, "2.3.0")
    local, _ = cluster.up("t", Settings(flink_home=home, port=PORT, tls=True))
    assert local.url == f"https://127.0.0.1:{PORT}"
    written = yaml.safe_load((local.dir / "conf" / "config.yaml").read_text())
    assert written["security.ssl.rest.enabled"] is True
    assert written["security.ssl.rest.keystore"] == str(local.dir / "tls" / "rest.keystore.p12")
    assert written["security.ssl.rest.truststore-password"] == "s3cret"
    assert written["security.ssl.rest.authentication-enabled"] is False
    assert cluster.status("t")["tls"] == {"ca-file": str(local.dir / "tls" / "ca.pem")}
    assert load("t").tls and cluster.up("t")[0].url.startswith("https://")  # a restart keeps it
    no_processes.running = True
    with pytest.raises(UsageError, match="already running with TLS on"):
        cluster.up("t", Settings(tls=False))
    no_processes.running = False
    assert cluster.up("t", Settings(tls=False))[0].url.startswith("http://")
    assert cluster.status("t")["tls"] is None
    assert fake_certificates == [False, False]


def test_tls_with_client_authentication_gives_the_context_a_client_pair(
    tmp_path, local_home, no_processes, fake_certificates
):
    home = fake_flink_home(tmp_path, "2.3.0")
    mutual = {"security.ssl.rest.authentication-enabled": "true"}
    local, _ = cluster.up("t", Settings(flink_home=home, port=PORT, tls=True, flink_config=mutual))
    written = yaml.safe_load((local.dir / "conf" / "config.yaml").read_text())
    assert written["security.ssl.rest.authentication-enabled"] == "true"  # the user's -D
    assert set(local.tls_settings().to_dict()) == {"ca-file", "cert-file", "key-file"}
    assert local.client().http.ctx.tls == local.tls_settings()
    assert fake_certificates == [True]


def test_up_tls_gives_the_context_an_https_url_and_the_ca(
    tmp_path, local_home, no_processes, fake_certificates, cli
):
    home = fake_flink_home(tmp_path, "2.3.0")
    args = ("local", "up", "--name", "t", "--flink-home", str(home), "--port", str(PORT))
    r = cli(*args, "--tls", "-o", "json", url="")
    assert r.code == 0, r.err
    ca = str(local_home / "t" / "tls" / "ca.pem")
    assert r.json()["tls"] == {"ca-file": ca}
    view = cli("config", "view", "-o", "json", url="").json()["contexts"]["t"]
    assert view == {"url": f"https://127.0.0.1:{PORT}", "tls": {"ca-file": ca}}
    assert cli("local", "status", "--name", "t", url="").out.count(f"TLS CA file:     {ca}") == 1
    r = cli(*args, "--no-tls", url="")
    view = cli("config", "view", "-o", "json", url="").json()["contexts"]["t"]
    assert view == {"url": f"http://127.0.0.1:{PORT}"}


def test_down_purge_deletes_the_context_up_made(tmp_path, local_home, no_processes, cli):
    home = fake_flink_home(tmp_path, "2.3.0")
    for name, port in (("t", PORT), ("u", free_port())):
        args = ("local", "up", "--name", name, "--flink-home", str(home), "--port", str(port))
        assert cli(*args, url="").code == 0
    assert cli("config", "set-context", "u", "--url", "http://elsewhere:8081", url="").code == 0
    assert cli("local", "down", "--name", "t", url="").code == 0  # not purged: it stays
    view = cli("config", "view", "-o", "json", url="").json()
    assert (set(view["contexts"]), view["current-context"]) == ({"t", "u"}, "t")
    r = cli("local", "down", "--name", "t", "--purge", url="")
    assert (r.code, r.err.splitlines()[-1]) == (0, "Context 't' deleted")
    r = cli("local", "down", "--name", "u", "--purge", url="")  # pointed elsewhere since
    assert (r.code, "deleted" in r.err) == (0, False)
    view = cli("config", "view", "-o", "json", url="").json()
    assert set(view["contexts"]) == {"u"}
    assert view.get("current-context") is None  # t was current: unset
    assert not (local_home / "t").exists() and not (local_home / "u").exists()


def test_down_purge_with_a_config_it_cannot_read_purges_and_warns(
    tmp_path, local_home, no_processes, cli
):
    home = fake_flink_home(tmp_path, "2.3.0")
    args = ("local", "up", "--name", "t", "--flink-home", str(home), "--port", str(PORT))
    assert cli(*args, url="").code == 0
    (tmp_path / "config.yaml").write_text("contexts: [unclosed\n")
    r = cli("local", "down", "--name", "t", "--purge", url="")
    assert r.code == 0
    assert r.err.splitlines()[-1].startswith("warning: context 't' kept: malformed config file")
    assert not (local_home / "t").exists()
    assert (tmp_path / "config.yaml").read_text() == "contexts: [unclosed\n"


# -- `local demo` over recorded answers -------------------------------------------------------


def starting(job: dict) -> dict:
    """A recorded RUNNING job with its last vertex still SCHEDULED (a task waiting for a slot)."""
    *ran, last = job["vertices"]
    return {**job, "vertices": [*ran, {**last, "status": "SCHEDULED"}]}


def demo_answers(flink, config: list | None = None) -> dict[tuple[str, str], tuple[str, dict]]:
    """(method, path) -> (fixture name, body) of a `local demo` that starts the recorded job:
    its checks (the recorded demo job runs, 1 of 2 slots free), the upload, the run (answering
    the recorded job's id), the upload's deletion, the job, its cancel."""
    jid = flink.ids["jobid"]
    jar = jar_id(flink.body("jar-upload"))
    names = {
        ("GET", "/jobs/overview"): "jobs-overview",
        ("GET", "/jobmanager/config"): "jobmanager-config",
        ("GET", "/overview"): "overview",
        ("POST", "/jars/upload"): "jar-upload",
        ("POST", f"/jars/{jar}/run"): "jar-run",
        ("DELETE", f"/jars/{jar}"): "jar-delete",
        ("GET", f"/jobs/{jid}"): "job",
        ("PATCH", f"/jobs/{jid}"): "job-cancel",
    }
    bodies = {
        "jobmanager-config": flink.body("jobmanager-config") + (config or []),
        "jar-run": {**flink.body("jar-run"), "jobid": jid},
    }
    return {key: (name, bodies.get(name, flink.body(name))) for key, name in names.items()}


def serve_demo(expect, flink, *, job=None, config=None, cancel=None, skip=()) -> None:
    """Expect the requests of `demo_answers` once each (the jobs' overview twice: the check and
    after the run; the job every time it is asked for; no cancel unless CANCEL names the
    fixture that answers it), but those of the fixtures SKIP."""
    for name, body in demo_answers(flink, config).values():
        if name in skip or name == "job-cancel" and cancel is None:
            continue
        if name == "jobs-overview":
            expect(name, body=body)
            expect(name, body=body)
        elif name == "job":
            expect(name, body=job or body, always=True)
        elif name == "job-cancel":
            expect(name, answer=cancel)
        else:
            expect(name, body=body)


@pytest.mark.parametrize(
    "scenario, config",
    [
        ("healthy", None),
        ("skew", [{"key": "execution.target", "value": "kubernetes-session"}]),
        ("skew", [{"key": "jobmanager.scheduler", "value": "adaptive"}]),
    ],
    ids=["healthy", "skew-on-demand-taskmanagers", "skew-adaptive-scheduler"],
)
def test_demo_runs_the_job_and_deletes_its_upload(cli, expect, flink, scenario, config):
    """A session that starts TaskManagers on demand, or the adaptive scheduler, runs skew's
    3 subtasks though 1 slot is free now."""
    serve_demo(expect, flink, config=config)
    r = cli("local", "demo", scenario, "--job-name", "orders", "-o", "json")
    assert r.code == 0, r.err
    assert r.json() == {"job-id": flink.ids["jobid"], "name": "orders", "scenario": scenario}
    assert r.err == ""  # the note that names `doctor orders`: with table output only


def test_demo_prints_its_jobs_id_as_jars_run_does(cli, expect, flink):
    serve_demo(expect, flink)
    r = cli("local", "demo", "--job-name", "orders")
    assert (r.code, r.out) == (0, f"{flink.ids['jobid']}\n"), r.err
    assert "flinkctl" in r.err and "doctor orders" in r.err


def test_demo_whose_upload_cannot_be_deleted_warns_and_runs(cli, expect, flink):
    serve_demo(expect, flink, skip=("jar-delete",))
    expect("jar-delete", answer="jar-run-not-found")  # Flink's answer for a jar that is gone
    r = cli("local", "demo", "--job-name", "orders", "-o", "json")
    assert r.code == 0 and r.json()["job-id"] == flink.ids["jobid"], r.err
    jar = jar_id(flink.body("jar-upload"))
    assert r.err.startswith(f"warning: could not delete the uploaded jar {jar}: ")


def test_demo_refuses_a_scenario_the_cluster_can_never_give_its_slots(
    cli, expect, flink, httpserver
):
    expect("jobs-overview")
    expect("jobmanager-config")
    expect("overview")
    r = cli("local", "demo", "skew", "--job-name", "orders")
    assert (r.code, r.out) == (1, "")
    url = httpserver.url_for("").rstrip("/")
    assert r.err.splitlines() == [
        "error: the skew demo job needs 3 slots; the cluster has 2 slots, 1 free",
        f"hint: free some (flinkctl --url {url} jobs cancel JOB), or restart a local cluster "
        "with more: flinkctl local down, then flinkctl local up --slots 4",  # 1 taken + 3
    ]


def test_demo_refuses_a_name_that_runs_untouched(cli, expect, flink, httpserver):
    expect("jobs-overview")  # the recorded flinkctl-demo job runs
    jid = flink.ids["jobid"]
    r = cli("local", "demo")
    url = httpserver.url_for("").rstrip("/")
    assert (r.code, r.out) == (2, "")
    assert r.err == (
        f"error: a job named 'flinkctl-demo' already runs: {jid}\n"
        f"hint: diagnose it: flinkctl --url {url} doctor {jid}; or cancel it first (flinkctl "
        f"--url {url} jobs cancel {jid}), or choose another --job-name\n"
    )


def test_demo_that_lost_a_race_for_its_name_cancels_its_job(cli, expect, flink, httpserver):
    """Two runs racing on one --job-name both pass the check; the one whose job was submitted
    later (the recorded job, here) cancels it, and exits 2 naming the job that keeps the name."""
    jid = flink.ids["jobid"]
    overview = flink.body("jobs-overview")
    ours = {**overview["jobs"][0], "name": "orders"}
    rival = {**ours, "jid": "0" * 32, "start-time": ours["start-time"] - 10, "state": "CREATED"}
    serve_demo(expect, flink, cancel="job-cancel", skip=("jobs-overview", "job"))
    expect("jobs-overview", body=overview)  # the check: no job named orders yet
    expect("jobs-overview", body={"jobs": [ours, rival]})  # after the run: the rival's is first
    r = cli("local", "demo", "--job-name", "orders")
    assert (r.code, r.out) == (2, "")
    url = httpserver.url_for("").rstrip("/")
    assert r.err.splitlines() == [
        f"error: a job named 'orders' already runs: {rival['jid']}; cancelled it ({jid})",
        f"hint: diagnose it: flinkctl --url {url} doctor {rival['jid']}; or cancel it first "
        f"(flinkctl --url {url} jobs cancel {rival['jid']}), or choose another --job-name",
    ]


def test_demo_note_names_the_cluster_it_ran_on(cli, expect, flink, httpserver):
    serve_demo(expect, flink)
    r = cli("local", "demo", "--job-name", "my orders")
    url = httpserver.url_for("").rstrip("/")
    assert r.code == 0, r.err
    assert r.err == (
        f"Diagnose it once it has run for a minute: flinkctl --url {url} doctor 'my orders'\n"
    )


@pytest.mark.parametrize("state", ["CANCELLING", "CANCELED", "FAILED", "FINISHED"])
def test_only_an_active_job_holds_its_name(flink, state):
    from flinkctl.local.demo import active_named

    overview = flink.body("jobs-overview")
    assert active_named(overview, "flinkctl-demo") == flink.ids["jobid"]
    assert active_named(overview, "orders") is None
    ended = {"jobs": [{**j, "state": state} for j in overview["jobs"]]}
    assert active_named(ended, "flinkctl-demo") is None
    job = overview["jobs"][0]
    later = {**job, "jid": "0" * 32, "start-time": job["start-time"] + 1}
    assert active_named({"jobs": [later, job]}, "flinkctl-demo") == job["jid"]  # first submitted


def test_demo_that_does_not_run_in_time_is_cancelled(cli, expect, flink):
    serve_demo(expect, flink, job=starting(flink.body("job")), cancel="job-cancel")
    r = cli("local", "demo", "--job-name", "orders", "--timeout", "0")
    assert (r.code, r.out) == (1, "")
    assert r.err == (
        f"error: demo job {flink.ids['jobid']} was not running after 0s; cancelled it\n"
        "hint: give its tasks longer: --timeout 2m\n"
    )


def test_demo_whose_cancel_fails_says_how_to_cancel_it(cli, expect, flink, httpserver):
    serve_demo(expect, flink, job=starting(flink.body("job")), cancel="job-not-found")
    jid = flink.ids["jobid"]
    r = cli("local", "demo", "--job-name", "orders", "--timeout", "0")
    assert (r.code, r.out) == (1, "")
    error, hint = r.err.splitlines()
    assert error.startswith(f"error: demo job {jid} was not running after 0s; could not cancel it")
    url = httpserver.url_for("").rstrip("/")
    assert hint == f"hint: it may run on: flinkctl --url {url} jobs cancel {jid}"


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_the_demo_waits_cancels_its_job(flink, sig, code):
    """Ctrl-C or SIGTERM (a real signal to a real process) while it waits for the job's tasks:
    the job it started is cancelled, and it exits 130 or 143."""
    answers = demo_answers(flink)
    jid = flink.ids["jobid"]
    release = threading.Event()

    def answer(method, path, body):
        if (method, path) == ("GET", f"/jobs/{jid}"):
            return ("hang", release)
        name, found = answers[(method, path.split("?")[0])]
        return ("json", flink.record(name)["status"], found)

    with FaultServer(answer) as server:
        proc = start("--url", server.url, "local", "demo", "--job-name", "orders")
        returned, out, err, _ = interrupt(proc, server, f"/jobs/{jid}", sig=sig, release=release)
    assert (returned, out) == (code, ""), err
    assert err == f"Cancelling demo job {jid}: interrupted before its tasks ran\n"
    assert ("PATCH", f"/jobs/{jid}?mode=cancel", None) in server.log


def test_a_signal_while_flink_runs_the_jar_keeps_it_and_says_how_to_cancel(flink):
    """Ctrl-C while Flink answers the run (it may still start the job, whose id this run never
    learns): the upload stays, as with `jars run` (Flink may still read it), and it says how to
    cancel the job by its name and how to delete the upload."""
    answers = demo_answers(flink)
    jar = jar_id(flink.body("jar-upload"))
    release = threading.Event()

    def answer(method, path, body):
        if (method, path) == ("POST", f"/jars/{jar}/run"):
            return ("hang", release)
        name, found = answers[(method, path.split("?")[0])]
        return ("json", flink.record(name)["status"], found)

    with FaultServer(answer) as server:
        proc = start("--url", server.url, "local", "demo", "--job-name", "orders")
        returned, out, err, _ = interrupt(proc, server, f"/jars/{jar}/run", release=release)
    assert (returned, out) == (130, ""), err
    assert err == (
        "Interrupted while Flink submitted demo job 'orders'; should it run, cancel it: "
        f"flinkctl --url {server.url} jobs cancel orders; its upload stays on the cluster, which "
        f"may still read it: flinkctl --url {server.url} jars delete {jar}\n"
    )
    assert not [entry for entry in server.log if entry[0] == "DELETE"]


def test_a_lost_answer_to_the_demos_run_says_its_job_may_run(flink):
    """Flink may have started the job whose answer was lost: the error's hint says how to
    cancel it and delete the upload, not only "is the cluster running?" (exit 5)."""
    answers = demo_answers(flink)
    jar = jar_id(flink.body("jar-upload"))

    def answer(method, path, body):
        if (method, path) == ("POST", f"/jars/{jar}/run"):
            return ("reset",)
        name, found = answers[(method, path.split("?")[0])]
        return ("json", flink.record(name)["status"], found)

    with FaultServer(answer) as server:
        proc = start("--url", server.url, "local", "demo", "--job-name", "orders")
        out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out) == (5, ""), err
    assert err.splitlines()[-1] == (  # not the transport's "is the cluster running?"
        f"hint: demo job 'orders' may run: should it run, cancel it: flinkctl --url {server.url} "
        f"jobs cancel orders; its upload stays on the cluster, which may still read it: flinkctl "
        f"--url {server.url} jars delete {jar}"
    ), err
