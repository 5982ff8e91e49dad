"""flinkctl.client.requests: each request object's body per Flink version, and the client
sending it (the version asked only when the body depends on it)."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest

from flinkctl.client import FlinkClient
from flinkctl.client.requests import ClaimMode, Program, Restore
from flinkctl.config import Context
from flinkctl.errors import UnsupportedError

JAR = "efc4aa3f-4fbd-4062-86d6-e7efad237d02_flinkctl-demo.jar"
SAVEPOINT = "file:/sp/savepoint-1"
JOB_ID = "ab" * 16
# the versions on either side of each switch: claimMode from 1.20 on, -D from 1.17 on
VERSIONS = [(), (1, 16, 3), (1, 17, 2), (1, 19, 3), (1, 20, 0), (1, 20, 5), (2, 3, 0)]


def claim_key(version: tuple[int, ...]) -> str:
    """What tests/test_jars.py and scripts/record-fixtures send: restoreMode before 1.20."""
    return "claimMode" if version >= (1, 20) else "restoreMode"


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: ".".join(map(str, v)) or "unknown")
def test_a_program_is_spelled_alike_for_every_version(version):
    assert Program().to_body(version) == {"programArgsList": []}  # `jars run JAR`
    # `jars plan JAR --arg 100 -p 1` (tests/test_jars.py::test_plan)
    assert Program(args=("100",), parallelism=1).to_body(version) == {
        "programArgsList": ["100"],
        "parallelism": 1,
    }
    program = Program("flinkctl.demo.DemoJob", ("--input", "a b c"), 2, {"pipeline.name": "x=y"})
    assert program.to_body(version) == {
        "programArgsList": ["--input", "a b c"],  # never split on spaces
        "entryClass": "flinkctl.demo.DemoJob",
        "parallelism": 2,
        "flinkConfiguration": {"pipeline.name": "x=y"},
    }
    assert not program.versioned


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: ".".join(map(str, v)) or "unknown")
def test_a_restore_spells_the_claim_mode_for_the_version(version):
    assert Restore().to_body(version) == {}
    assert Restore(job_id=JOB_ID).to_body(version) == {"jobId": JOB_ID}
    # `jars run ... -s file:/sp/savepoint-1 -n --claim-mode no-claim` (tests/test_jars.py)
    restore = Restore(SAVEPOINT, ClaimMode.NO_CLAIM, allow_non_restored=True, job_id=JOB_ID)
    assert restore.to_body(version) == {
        "savepointPath": SAVEPOINT,
        "allowNonRestoredState": True,
        claim_key(version): "NO_CLAIM",
        "jobId": JOB_ID,
    }
    assert restore.versioned
    assert not Restore(SAVEPOINT).versioned  # no claim mode: Flink's default, nothing to spell
    assert Restore(SAVEPOINT).to_body(version) == {"savepointPath": SAVEPOINT}


@pytest.mark.parametrize("mode", list(ClaimMode))
def test_every_claim_mode_is_flinks_spelling(mode):
    assert Restore(claim_mode=mode).to_body((2, 3)) == {"claimMode": mode.name}
    assert Restore(claim_mode=mode).to_body((1, 19)) == {"restoreMode": mode.name}


def test_requests_are_values():
    assert Program("a.B", ("x",)) == Program("a.B", ("x",))
    assert Restore(SAVEPOINT) != Restore(SAVEPOINT, ClaimMode.CLAIM)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Program().args = ("y",)  # frozen: refused


class Cluster:
    """A JobManager of VERSION answering /config and the jar endpoints; it keeps what it got."""

    def __init__(self, version: str) -> None:
        self.version, self.paths, self.bodies = version, [], []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if request.url.path == "/config":
            return httpx.Response(200, json={"flink-version": self.version})
        self.bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"jobid": JOB_ID, "plan": {}, "applicationid": JOB_ID})

    def client(self) -> FlinkClient:
        return FlinkClient(Context("t", url="http://flink"), transport=httpx.MockTransport(self))


@pytest.mark.parametrize(
    "version, key", [("1.19.3", "restoreMode"), ("1.20.5", "claimMode"), ("2.3.0", "claimMode")]
)
def test_the_client_sends_program_and_restore_as_one_body(version, key):
    cluster = Cluster(version)
    program = Program("flinkctl.demo.DemoJob", ("1",), configuration={"a": "b"})
    restore = Restore(SAVEPOINT, ClaimMode.NO_CLAIM, job_id=JOB_ID)
    with cluster.client() as client:
        client.run_jar(JAR, program, restore)
    assert cluster.bodies == [
        {
            "programArgsList": ["1"],
            "entryClass": "flinkctl.demo.DemoJob",
            "flinkConfiguration": {"a": "b"},
            "savepointPath": SAVEPOINT,
            key: "NO_CLAIM",
            "jobId": JOB_ID,
        }
    ]
    assert cluster.paths == ["/config", f"/jars/{JAR}/run"]  # asked once, for -D and the mode


def test_the_client_asks_the_version_only_when_the_body_depends_on_it():
    cluster = Cluster("2.3.0")
    with cluster.client() as client:
        client.plan_jar(JAR, Program(args=("100",)))
        client.run_jar(JAR, Program(), Restore(SAVEPOINT, job_id=JOB_ID))
    assert cluster.paths == [f"/jars/{JAR}/plan", f"/jars/{JAR}/run"]
    assert cluster.bodies[1] == {
        "programArgsList": [],
        "savepointPath": SAVEPOINT,
        "jobId": JOB_ID,
    }


def test_configuration_needs_flink_1_17():
    cluster = Cluster("1.16.3")
    with cluster.client() as client, pytest.raises(UnsupportedError) as raised:
        client.plan_jar(JAR, Program(configuration={"a": "b"}))
    assert raised.value.message == (
        "-D job configuration needs Flink 1.17 or newer (this cluster runs 1.16.3)"
    )
    assert cluster.paths == ["/config"]  # nothing sent


def test_run_application_takes_the_same_requests():
    cluster = Cluster("2.3.0")
    with cluster.client() as client:
        client.run_application(JAR, Program(args=("-1",)), Restore(job_id=JOB_ID))
    assert cluster.bodies == [{"programArgsList": ["-1"], "jobId": JOB_ID}]
