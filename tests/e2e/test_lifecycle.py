"""Job lifecycle on a real cluster: jars, savepoints on disk, stop, restore, cancel, dispose."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

import pytest

from flinkctl.client.base import parse_version
from flinkctl.local.demo import JAR

from .conftest import on_disk

# A JobGraph built with the cluster's own Flink classes and Java-serialized, as RestClusterClient
# does before POST /jobs. Run with Java's source launcher against FLINK_HOME/lib; no user
# functions, so the job needs no jar.
GRAPH_SOURCE = """
import java.io.FileOutputStream;
import java.io.ObjectOutputStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.graph.StreamingJobGraphGenerator;

public class GraphFile {
    public static void main(String[] args) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.fromSequence(0, Long.MAX_VALUE).name("Sequence")
                .sinkTo(new DiscardingSink<>()).name("Discard");
        try (ObjectOutputStream out = new ObjectOutputStream(new FileOutputStream(args[0]))) {
            out.writeObject(StreamingJobGraphGenerator.createJobGraph(env.getStreamGraph()));
        }
    }
}
"""


def ok(local_flink, *args, timeout=180):
    """Run flinkctl against the cluster; assert exit 0; return stdout."""
    code, out, err = local_flink.run("--url", local_flink.url, *args, timeout=timeout)
    assert code == 0, f"flinkctl {' '.join(args)} -> {code}\n{err}"
    return out


def as_json(local_flink, *args, **kw):
    return json.loads(ok(local_flink, *args, "-o", "json", **kw))


def version(local_flink) -> tuple[int, ...]:
    return parse_version(local_flink.version)


def test_jar_savepoint_stop_restore_cancel_dispose(local_flink):
    """The lifecycle in order: run, savepoint, stop, restore, cancel, dispose, delete the jar."""
    run = ("jars", "run", str(JAR), "--arg", "20", "--wait-running", "--keep-jar")
    started = as_json(local_flink, *run)
    jid, jar = started["job-id"], started["jar-id"]
    assert started["state"] == "RUNNING"
    assert jar in ok(local_flink, "jars", "list", "-o", "name").split()

    savepoint = as_json(local_flink, "savepoint", "trigger", jid, "--wait", "--timeout", "120")
    assert savepoint["status"] == "COMPLETED" and savepoint["job-id"] == jid
    assert on_disk(savepoint["location"]).is_dir()
    assert on_disk(savepoint["location"]).is_relative_to(local_flink.dir)
    status = as_json(local_flink, "savepoint", "status", jid, savepoint["trigger-id"])
    assert status["operation"]["location"] == savepoint["location"]

    if version(local_flink) >= (1, 17):
        checkpoint = as_json(local_flink, "checkpoints", "trigger", jid, "--type", "full", "--wait")
        assert isinstance(checkpoint["checkpoint-id"], int)
        again = as_json(local_flink, "checkpoints", "trigger-status", jid, checkpoint["trigger-id"])
        assert again["operation"]["checkpointId"] == checkpoint["checkpoint-id"]

    stopped = as_json(local_flink, "jobs", "stop", jid, "--wait", "--yes")
    assert on_disk(stopped["location"]).is_dir()
    assert stopped["job-state"] == "FINISHED"  # --wait lasts until the job has stopped
    assert as_json(local_flink, "jobs", "show", jid)["state"] == "FINISHED"

    restored = as_json(
        local_flink,
        "jars",
        "run",
        jar,
        "--arg",
        "20",
        "--from-savepoint",
        stopped["location"],
        "--claim-mode",
        "no-claim",
        "--wait-running",
    )
    jid2 = restored["job-id"]
    stats = as_json(local_flink, "checkpoints", "list", jid2)
    assert stats["counts"]["restored"] >= 1
    assert on_disk(stats["latest"]["restored"]["external_path"]) == on_disk(stopped["location"])

    ok(local_flink, "jobs", "cancel", jid2, "--wait", "--yes")
    assert as_json(local_flink, "jobs", "show", jid2)["state"] == "CANCELED"

    for location in (savepoint["location"], stopped["location"]):
        disposed = as_json(local_flink, "savepoint", "dispose", location, "--wait", "--yes")
        assert disposed["status"] == "COMPLETED"
        assert not on_disk(location).exists()
    status = as_json(local_flink, "savepoint", "dispose-status", disposed["trigger-id"])
    assert status["status"]["id"] == "COMPLETED"

    ok(local_flink, "jars", "delete", jar, "--yes")
    assert jar not in ok(local_flink, "jars", "list", "-o", "name").split()


def test_savepoint_trigger_without_wait_then_resume(local_flink):
    triggered = as_json(local_flink, "savepoint", "trigger", local_flink.demo_job_id)
    # docs/output.md's object: the trigger, whether it joined another run's, when it was triggered
    assert set(triggered) == {"job-id", "trigger-id", "joined", "started-ms", "logged-at"}
    assert triggered["joined"] is False
    done = as_json(
        local_flink,
        "savepoint",
        "status",
        local_flink.demo_job_id,
        triggered["trigger-id"],
        "--wait",
    )
    assert on_disk(done["location"]).is_dir()
    ok(local_flink, "savepoint", "dispose", done["location"], "--wait", "--yes")


def test_failing_job_exits_1_with_root_cause(local_flink):
    args = [
        "jars",
        "run",
        str(JAR),
        "--arg",
        "-1",
        "-D",
        "restart-strategy.type=none",
        "--wait-running",
    ]
    code, out, err = local_flink.run("--url", local_flink.url, *args, timeout=120)
    assert (code, out) == (1, "")
    assert "IllegalArgumentException: timeout value is negative" in err


def test_jars_plan(local_flink):
    jar = json.loads(ok(local_flink, "jars", "upload", str(JAR), "-o", "json"))
    jar_id = Path(jar["filename"]).name
    plan = as_json(local_flink, "jars", "plan", jar_id, "--arg", "5", "-p", "1")
    assert plan["plan"]["name"] == "flinkctl-demo"
    assert "Count" in ok(local_flink, "jars", "plan", jar_id)
    ok(local_flink, "jars", "delete", jar_id, "--yes")


def test_rescale_explains_without_adaptive_scheduler(local_flink):
    code, out, err = local_flink.run(
        "--url", local_flink.url, "jobs", "rescale", local_flink.demo_job_id, "-p", "2"
    )
    assert (code, out) == (1, "")
    assert "does not run on the adaptive scheduler" in err
    assert "jobmanager.scheduler: adaptive" in err


def test_datasets(local_flink):
    assert as_json(local_flink, "datasets", "list") == {"dataSets": []}
    dataset = secrets.token_hex(16)
    deleted = as_json(local_flink, "datasets", "delete", dataset, "--wait", "--yes")
    assert deleted["status"] == "COMPLETED" and deleted["dataset-id"] == dataset


def test_submit_job_graph(local_flink, tmp_path):
    flink_home = json.loads((local_flink.dir / "cluster.json").read_text())["flink-home"]
    source, graph = tmp_path / "GraphFile.java", tmp_path / "job.graph"
    source.write_text(GRAPH_SOURCE)
    subprocess.run(
        ["java", "-cp", f"{flink_home}/lib/*", str(source), str(graph)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    submitted = as_json(local_flink, "jobs", "submit", "--job-graph", str(graph))
    jid = submitted["job-id"]
    assert as_json(local_flink, "jobs", "show", jid)["name"] == "Flink Streaming Job"
    ok(local_flink, "jobs", "cancel", jid, "--wait", "--yes")


def test_applications(local_flink):
    if version(local_flink) < (2, 3):
        code, out, err = local_flink.run("--url", local_flink.url, "applications", "list")
        assert (code, out) == (1, "")
        assert "needs Flink 2.3 or newer" in err
        code, _, err = local_flink.run(
            "--url", local_flink.url, "jars", "run-application", str(JAR)
        )
        assert code == 1 and "needs Flink 2.3 or newer" in err
        return
    apps = as_json(local_flink, "applications", "list")["applications"]
    demo = next(a for a in apps if a["id"] == local_flink.demo_job_id)
    assert (
        as_json(local_flink, "applications", "show", demo["id"])["jobs"][0]["jid"]
        == local_flink.demo_job_id
    )
    assert "exceptionHistory" in as_json(local_flink, "applications", "exceptions", demo["id"])
    assert as_json(local_flink, "applications", "config", demo["id"])
    app_id = ok(local_flink, "jars", "run-application", str(JAR), "--arg", "20").strip()
    assert len(app_id) == 32
    ok(local_flink, "applications", "cancel", app_id, "--yes")


@pytest.mark.parametrize(
    "args", [["savepoint", "dispose", "relative/x", "--yes"], ["jars", "run", "./nope.jar"]]
)
def test_bad_input_exit_2(local_flink, args):
    code, out, err = local_flink.run("--url", local_flink.url, *args)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) <= 2 and err.startswith("error: ")
