"""vertices / subtasks commands against recorded responses of real clusters."""

import pytest
from pytest_httpserver.httpserver import QueryMatcher
from reads import FORMATS, check_read

pytestmark = pytest.mark.inprocess

# (argv with {placeholders}, the recorded fixture printed with -o json/yaml); "job" is served too
READS = [
    (("vertices", "list", "{jobid}"), "job"),
    (("vertices", "show", "{jobid}", "{vertexid}"), "vertex"),
    (("vertices", "backpressure", "{jobid}", "{vertexid}"), "vertex-backpressure"),
    (("vertices", "metrics", "{jobid}", "{vertexid}"), "vertex-metrics"),
    (("vertices", "accumulators", "{jobid}", "{vertexid}"), "vertex-accumulators"),
    (
        ("vertices", "accumulators", "{jobid}", "{vertexid}", "--subtasks"),
        "vertex-subtasks-accumulators",
    ),
    (("vertices", "subtask-times", "{jobid}", "{vertexid}"), "vertex-subtasktimes"),
    (("vertices", "taskmanagers", "{jobid}", "{vertexid}"), "vertex-taskmanagers"),
    (("vertices", "watermarks", "{jobid}", "{vertexid}"), "vertex-watermarks"),
    (
        ("vertices", "flamegraph", "{jobid}", "{sourcevertexid}", "--type", "full"),
        "vertex-flamegraph",
    ),
    (
        ("vertices", "jm-operator-metrics", "{jobid}", "{sourcevertexid}"),
        "vertex-jm-operator-metrics",
    ),
    (("subtasks", "show", "{jobid}", "{vertexid}", "0"), "subtask"),
    (("subtasks", "show", "{jobid}", "{vertexid}", "0", "--attempt", "0"), "subtask-attempt"),
    (("subtasks", "metrics", "{jobid}", "{vertexid}", "0"), "subtask-metrics"),
    (
        ("subtasks", "accumulators", "{jobid}", "{vertexid}", "0", "--attempt", "0"),
        "subtask-accumulators",
    ),
]
IDS = [" ".join(a[:2] + a[4:]) for a, _ in READS]


@pytest.mark.parametrize("args, name", READS, ids=IDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_json_yaml_and_tables(flink, httpserver, cli, args, name, fmt):
    check_read(flink, httpserver, cli, args, name, fmt, "job", "config")


def test_vertices_list_by_job_name(flink, httpserver, cli):
    flink.serve(httpserver, "jobs-overview", "job")
    r = cli("vertices", "list", "flinkctl-demo")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].split("\t")[:5] == ["ID", "NAME", "STATUS", "PARALLELISM", "TASKS"]
    vertices = flink.body("job")["vertices"]
    assert [ln.split("\t")[1] for ln in lines[1:]] == [v["name"] for v in vertices]
    assert cli("vertices", "list", "flinkctl-demo", "-o", "name").out.split() == [
        v["id"] for v in vertices
    ]
    assert "MAX PARALLELISM" in cli("vertices", "list", "flinkctl-demo", "-o", "wide").out


def test_vertex_by_name_shows_subtasks(flink, httpserver, cli):
    flink.serve(httpserver, "job", "vertex")
    body = flink.body("vertex")
    r = cli("vertices", "show", flink.ids["jobid"], body["name"])
    assert r.code == 0, r.err
    assert f"Parallelism:     {body['parallelism']}" in r.out
    header, *rows = r.out.split("\n\n")[1].splitlines()
    assert header.split("\t")[:4] == ["SUBTASK", "STATUS", "ATTEMPT", "ENDPOINT"]
    assert [row.split("\t")[0] for row in rows] == [str(s["subtask"]) for s in body["subtasks"]]


def test_unknown_vertex_is_not_found(flink, httpserver, cli):
    flink.serve(httpserver, "job")
    r = cli("vertices", "show", flink.ids["jobid"], "no such vertex")
    assert (r.code, r.out) == (3, "")
    assert "vertex 'no such vertex' not found" in r.err


def test_backpressure_levels_per_subtask(flink, httpserver, cli):
    flink.serve(httpserver, "job", "vertex-backpressure")
    r = cli("vertices", "backpressure", flink.ids["jobid"], flink.ids["vertexid"])
    assert r.code == 0, r.err
    header, *rows = r.out.splitlines()
    assert header == "SUBTASK\tLEVEL\tBACKPRESSURED\tIDLE\tBUSY"
    subtasks = flink.body("vertex-backpressure")["subtasks"]
    assert [row.split("\t")[1] for row in rows] == [s["backpressureLevel"] for s in subtasks]


def test_backpressure_of_every_vertex_is_fanned_out(flink, httpserver, cli, monkeypatch):
    from flinkctl.client.base import Base

    fanned = []
    original = Base.fan_out

    def spy(self, fn, items):
        fanned.append(len(items))
        return original(self, fn, items)

    monkeypatch.setattr(Base, "fan_out", spy)
    flink.serve(httpserver, "job", "vertex-backpressure", "vertex-backpressure-source")
    jid = flink.ids["jobid"]
    r = cli("vertices", "backpressure", jid, "-o", "json")
    assert r.code == 0, r.err
    vertices = flink.body("job")["vertices"]
    assert fanned == [len(vertices)]
    by_id = {
        flink.ids["vertexid"]: "vertex-backpressure",
        flink.ids["sourcevertexid"]: "vertex-backpressure-source",
    }
    assert r.json() == {
        "jid": jid,
        "vertices": [
            {"id": v["id"], "name": v["name"], "backpressure": flink.body(by_id[v["id"]])}
            for v in vertices
        ],
    }
    table = cli("vertices", "backpressure", jid).out.splitlines()
    assert table[0].startswith("VERTEX\tSUBTASK\tLEVEL")
    assert {row.split("\t")[0] for row in table[1:]} == {v["name"] for v in vertices}


def test_backpressure_waits_while_flink_samples(flink, httpserver, cli, expect):
    flink.serve(httpserver, "job")
    expect("vertex-backpressure", answer="vertex-backpressure-sampling")  # answered in this order
    expect("vertex-backpressure")
    r = cli("vertices", "backpressure", flink.ids["jobid"], flink.ids["vertexid"], "-o", "json")
    assert r.code == 0, r.err
    assert r.json() == flink.body("vertex-backpressure")


def test_backpressure_still_sampling_after_timeout(flink, httpserver, cli):
    flink.serve(httpserver, "job", "vertex-backpressure-sampling")
    args = ("vertices", "backpressure", flink.ids["jobid"], flink.ids["vertexid"], "--timeout", "0")
    r = cli(*args)
    assert r.code == 0, r.err
    assert r.out.splitlines()[1].split("\t")[:2] == ["-", "sampling"]
    assert cli(*args, "-o", "json").json() == flink.body("vertex-backpressure-sampling")


class GetInAnyOrder(QueryMatcher):
    """Matches ?get=a,b[&agg=...] whatever order the glob expansion listed the ids in."""

    def __init__(self, query: dict) -> None:
        self.query = query

    def get_comparing_values(self, request_query_string: bytes):
        from urllib.parse import parse_qsl

        def normal(q: dict) -> dict:
            return {k: sorted(v.split(",")) if k == "get" else v for k, v in q.items()}

        return normal(dict(parse_qsl(request_query_string.decode()))), normal(self.query)


def serve_any_order(flink, httpserver, name):
    from urllib.parse import parse_qsl, urlsplit

    query = GetInAnyOrder(dict(parse_qsl(urlsplit(flink.path(name)).query)))
    flink.serve(httpserver, name, query=query)


def test_vertex_metrics_globs_expand_client_side(flink, httpserver, cli):
    flink.serve(httpserver, "job", "vertex-metrics")
    serve_any_order(flink, httpserver, "vertex-metrics-records")
    r = cli(
        "vertices",
        "metrics",
        flink.ids["jobid"],
        flink.ids["vertexid"],
        "--get",
        "0.numRecordsIn,0.numRecordsO?t",
    )
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "METRIC\tVALUE"
    assert sorted(ln.split("\t")[0] for ln in lines[1:]) == ["0.numRecordsIn", "0.numRecordsOut"]


def test_vertex_metrics_aggregated_over_subtasks(flink, httpserver, cli):
    flink.serve(httpserver, "job", "vertex-subtasks-metrics-agg")
    serve_any_order(flink, httpserver, "vertex-subtasks-metrics-records")
    args = ("vertices", "metrics", flink.ids["jobid"], flink.ids["vertexid"])
    names = cli(*args, "--agg", "min,max,sum", "-o", "name")
    assert names.out.split() == [m["id"] for m in flink.body("vertex-subtasks-metrics-agg")]
    r = cli(*args, "--get", "numRecordsIn,numRecordsOu[t]", "--agg", "min,max,sum", "-o", "json")
    assert r.code == 0, r.err
    assert r.json() == flink.body("vertex-subtasks-metrics-records")
    table = cli(
        *args, "--get", "numRecordsIn,numRecordsOu[t]", "--agg", "min,max,sum"
    ).out.splitlines()
    assert table[0] == "METRIC\tMIN\tMAX\tAVG\tSUM\tSKEW"


def test_jm_operator_metrics_needs_1_20(flink, httpserver, cli):
    flink.serve(httpserver, "job")
    # A recorded /config with its version rewritten to an older release: the only mutation here.
    cfg = dict(flink.body("config"), **{"flink-version": "1.19.2"})
    flink.serve(httpserver, "config", body=cfg)
    r = cli("vertices", "jm-operator-metrics", flink.ids["jobid"], flink.ids["sourcevertexid"])
    assert (r.code, r.out) == (1, "")
    assert "jm-operator-metrics needs Flink 1.20 or newer (this cluster runs 1.19.2)" in r.err
    assert not any("jm-operator-metrics" in req.path for req, _ in httpserver.log)


def test_watermarks_show_lag(flink, httpserver, cli):
    flink.serve(httpserver, "job", "vertex-watermarks")
    r = cli("vertices", "watermarks", flink.ids["jobid"], flink.ids["vertexid"], "-o", "wide")
    assert r.code == 0, r.err
    header, *rows = r.out.splitlines()
    assert header == "SUBTASK\tWATERMARK\tLAG\tRAW\tMETRIC"
    body = flink.body("vertex-watermarks")
    assert sorted(row.split("\t")[4] for row in rows) == sorted(m["id"] for m in body)
    assert all(row.split("\t")[2] != "-" for row in rows)  # recorded watermarks are in the past


def test_flamegraph_prints_the_hot_call_tree(flink, httpserver, cli):
    flink.serve(httpserver, "job", "vertex-flamegraph")
    args = (
        "vertices",
        "flamegraph",
        flink.ids["jobid"],
        flink.ids["sourcevertexid"],
        "--type",
        "FULL",
    )
    r = cli(*args)
    assert r.code == 0, r.err
    root = flink.body("vertex-flamegraph")["data"]
    first, *frames = r.out.splitlines()
    assert first.startswith(f"{root['value']:,} samples at ")
    assert frames[0].split()[:3] == ["100.0%", f"{root['value']:,}", root["children"][0]["name"]]
    assert any("more frames" in f for f in frames)  # long unbranched chains are shortened
    wide = cli(*args, "-o", "wide").out.splitlines()
    assert len(wide) > len(frames) + 1 and not any("more frames" in f for f in wide)


def test_flamegraph_bad_type_is_a_usage_error(flink, httpserver, cli):
    r = cli("vertices", "flamegraph", flink.ids["jobid"], flink.ids["vertexid"], "--type", "wall")
    assert (r.code, r.out) == (2, "")
    assert "unknown --type 'wall'" in r.err
    assert httpserver.log == []


def test_flamegraph_still_waiting_times_out(flink, httpserver, cli):
    flink.serve(httpserver, "job", "vertex-flamegraph-waiting")
    r = cli(
        "vertices", "flamegraph", flink.ids["jobid"], flink.ids["sourcevertexid"], "--timeout", "0"
    )
    assert (r.code, r.out) == (8, "")
    assert "flame graph sampling did not finish" in r.err


def test_flamegraph_disabled_on_the_cluster(flink, httpserver, cli):
    flink.serve(httpserver, "job", "vertex-flamegraph-disabled")
    r = cli("vertices", "flamegraph", flink.ids["jobid"], flink.ids["sourcevertexid"])
    assert (r.code, r.out) == (1, "")
    assert "flame graphs are disabled" in r.err and "rest.flamegraph.enabled" in r.err


def test_subtask_index_beyond_parallelism_is_not_found(flink, httpserver, cli):
    flink.serve(httpserver, "job")
    r = cli("subtasks", "show", flink.ids["jobid"], flink.ids["vertexid"], "7")
    assert (r.code, r.out) == (3, "")
    assert "subtask 7 not found" in r.err
    assert all("/subtasks/" not in req.path for req, _ in httpserver.log)


def test_subtask_unknown_attempt_is_not_found(flink, httpserver, cli):
    flink.serve(httpserver, "job", "subtask-attempt-missing")
    r = cli("subtasks", "show", flink.ids["jobid"], flink.ids["vertexid"], "0", "--attempt", "9")
    assert (r.code, r.out) == (3, "")
    assert "Invalid attempt num 9" in r.err


def test_subtask_show_lists_time_per_state(flink, httpserver, cli):
    flink.serve(httpserver, "job", "subtask")
    r = cli("subtasks", "show", flink.ids["jobid"], flink.ids["vertexid"], "0")
    assert r.code == 0, r.err
    head, states = r.out.split("\n\n")
    assert "Status:" in head and "Task manager:" in head
    spent = flink.body("subtask")["status-duration"]
    assert {ln.split("\t")[0] for ln in states.splitlines()[1:]} == set(spent)


def test_subtask_accumulators_of_the_current_attempt(flink, httpserver, cli):
    flink.serve(httpserver, "job", "subtask", "subtask-accumulators")
    r = cli(
        "subtasks", "accumulators", flink.ids["jobid"], flink.ids["vertexid"], "0", "-o", "json"
    )
    assert r.code == 0, r.err
    assert r.json() == flink.body("subtask-accumulators")
    assert [req.path for req, _ in httpserver.log][-2:] == [
        flink.path("subtask"),
        flink.path("subtask-accumulators"),
    ]


def test_subtask_metrics_values(flink, httpserver, cli):
    flink.serve(httpserver, "job", "subtask-metrics-records")
    r = cli(
        "subtasks",
        "metrics",
        flink.ids["jobid"],
        flink.ids["vertexid"],
        "0",
        "--get",
        "numRecordsIn,numRecordsOut",
    )
    assert r.code == 0, r.err
    assert sorted(ln.split("\t")[0] for ln in r.out.splitlines()[1:]) == [
        "numRecordsIn",
        "numRecordsOut",
    ]


def test_negative_subtask_index_is_a_usage_error(flink, httpserver, cli):
    r = cli("subtasks", "show", flink.ids["jobid"], flink.ids["vertexid"], "-1")
    assert r.code == 2
    assert httpserver.log == []


def test_backpressure_watch_refreshes_every_vertex(flink, httpserver, cli, refreshes):
    slept = refreshes(2)
    flink.serve(httpserver, "job", "vertex-backpressure", "vertex-backpressure-source")
    r = cli("vertices", "backpressure", flink.ids["jobid"], "--watch", "5")
    assert r.code == 130, r.err
    first, second = r.out.rstrip("\n").split("\n\n")
    assert first == second and first.startswith("VERTEX\tSUBTASK\tLEVEL")
    assert slept == [5.0, 5.0]
    backpressure_requests = [req for req, _ in httpserver.log if req.path.endswith("/backpressure")]
    assert len(backpressure_requests) == 2 * len(flink.body("job")["vertices"])
