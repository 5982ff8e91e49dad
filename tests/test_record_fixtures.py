"""scripts/record-fixtures against recorded responses: it finds the ids and re-records the
manifest through FlinkClient, byte for byte what the fixtures hold."""

from __future__ import annotations

import json
import re
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "scripts" / "record-fixtures"


@pytest.fixture(scope="module")
def recorder():
    loader = SourceFileLoader("record_fixtures", str(SCRIPT))
    module = module_from_spec(spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def test_records_the_manifest_through_the_client(recorder, flink, httpserver, expect, tmp_path):
    ids = flink.ids
    jid = ids["jobid"]
    # discovery: the checkpoint the ids name is the latest completed one at that moment
    stats = flink.body("checkpoints")
    stats["latest"]["completed"]["id"] = int(ids["checkpointid"])
    expect("checkpoints", body=stats)
    expect("savepoint-trigger")
    httpserver.expect_oneshot_request(
        re.compile(f"/jobs/{jid}/savepoints/[0-9a-f]{{32}}")
    ).respond_with_json(flink.body("savepoint-status-completed"))
    names = list(recorder.manifest())
    flink.serve(httpserver, *names)

    recorder.record(httpserver.url_for("").rstrip("/"), flink.version, tmp_path)

    out = tmp_path / f"flink-{flink.version}"
    assert json.loads((out / "ids.json").read_text()) == ids
    for name in names:
        again = json.loads((out / f"{name}.json").read_text())
        assert again == flink.record(name), name
