"""checkpoints list / show / config against recorded responses of real clusters."""

import json

import pytest
from reads import FORMATS, check_read

from flinkctl.cli.common.arguments import checkpoint_id
from flinkctl.errors import NotFoundError, UsageError

pytestmark = pytest.mark.inprocess

READS = [
    (("checkpoints", "list", "{jobid}"), "checkpoints"),
    (("checkpoints", "show", "{jobid}", "{checkpointid}"), "checkpoint"),
    (
        ("checkpoints", "show", "{jobid}", "{checkpointid}", "--vertex", "{vertexid}"),
        "checkpoint-vertex",
    ),
    (("checkpoints", "config", "{jobid}"), "checkpoints-config"),
]
IDS = [" ".join(a[:2] + a[4:5]) for a, _ in READS]


@pytest.mark.parametrize("args, name", READS, ids=IDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_json_yaml_and_tables(flink, httpserver, cli, args, name, fmt):
    check_read(flink, httpserver, cli, args, name, fmt, "job")


def test_list_shows_counts_summary_and_history(flink, httpserver, cli):
    flink.serve(httpserver, "checkpoints")
    r = cli("checkpoints", "list", flink.ids["jobid"])
    assert r.code == 0, r.err
    head, summary, history = r.out.rstrip("\n").split("\n\n")
    counts = flink.body("checkpoints")["counts"]
    assert head.splitlines()[0] == (
        f"Counts:           {counts['total']} total, {counts['completed']} completed, "
        f"{counts['failed']} failed, {counts['in_progress']} in progress, {counts['restored']} restored"
    )
    assert summary.splitlines()[0] == "SUMMARY\tMIN\tAVG\tMAX\tP99"
    header, *rows = history.splitlines()
    assert header == "ID\tSTATUS\tTYPE\tSAVEPOINT\tTRIGGERED\tDURATION\tSIZE\tACKED"
    entries = flink.body("checkpoints")["history"]
    assert [row.split("\t")[0] for row in rows] == [str(c["id"]) for c in entries]
    # (the recordings hold a savepoint triggered on the real cluster among the checkpoints)
    assert [row.split("\t")[3] for row in rows] == [str(c["is_savepoint"]).lower() for c in entries]


def test_list_names_are_history_ids(flink, httpserver, cli):
    flink.serve(httpserver, "checkpoints")
    r = cli("checkpoints", "list", flink.ids["jobid"], "-o", "name")
    assert r.out.split() == [str(c["id"]) for c in flink.body("checkpoints")["history"]]


def test_show_names_vertices(flink, httpserver, cli):
    flink.serve(httpserver, "checkpoint", "job")
    r = cli("checkpoints", "show", flink.ids["jobid"], flink.ids["checkpointid"])
    assert r.code == 0, r.err
    details, tasks = r.out.rstrip("\n").split("\n\n")
    assert f"ID:                {flink.ids['checkpointid']}" in details
    header, *rows = tasks.splitlines()
    assert header.startswith("VERTEX\tSTATUS\tACKED")
    names = {v["name"] for v in flink.body("job")["vertices"]}
    assert {row.split("\t")[0] for row in rows} == names


def test_show_vertex_by_name_lists_subtasks(flink, httpserver, cli):
    flink.serve(httpserver, "checkpoint-vertex", "job")
    name = next(
        v["name"] for v in flink.body("job")["vertices"] if v["id"] == flink.ids["vertexid"]
    )
    r = cli("checkpoints", "show", flink.ids["jobid"], flink.ids["checkpointid"], "--vertex", name)
    assert r.code == 0, r.err
    details, summary, subtasks = r.out.rstrip("\n").split("\n\n")
    assert details.splitlines()[0] == f"Vertex:            {name}"
    assert summary.splitlines()[0] == "SUMMARY\tMIN\tAVG\tMAX"
    header, *rows = subtasks.splitlines()
    assert header.startswith("SUBTASK\tSTATUS\tACK\tDURATION\tSIZE\tSYNC\tASYNC")
    assert len(rows) == len(flink.body("checkpoint-vertex")["subtasks"])


def test_show_latest_is_the_newest_in_the_history(flink, httpserver, cli):
    flink.serve(httpserver, "checkpoints", "job")
    newest = max(c["id"] for c in flink.body("checkpoints")["history"])
    jid = flink.ids["jobid"]
    # The recorded details body (of another checkpoint) answers at the resolved id: what is
    # under test is which path gets requested.
    httpserver.expect_oneshot_request(
        f"/jobs/{jid}/checkpoints/details/{newest}"
    ).respond_with_json(flink.body("checkpoint"))
    r = cli("checkpoints", "show", jid, "latest", "-o", "json")
    assert r.code == 0, r.err


def test_checkpoint_id_resolution(flink):
    stats = flink.body("checkpoints")
    assert checkpoint_id(None, "42") == 42
    assert checkpoint_id(stats, "LATEST") == max(c["id"] for c in stats["history"])
    with pytest.raises(UsageError):
        checkpoint_id(stats, "newest")
    with pytest.raises(NotFoundError):
        checkpoint_id({"history": [], "latest": {"completed": None}}, "latest")


def test_malformed_checkpoint_is_a_usage_error_before_any_request(flink, httpserver, cli):
    r = cli("checkpoints", "show", flink.ids["jobid"], "chk-7")
    assert (r.code, r.out) == (2, "")
    assert "neither a checkpoint id nor 'latest'" in r.err
    assert httpserver.log == []


def test_checkpoint_no_longer_in_the_history_is_not_found(flink, httpserver, cli):
    flink.serve(httpserver, "checkpoint-missing", "job")
    r = cli("checkpoints", "show", flink.ids["jobid"], "999999")
    assert (r.code, r.out) == (3, "")
    assert "Could not find checkpointing statistics for checkpoint 999999" in r.err


def test_config_humanises_durations(flink, httpserver, cli):
    flink.serve(httpserver, "checkpoints-config")
    r = cli("checkpoints", "config", flink.ids["jobid"])
    assert r.code == 0, r.err
    assert "Interval:           3.0s" in r.out.splitlines()
    assert "Changelog" not in r.out
    assert "Changelog:" in cli("checkpoints", "config", flink.ids["jobid"], "-o", "wide").out


def test_long_history_on_a_terminal_skips_colour(flink, httpserver, cli, monkeypatch):
    import importlib

    render_module = importlib.import_module("flinkctl.output.render")
    monkeypatch.setenv("FLINKCTL_FORCE_TTY", "1")
    monkeypatch.setattr(render_module, "COLOR_MAX_ROWS", 1)  # the recorded history counts as long
    monkeypatch.setenv("COLUMNS", "200")  # every column fits
    flink.serve(httpserver, "checkpoints")
    r = cli("checkpoints", "list", flink.ids["jobid"])
    assert r.code == 0, r.err
    header, rule, *rows = r.out.rstrip("\n").split("\n\n")[-1].splitlines()
    assert header.split() == [
        "ID",
        "STATUS",
        "TYPE",
        "SAVEPOINT",
        "TRIGGERED",
        "DURATION",
        "SIZE",
        "ACKED",
    ]
    assert set(rule) == {"─"}
    entries = flink.body("checkpoints")["history"]
    assert [row.split()[0] for row in rows] == [str(c["id"]) for c in entries]
    assert len({row.index(" COMPLETED") for row in rows}) == 1  # columns line up


def test_list_watch_prints_one_json_document_per_refresh(flink, httpserver, cli, refreshes):
    slept = refreshes(2)
    flink.serve(httpserver, "checkpoints")
    r = cli("checkpoints", "list", flink.ids["jobid"], "-w", "-o", "json")
    assert r.code == 130, r.err
    assert [json.loads(line) for line in r.out.splitlines()] == [flink.body("checkpoints")] * 2
    assert slept == [2.0, 2.0]
