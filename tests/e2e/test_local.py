"""`flinkctl local` against the real cluster it started (see conftest.py)."""

from __future__ import annotations

import json

import httpx

from .conftest import eventually


def test_status_shows_running_cluster(local_flink):
    code, out, err = local_flink.run("local", "status", "--name", local_flink.name, "-o", "json")
    assert code == 0, err
    status = json.loads(out)
    assert status["running"] is True
    assert status["flink-version"] == local_flink.version
    assert status["url"] == local_flink.url
    assert status["pids"]["jobmanager"] and status["pids"]["taskmanager"]
    assert status["overview"]["taskmanagers"] == 1


def test_status_table(local_flink):
    code, out, err = local_flink.run("local", "status", "--name", local_flink.name)
    assert code == 0, err
    assert "RUNNING" in out and local_flink.version in out


def test_demo_job_runs_and_checkpoints(local_flink):
    job = httpx.get(f"{local_flink.url}/jobs/{local_flink.demo_job_id}", timeout=10).json()
    assert job["name"] == "flinkctl-demo"
    assert job["state"] == "RUNNING"
    assert len(job["vertices"]) >= 2
    eventually(
        lambda: httpx.get(
            f"{local_flink.url}/jobs/{local_flink.demo_job_id}/checkpoints", timeout=10
        ).json()["counts"],
        lambda counts: counts["completed"] >= 1,
        timeout=30,
        what="a completed checkpoint",
    )
    assert list((local_flink.dir / "checkpoints" / local_flink.demo_job_id).glob("chk-*"))


def test_up_makes_the_context_current(local_flink):
    code, out, err = local_flink.run("config", "current-context")
    assert code == 0, err
    assert out.strip() == local_flink.name


def test_logs_print_jobmanager_and_taskmanager_lines(local_flink):
    code, out, err = local_flink.run("local", "logs", "--name", local_flink.name, "--tail", "5")
    assert code == 0, err
    assert len(out.splitlines()) == 5
    code, out, err = local_flink.run("local", "logs", "--name", local_flink.name)
    assert "StandaloneSessionClusterEntrypoint" in out
    code, out, err = local_flink.run("local", "logs", "--name", local_flink.name, "--taskmanager")
    assert code == 0, err
    assert "TaskExecutor" in out or "TaskManagerRunner" in out
    code, out, err = local_flink.run(
        "local", "logs", "--name", local_flink.name, "--list", "-o", "name"
    )
    assert code == 0, err
    assert any("standalonesession" in line for line in out.splitlines())


def test_up_again_is_a_no_op(local_flink):
    code, out, err = local_flink.run("local", "up", "--name", local_flink.name, "-o", "json")
    assert code == 0, err
    assert "already running" in err
    assert json.loads(out)["pids"]["jobmanager"]


def test_up_on_a_busy_port_is_a_usage_error(local_flink):
    args = ("local", "up", "--name", "e2e-busy", "--port", str(local_flink.port))
    code, out, err = local_flink.run(*args)
    assert code == 2
    assert out == ""
    assert f"port {local_flink.port} is already in use" in err


def test_unknown_cluster_is_not_found(local_flink):
    code, _, err = local_flink.run("local", "status", "--name", "no-such-cluster")
    assert code == 3
    assert "no local cluster named 'no-such-cluster'" in err


def test_up_with_options_on_a_cluster_running_without_is_a_usage_error(local_flink):
    args = ("local", "up", "--name", local_flink.name, "-D", "jobmanager.scheduler=adaptive")
    code, out, err = local_flink.run(*args)
    assert (code, out) == (2, "")
    assert "is already running with configuration (no -D options)" in err
    code, out, err = local_flink.run("local", "status", "--name", local_flink.name, "-o", "json")
    assert json.loads(out)["flink-config"] == {}


def test_bad_option_is_a_usage_error_before_anything_starts(local_flink):
    code, out, err = local_flink.run("local", "up", "--name", "e2e-bad", "-D", "no-equals-sign")
    assert (code, out) == (2, "")
    assert "-D 'no-equals-sign': expected KEY=VALUE" in err
    code, _, err = local_flink.run("local", "status", "--name", "e2e-bad")
    assert code == 3, err
