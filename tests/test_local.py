"""`flinkctl local up -D KEY=VALUE` without a cluster: parsing, the config file, what is kept.

Flink itself is replaced by a fake FLINK_HOME (a shipped conf/ and the files `up` checks for),
and starting/stopping processes by stubs; tests/e2e runs the real thing.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import yaml

from flinkctl.errors import UsageError
from flinkctl.local import cluster, processes
from flinkctl.local.flinkconf import parse_config
from flinkctl.local.ports import free_port
from flinkctl.local.state import load

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
    local, already = cluster.up("t", flink_home=home, port=PORT, flink_config=options)
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
    local, _ = cluster.up("t", flink_home=home, port=PORT, flink_config={"a.b": "x: y"})
    lines = (local.dir / "conf" / "flink-conf.yaml").read_text().splitlines()
    assert "jobmanager.scheduler: default" in lines
    assert "a.b: x: y" in lines  # Flink splits a line at its first ': '


def test_a_restart_keeps_the_options_unless_given_again(tmp_path, local_home, no_processes):
    home = fake_flink_home(tmp_path, "2.3.0")
    cluster.up("t", flink_home=home, port=PORT, flink_config={"a": "1", "b": "2"})
    local, _ = cluster.up("t")
    assert local.flink_config == {"a": "1", "b": "2"}
    assert load("t").flink_config == {"a": "1", "b": "2"}
    local, _ = cluster.up("t", flink_config={"c": "3"})
    assert local.flink_config == {"c": "3"}
    written = yaml.safe_load((local.dir / "conf" / "config.yaml").read_text())
    assert written["c"] == "3" and "a" not in written


def test_a_running_cluster_asked_for_other_options_is_a_usage_error(
    tmp_path, local_home, no_processes
):
    home = fake_flink_home(tmp_path, "2.3.0")
    cluster.up("t", flink_home=home, port=PORT, flink_config={"a": "1 2"})
    no_processes.running = True
    no_processes.scripts.clear()
    assert cluster.up("t")[1] is True
    assert cluster.up("t", flink_config={"a": "1 2"})[1] is True
    with pytest.raises(UsageError, match=r"already running with configuration -D 'a=1 2'$"):
        cluster.up("t", flink_config={"a": "3"})
    assert no_processes.scripts == []


def test_taskmanagers_are_workers_kept_on_restart_and_checked_when_running(
    tmp_path, local_home, no_processes
):
    home = fake_flink_home(tmp_path, "2.3.0")
    local, _ = cluster.up("t", flink_home=home, port=PORT, taskmanagers=2)
    # bin/start-cluster.sh starts one TaskManager per line of conf/workers
    assert (local.dir / "conf" / "workers").read_text() == "localhost\nlocalhost\n"
    assert load("t").taskmanagers == 2
    assert cluster.up("t")[0].taskmanagers == 2  # a restart keeps the count
    no_processes.running = True
    with pytest.raises(UsageError, match=r"already running with TaskManager count 2$"):
        cluster.up("t", taskmanagers=3)
    with pytest.raises(UsageError, match=r"--taskmanagers must be at least 1, not 0"):
        cluster.up("u", taskmanagers=0)


def test_a_cluster_state_without_options_loads(tmp_path, local_home, no_processes):
    local, _ = cluster.up("t", flink_home=fake_flink_home(tmp_path, "2.3.0"), port=PORT)
    state = json.loads((local.dir / "cluster.json").read_text())
    del state["flink-config"]  # written by flinkctl before -D existed
    del state["taskmanagers"]  # ... and before --taskmanagers
    (local.dir / "cluster.json").write_text(json.dumps(state))
    assert load("t").flink_config == {}
    assert load("t").taskmanagers == 1
    no_processes.running = True
    with pytest.raises(UsageError, match=r"configuration \(no -D options\)"):
        cluster.up("t", flink_config={"a": "1"})


def test_status_shows_the_options_as_arguments(tmp_path, local_home, no_processes, cli):
    home = fake_flink_home(tmp_path, "2.3.0")
    cluster.up("t", flink_home=home, port=PORT, flink_config={"a": "1", "b": "x y"})
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
    local, _ = cluster.up("t", flink_home=home, port=PORT)
    lines = (local.dir / "conf" / "flink-conf.yaml").read_text().splitlines()
    assert f"env.java.opts.all: {JAVA_MODULE_OPTIONS}" in lines
    cluster.down("t")
    local, _ = cluster.up("t", flink_home=home, port=PORT, flink_config={"env.java.opts.all": "-X"})
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
    local, _ = cluster.up("t", flink_home=home, port=PORT, tls=True)
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
        cluster.up("t", tls=False)
    no_processes.running = False
    assert cluster.up("t", tls=False)[0].url.startswith("http://")
    assert cluster.status("t")["tls"] is None
    assert fake_certificates == [False, False]


def test_tls_with_client_authentication_gives_the_context_a_client_pair(
    tmp_path, local_home, no_processes, fake_certificates
):
    home = fake_flink_home(tmp_path, "2.3.0")
    mutual = {"security.ssl.rest.authentication-enabled": "true"}
    local, _ = cluster.up("t", flink_home=home, port=PORT, tls=True, flink_config=mutual)
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
