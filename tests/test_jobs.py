"""`flinkctl jobs ...` read commands, job resolution and --watch, against recorded responses."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from conftest import Recorded

pytestmark = pytest.mark.inprocess

# Rescale history (*-adaptive): recorded from 2.3 clusters running the adaptive scheduler.
ADAPTIVE = pytest.mark.flink(since="2.3")


def demo_entry(flink) -> dict:
    """The recorded /jobs/overview entry of the running demo job."""
    return next(j for j in flink.body("jobs-overview")["jobs"] if j["jid"] == flink.ids["jobid"])


def replica(entry: dict, jid: str, **changes) -> dict:
    """A recorded overview entry under another id (and, e.g., another state or name)."""
    return {**entry, "jid": jid, **changes}


def serve_overview(flink, httpserver, *jobs: dict) -> dict:
    body = {**flink.body("jobs-overview"), "jobs": list(jobs)}
    flink.serve(httpserver, "jobs-overview", body=body)
    return body


def paths(httpserver) -> list[str]:
    return [request.path for request, _ in httpserver.log]


# -- resolving JOB ---------------------------------------------------------------------------


def test_full_id_needs_no_overview(flink, httpserver, cli):
    flink.serve(httpserver, "job-status")
    r = cli("jobs", "status", flink.ids["jobid"])
    assert (r.code, r.out, r.err) == (0, "RUNNING\n", "")
    assert paths(httpserver) == [f"/jobs/{flink.ids['jobid']}/status"]


def test_unique_prefix_resolves(flink, httpserver, cli):
    jid = flink.ids["jobid"]
    serve_overview(flink, httpserver, demo_entry(flink), replica(demo_entry(flink), "f" * 32))
    flink.serve(httpserver, "job-status")
    r = cli("jobs", "status", jid[:4])
    assert (r.code, r.out) == (0, "RUNNING\n")
    assert paths(httpserver) == ["/jobs/overview", f"/jobs/{jid}/status"]


def test_prefix_shorter_than_4_is_not_a_prefix(flink, httpserver, cli):
    serve_overview(flink, httpserver, demo_entry(flink))
    r = cli("jobs", "status", flink.ids["jobid"][:3])
    assert r.code == 3
    assert r.err == f"error: job {flink.ids['jobid'][:3]!r} not found\n"


def test_ambiguous_prefix_lists_candidates(flink, httpserver, cli):
    jid = flink.ids["jobid"]
    twin = jid[:6] + ("0" if jid[6] != "0" else "1") + jid[7:]
    serve_overview(flink, httpserver, demo_entry(flink), replica(demo_entry(flink), twin))
    r = cli("jobs", "status", jid[:6])
    assert r.code == 2
    assert r.out == ""
    assert f"job {jid[:6]!r} is ambiguous" in r.err
    assert jid in r.err and twin in r.err and "'flinkctl-demo' RUNNING started 20" in r.err


def test_name_prefers_the_job_that_is_not_terminal(flink, httpserver, cli):
    jid = flink.ids["jobid"]
    old = replica(demo_entry(flink), "e" * 32, state="CANCELED")
    serve_overview(flink, httpserver, old, demo_entry(flink))
    flink.serve(httpserver, "job-status")
    r = cli("jobs", "status", "flinkctl-demo")
    assert (r.code, r.out) == (0, "RUNNING\n")
    assert paths(httpserver)[-1] == f"/jobs/{jid}/status"


@pytest.mark.parametrize("states", [("RUNNING", "RUNNING"), ("FAILED", "CANCELED")])
def test_ambiguous_name_exits_2_with_id_name_state_and_start(flink, httpserver, cli, states):
    a = replica(demo_entry(flink), "a" * 32, state=states[0])
    b = replica(demo_entry(flink), "b" * 32, state=states[1])
    serve_overview(flink, httpserver, a, b)
    r = cli("jobs", "status", "flinkctl-demo")
    assert r.code == 2
    assert r.err.startswith("error: job 'flinkctl-demo' is ambiguous: ")
    for job in (a, b):
        assert f"{job['jid']} 'flinkctl-demo' {job['state']} started 20" in r.err


def test_no_match_exits_3(flink, httpserver, cli):
    serve_overview(flink, httpserver, demo_entry(flink))
    r = cli("jobs", "show", "no-such-job")
    assert (r.code, r.out) == (3, "")
    assert r.err == "error: job 'no-such-job' not found\n"


def test_no_match_as_json_error(flink, httpserver, cli):
    serve_overview(flink, httpserver, demo_entry(flink))
    r = cli("jobs", "status", "no-such-job", "-o", "json")
    assert r.code == 3
    assert json.loads(r.err)["error"] == {
        "code": 3,
        "kind": "not-found",
        "message": "job 'no-such-job' not found",
    }


# -- jobs list -------------------------------------------------------------------------------


def test_list_table(flink, httpserver, cli):
    flink.serve(httpserver, "jobs-overview")
    r = cli("jobs", "list")
    assert (r.code, r.err) == (0, "")
    lines = r.out.splitlines()
    assert lines[0] == "ID\tNAME\tSTATE\tSTART\tDURATION\tTASKS"
    assert len(lines) == 1 + len(flink.body("jobs-overview")["jobs"])
    row = next(line for line in lines if line.startswith(flink.ids["jobid"]))
    assert row.split("\t")[1:3] == ["flinkctl-demo", "RUNNING"]
    assert row.endswith("\t2/2")


def test_list_wide_adds_task_states_type_and_restarts(flink, httpserver, cli):
    flink.serve(httpserver, "jobs-overview")
    jobs = flink.body("jobs-overview")["jobs"]
    restarted = flink.body("job-exceptions-restarted")
    for job in jobs:
        httpserver.expect_request(f"/jobs/{job['jid']}/exceptions").respond_with_json(restarted)
    r = cli("jobs", "list", "-o", "wide")
    header, *rows = r.out.splitlines()
    assert header.split("\t")[6:] == ["TASK STATES", "TYPE", "SCHEDULER", "END", "RESTARTS"]
    assert "running=2" in r.out
    count = str(len(restarted["exceptionHistory"]["entries"]))
    assert [row.split("\t")[-1] for row in rows] == [count] * len(jobs)


def test_list_wide_restarts_unknown_is_a_dash_and_table_asks_nothing_more(flink, httpserver, cli):
    flink.serve(httpserver, "jobs-overview")
    for job in flink.body("jobs-overview")["jobs"]:
        httpserver.expect_request(f"/jobs/{job['jid']}/exceptions").respond_with_json(
            {"errors": ["Internal server error."]}, status=500
        )
    r = cli("jobs", "list", "-o", "wide")
    assert {row.split("\t")[-1] for row in r.out.splitlines()[1:]} == {"-"}
    r = cli("jobs", "list")
    assert "RESTARTS" not in r.out
    assert paths(httpserver)[-1] == "/jobs/overview"


def test_list_wide_asks_at_most_the_cap_jobs_that_have_not_ended_first(
    flink, httpserver, cli, monkeypatch
):
    monkeypatch.setattr("flinkctl.cli.jobs.read.WIDE_RESTARTS_CAP", 3)
    overview = flink.body("jobs-overview")
    job = overview["jobs"][0]
    ended = [{**job, "jid": f"{n:032x}", "state": "FINISHED"} for n in range(4)]
    running = [{**job, "jid": f"{n:032x}", "state": "RUNNING"} for n in range(10, 12)]
    overview["jobs"] = ended + running  # the running ones last in Flink's order
    flink.expect(httpserver, "jobs-overview", body=overview)
    restarted = flink.body("job-exceptions-restarted")
    httpserver.expect_request(re.compile(r"/jobs/\w+/exceptions")).respond_with_json(restarted)
    r = cli("jobs", "list", "-o", "wide")
    asked = {p.split("/")[2] for p in paths(httpserver) if p.endswith("/exceptions")}
    assert asked == {running[0]["jid"], running[1]["jid"], ended[0]["jid"]}
    count = str(len(restarted["exceptionHistory"]["entries"]))
    shown = {row.split("\t")[0]: row.split("\t")[-1] for row in r.out.splitlines()[1:]}
    assert shown == {j["jid"]: count if j["jid"] in asked else "-" for j in ended + running}
    assert "restarts of 3 of 6 jobs not asked (at most 3," in r.err


@pytest.mark.parametrize("flags,coloured", [((), True), (("--no-color",), False)])
def test_list_on_a_terminal_colours_states_unless_no_color(
    flink, httpserver, cli, monkeypatch, flags, coloured
):
    monkeypatch.setenv("FLINKCTL_FORCE_TTY", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")  # Rich writes colour to the captured stdout
    flink.serve(httpserver, "jobs-overview")
    r = cli(*flags, "jobs", "list")
    assert r.code == 0, r.err
    assert "RUNNING" in r.out
    assert ("\x1b[32m" in r.out) is coloured  # RUNNING in green


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_list_json_and_yaml_are_the_rest_body(flink, httpserver, cli, fmt):
    flink.serve(httpserver, "jobs-overview")
    r = cli("jobs", "list", "-o", fmt)
    assert r.code == 0
    assert (r.json() if fmt == "json" else yaml.safe_load(r.out)) == flink.body("jobs-overview")


def test_list_name_prints_ids(flink, httpserver, cli):
    flink.serve(httpserver, "jobs-overview")
    r = cli("jobs", "list", "-o", "name")
    assert r.out.split() == [j["jid"] for j in flink.body("jobs-overview")["jobs"]]


def test_list_filters_by_state_and_name_glob(flink, httpserver, cli):
    demo = demo_entry(flink)
    other = replica(demo, "c" * 32, name="etl-orders", state="FINISHED")
    serve_overview(flink, httpserver, demo, other)
    assert cli("jobs", "list", "-s", "running", "-o", "name").out == f"{demo['jid']}\n"
    assert cli("jobs", "list", "--name", "etl-*", "-o", "name").out == f"{other['jid']}\n"
    r = cli("jobs", "list", "--state", "FAILED", "-o", "json")
    assert (r.code, r.json()) == (0, {**flink.body("jobs-overview"), "jobs": []})


def test_list_sorts(flink, httpserver, cli):
    demo = demo_entry(flink)
    older = replica(demo, "1" * 32, name="a-job", **{"start-time": demo["start-time"] - 5000})
    longer = replica(demo, "2" * 32, name="z-job", duration=demo["duration"] + 10**6)
    serve_overview(flink, httpserver, older, demo, longer)
    assert cli("jobs", "list", "--sort", "name", "-o", "name").out.split() == [
        older["jid"],
        demo["jid"],
        longer["jid"],
    ]  # a-job, flinkctl-demo, z-job
    assert cli("jobs", "list", "--sort", "duration", "-o", "name").out.split()[0] == longer["jid"]
    assert cli("jobs", "list", "--sort", "start", "-o", "name").out.split()[-1] == older["jid"]


def test_list_unknown_state_is_a_usage_error_before_any_request(httpserver, cli):
    r = cli("jobs", "list", "--state", "SLEEPING")
    assert (r.code, r.out) == (2, "")
    assert r.err.startswith("error: unknown job state 'SLEEPING' (choose from INITIALIZING, ")
    assert httpserver.log == []


# -- --watch ---------------------------------------------------------------------------------


def test_watch_json_emits_one_document_per_line(flink, httpserver, cli, refreshes):
    flink.serve(httpserver, "jobs-overview")
    slept = refreshes(3)
    r = cli("jobs", "list", "--watch", "0.1", "-o", "json")
    assert (r.code, r.err) == (130, "")  # Ctrl-C ends a watch: exit 130, quietly
    lines = r.out.splitlines()
    assert len(lines) == 3
    expected = flink.body("jobs-overview")
    expected = {**expected, "jobs": sorted(expected["jobs"], key=lambda j: -j["start-time"])}
    assert [json.loads(line) for line in lines] == [expected] * 3
    assert slept == [0.1] * 3
    assert paths(httpserver) == ["/jobs/overview"] * 3


def test_watch_json_applies_query(flink, httpserver, cli, refreshes):
    flink.serve(httpserver, "jobs-overview")
    refreshes(2)
    r = cli("jobs", "list", "-w", "0.1", "-o", "json", "--query", "jobs[?state=='RUNNING'].jid")
    assert r.out == f'["{flink.ids["jobid"]}"]\n' * 2


def test_watch_piped_table_reprints_separated_by_a_blank_line(flink, httpserver, cli, refreshes):
    flink.serve(httpserver, "jobs-overview")
    refreshes(2)
    r = cli("jobs", "list", "-w", "0.1")
    first, second = r.out.split("\n\n")
    assert first.startswith("ID\tNAME\tSTATE") and second.startswith("ID\tNAME\tSTATE")
    assert r.out.endswith("\n") and r.code == 130


def test_watch_piped_table_writes_each_refresh_in_one_piece(
    flink, httpserver, cli, refreshes, monkeypatch
):
    """A Ctrl-C between two writes to stdout would leave a separator without its table."""
    import io

    from flinkctl.cli.common import watching
    from flinkctl.output.streams import IO

    class Frame(io.StringIO):
        pass

    written: list[str] = []
    original = IO.write

    def write(self, text: str) -> None:
        if not isinstance(self.out, Frame):
            written.append(text)
        original(self, text)

    monkeypatch.setattr(watching, "StringIO", Frame)
    monkeypatch.setattr(IO, "write", write)
    flink.serve(httpserver, "jobs-overview")
    refreshes(3)
    r = cli("jobs", "list", "-w", "0.1")
    assert "".join(written) == r.out and len(written) == 3
    assert written[0].startswith("ID\tNAME\tSTATE")
    assert all(piece.startswith("\nID\tNAME\tSTATE") for piece in written[1:])


def test_watch_yaml_separates_documents(flink, httpserver, cli, refreshes):
    flink.serve(httpserver, "taskmanagers")
    refreshes(2)
    r = cli("taskmanagers", "list", "-w", "0.1", "-o", "yaml")
    docs = list(yaml.safe_load_all(r.out))
    assert docs == [flink.body("taskmanagers")] * 2


@pytest.mark.parametrize(
    "args,interval",
    [(["-w"], 2.0), (["--watch"], 2.0), (["-w0.5"], 0.5), (["--watch=3"], 3.0), (["-w", "1"], 1.0)],
)
def test_watch_value_is_optional(flink, httpserver, cli, refreshes, args, interval):
    flink.serve(httpserver, "taskmanagers")
    slept = refreshes(1)
    r = cli("taskmanagers", "list", *args, "-o", "json")
    assert r.code == 130
    assert json.loads(r.out) == flink.body("taskmanagers")
    assert slept == [interval]


def test_bare_watch_before_the_job_argument(flink, httpserver, cli, refreshes):
    flink.serve(httpserver, "job")
    slept = refreshes(1)
    r = cli("jobs", "show", "-w", flink.ids["jobid"], "-o", "json")
    assert (r.code, r.json(), slept) == (130, flink.body("job"), [2.0])


@pytest.mark.parametrize(("given", "seconds"), [("2s", 2.0), ("1m", 60.0), ("1.5", 1.5)])
def test_watch_interval_is_a_duration(flink, httpserver, cli, refreshes, given, seconds):
    flink.serve(httpserver, "jobs-overview")
    slept = refreshes(1)
    r = cli("jobs", "list", "-w", given, "-o", "json")
    assert (r.code, r.err) == (130, "")
    assert slept == [seconds]


def test_watch_interval_below_minimum_is_a_usage_error(httpserver, cli):
    r = cli("jobs", "list", "--watch", "0.01")
    assert r.code == 2
    assert "0.01 is shorter than 0.1s" in r.err
    assert httpserver.log == []


def test_watch_live_view_on_a_terminal(flink, httpserver, cli, refreshes, monkeypatch):
    monkeypatch.setenv("FLINKCTL_FORCE_TTY", "1")
    monkeypatch.setenv("COLUMNS", "200")
    flink.serve(httpserver, "taskmanagers")
    refreshes(2)
    r = cli("taskmanagers", "list", "-w", "0.1")
    assert r.code == 130
    assert "Every 0.1s, last at " in r.out
    assert flink.ids["tmid"] in r.out
    assert "\t" not in r.out  # the Rich table, not the piped one


def test_watch_live_view_of_an_empty_list_shows_the_note_in_the_frame(
    flink, httpserver, cli, refreshes, monkeypatch
):
    monkeypatch.setenv("FLINKCTL_FORCE_TTY", "1")
    flink.expect(httpserver, "jobs-overview", body={"jobs": []}, always=True)
    refreshes(2)
    r = cli("jobs", "list", "-w", "0.1")
    assert r.code == 130
    assert "no jobs" in r.out and "no jobs" not in r.err


def test_watch_stops_on_errors_with_their_exit_code(flink, httpserver, cli, refreshes):
    flink.serve(httpserver, "job")
    refreshes(5)
    r = cli("jobs", "show", flink.ids["jobid"], "-w", "0.1", "-o", "json")
    assert r.code == 130
    httpserver.clear()
    flink.serve(httpserver, "job-not-found")
    r = cli("jobs", "show", "0123456789abcdef0123456789abcdef", "-w", "0.1", "-o", "json")
    assert (r.code, r.out) == (3, "")


# -- jobs show -------------------------------------------------------------------------------


def serve_show(flink, httpserver, exceptions: str = "job-exceptions") -> None:
    flink.serve(httpserver, "job", "job-busy-source", "job-busy-sink", exceptions)


def ratio(flink, name: str, metric: str) -> str:
    value = next(m["max"] for m in flink.body(name) if m["id"] == metric)
    return f"{value / 10:.0f}%"


def test_show_header_and_vertices_with_load(flink, httpserver, cli):
    serve_show(flink, httpserver)
    r = cli("jobs", "show", flink.ids["jobid"])
    assert (r.code, r.err) == (0, "")
    header, vertices = r.out.split("\n\n")
    fields = [" ".join(line.split()) for line in header.splitlines()]  # aligned: one space here
    assert f"ID: {flink.ids['jobid']}" in fields
    assert "State: RUNNING" in fields
    assert "Type: STREAMING" in fields
    assert "Parallelism: 1" in fields
    assert "Restarts: 0" in fields and "Last exception: -" in fields
    rows = [line.split("\t") for line in vertices.splitlines()]
    assert rows[0] == [
        "VERTEX", "PARALLELISM", "STATUS", "RECORDS IN", "RECORDS OUT", "BYTES IN", "BYTES OUT",
        "BUSY MAX", "BACKPRESSURED MAX",
    ]  # fmt: skip
    by_name = {row[0]: row for row in rows[1:]}
    source = by_name["Source: Sequence -> Timestamps -> Throttle"]
    sink = by_name["Count -> Drop -> Sink: Print"]
    assert source[7] == ratio(flink, "job-busy-source", "busyTimeMsPerSecond")
    assert sink[7] == ratio(flink, "job-busy-sink", "busyTimeMsPerSecond")
    assert sink[8] == ratio(flink, "job-busy-sink", "backPressuredTimeMsPerSecond")
    assert source[2] == "RUNNING"


def test_show_fans_out_one_request_per_vertex(flink, httpserver, cli):
    serve_show(flink, httpserver)
    cli("jobs", "show", flink.ids["jobid"])
    jid = flink.ids["jobid"]
    assert sorted(paths(httpserver)) == sorted(
        [f"/jobs/{jid}", f"/jobs/{jid}/exceptions"]
        + [
            f"/jobs/{jid}/vertices/{v['id']}/subtasks/metrics"
            for v in flink.body("job")["vertices"]
        ]
    )


def test_show_restarts_and_the_last_exception_on_one_line(flink, httpserver, cli):
    from flinkctl.flink import trace_summary

    serve_show(flink, httpserver, "job-exceptions-restarted")
    r = cli("jobs", "show", flink.ids["jobid"])
    entry = flink.body("job-exceptions-restarted")["exceptionHistory"]["entries"][0]
    fields = [" ".join(line.split()) for line in r.out.split("\n\n")[0].splitlines()]
    assert "Restarts: 1" in fields
    assert f"Last exception: {' '.join(trace_summary(entry['stacktrace']).split())}" in fields
    assert "no longer reachable" in r.out


def test_show_wide_adds_ids_and_header_fields(flink, httpserver, cli):
    serve_show(flink, httpserver)
    r = cli("jobs", "show", flink.ids["jobid"], "-o", "wide")
    assert "Max parallelism:" in r.out and "Scheduler:" in r.out
    assert flink.ids["sourcevertexid"] in r.out and flink.ids["vertexid"] in r.out


def test_show_load_not_reported_is_a_dash(flink, httpserver, cli):
    flink.serve(httpserver, "job", "job-exceptions")
    for name in ("job-busy-source", "job-busy-sink"):
        body = [m for m in flink.body(name) if m["id"] != "busyTimeMsPerSecond"]
        flink.serve(httpserver, name, body=body)
    r = cli("jobs", "show", flink.ids["jobid"])
    for row in r.out.split("\n\n")[1].splitlines()[1:]:
        assert row.split("\t")[7] == "-"


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_show_json_is_the_rest_body_without_fan_out(flink, httpserver, cli, fmt):
    serve_show(flink, httpserver)
    r = cli("jobs", "show", flink.ids["jobid"], "-o", fmt)
    assert (r.json() if fmt == "json" else yaml.safe_load(r.out)) == flink.body("job")
    assert paths(httpserver) == [f"/jobs/{flink.ids['jobid']}"]


def test_show_name_prints_the_id(flink, httpserver, cli):
    serve_show(flink, httpserver)
    assert cli("jobs", "show", flink.ids["jobid"], "-o", "name").out == flink.ids["jobid"] + "\n"


# -- status, plan, config --------------------------------------------------------------------


def test_status_json(flink, httpserver, cli):
    flink.serve(httpserver, "job-status")
    assert cli("jobs", "status", flink.ids["jobid"], "-o", "json").json() == flink.body(
        "job-status"
    )


def test_status_derived_where_the_endpoint_is_missing(flink, httpserver, cli):
    """A cluster without /jobs/:jobid/status answers 404 from its static-file handler."""
    missing = Recorded("1.20.5").record("job-rescales-overview")  # a path 1.20 does not have
    jid = flink.ids["jobid"]
    httpserver.expect_request(f"/jobs/{jid}/status").respond_with_json(missing["body"], status=404)
    flink.serve(httpserver, "job", "config")  # GET /config tells an old Flink from no Flink
    r = cli("jobs", "status", jid, "-o", "json")
    assert (r.code, r.json()) == (0, {"status": "RUNNING"})


def test_plan_tree(flink, httpserver, cli):
    flink.serve(httpserver, "job-plan")
    r = cli("jobs", "plan", flink.ids["jobid"])
    assert (r.code, r.err) == (0, "")
    assert r.out == (
        "flinkctl-demo (STREAMING)\n"
        "  Source: Sequence -> Timestamps -> Throttle  (parallelism 1)\n"
        "    HASH -> Count -> Drop -> Sink: Print  (parallelism 1)\n"
    )


def test_plan_wide_shows_ids_and_exchange(flink, httpserver, cli):
    flink.serve(httpserver, "job-plan")
    r = cli("jobs", "plan", flink.ids["jobid"], "-o", "wide")
    assert f"id {flink.ids['vertexid']}, exchange pipelined_bounded)" in r.out


def test_plan_dot(flink, httpserver, cli):
    flink.serve(httpserver, "job-plan")
    r = cli("jobs", "plan", flink.ids["jobid"], "-o", "dot")
    src, sink = flink.ids["sourcevertexid"], flink.ids["vertexid"]
    assert r.out.startswith('digraph "flinkctl-demo" {\n')
    assert (
        f'  "{src}" [label="Source: Sequence\\nTimestamps\\nThrottle\\nparallelism 1"];\n' in r.out
    )
    assert f'  "{src}" -> "{sink}" [label="HASH"];\n' in r.out
    assert r.out.endswith("}\n")


@pytest.mark.shells
def test_plan_dot_is_valid_graphviz(flink, httpserver, cli):
    """Needs Graphviz's `dot` on PATH (Debian package graphviz)."""
    import shutil
    import subprocess

    dot = shutil.which("dot")
    assert dot, "dot is missing: apt-get install graphviz (scripts/test does)"
    flink.serve(httpserver, "job-plan")
    r = cli("jobs", "plan", flink.ids["jobid"], "-o", "dot")
    proc = subprocess.run([dot, "-Tsvg"], input=r.out, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Sink: Print" in proc.stdout


def test_plan_json_and_query(flink, httpserver, cli):
    flink.serve(httpserver, "job-plan")
    assert cli("jobs", "plan", flink.ids["jobid"], "-o", "json").json() == flink.body("job-plan")
    r = cli("jobs", "plan", flink.ids["jobid"], "--query", "plan.nodes[].parallelism")
    assert r.out == "1\n1\n"  # a list of numbers: one per line
    r = cli("jobs", "plan", flink.ids["jobid"], "--query", "plan.nodes[].parallelism", "-o", "json")
    assert r.json() == [1, 1]


def test_plan_tree_of_a_dag_expands_shared_nodes_once(flink):
    """Two sources feeding one node: the node shows under both, its subtree once."""
    from flinkctl.output.plan import PLAN
    from flinkctl.output.render import Settings, render

    body = flink.body("job-plan")
    sink, source = sorted(body["plan"]["nodes"], key=lambda n: bool(n.get("inputs")), reverse=True)
    second = {**source, "id": "f" * 32, "description": "Source: Other<br/>"}
    sink = {
        **sink,
        "inputs": sink["inputs"] + [{**sink["inputs"][0], "id": second["id"], "num": 1}],
    }
    after = {
        **sink,
        "id": "e" * 32,
        "description": "After",
        "inputs": [{**sink["inputs"][0], "id": sink["id"]}],
    }
    plan = {"plan": {**body["plan"], "nodes": [after, sink, source, second]}}
    from flinkctl.output.streams import IO

    io = IO.strings()
    render(plan, PLAN, Settings(), io)
    assert io.out.getvalue().splitlines()[1:] == [
        "  Source: Sequence -> Timestamps -> Throttle  (parallelism 1)",
        "    HASH -> Count -> Drop -> Sink: Print  (parallelism 1)",
        "      HASH -> After  (parallelism 1)",
        "  Source: Other  (parallelism 1)",
        "    HASH -> Count -> Drop -> Sink: Print  (parallelism 1) (see above)",
    ]


def test_config(flink, httpserver, cli):
    flink.serve(httpserver, "job-config")
    r = cli("jobs", "config", flink.ids["jobid"])
    assert r.out.startswith(f"Job ID: {flink.ids['jobid']}\nName:   flinkctl-demo\n\nKEY\tVALUE\n")
    assert "job-parallelism\t1\n" in r.out
    assert "restart-strategy\tCluster level default restart strategy\n" in r.out
    assert cli("jobs", "config", flink.ids["jobid"], "-o", "json").json() == flink.body(
        "job-config"
    )


def test_jobmanager_config(flink, httpserver, cli):
    flink.serve(httpserver, "job-status", "job-jobmanager-config")
    body = flink.body("job-jobmanager-config")
    r = cli("jobs", "jobmanager-config", flink.ids["jobid"])
    assert r.out.splitlines()[0] == "KEY\tVALUE"
    assert len(r.out.splitlines()) == 1 + len(body)
    assert cli("jobs", "jobmanager-config", flink.ids["jobid"], "-o", "name").out.split() == [
        e["key"] for e in body
    ]
    assert cli("jobs", "jobmanager-config", flink.ids["jobid"], "-o", "json").json() == body


def test_jobmanager_config_of_a_job_flink_does_not_know_is_not_found(flink, httpserver, cli):
    """Flink answers GET /jobs/:jobid/jobmanager/config for any id (seen on 1.20.5 and 2.3.0)."""
    unknown = "0123456789abcdef0123456789abcdef"  # the id of the recorded answer
    flink.serve(httpserver, "job-not-found")
    not_found = flink.body("job-not-found")
    httpserver.expect_request(f"/jobs/{unknown}/status").respond_with_json(not_found, status=404)
    r = cli("jobs", "jobmanager-config", unknown)
    assert (r.code, r.out) == (3, "")
    assert r.err.startswith(f"error: Job {unknown} not found")
    assert [req.path for req, _ in httpserver.log] == [
        f"/jobs/{unknown}/status",
        f"/jobs/{unknown}",
    ]


# -- exceptions ------------------------------------------------------------------------------


def test_exceptions_table_has_time_task_location_and_first_line(flink, httpserver, cli):
    flink.serve(httpserver, "job-exceptions-restarted")
    entries = flink.body("job-exceptions-restarted")["exceptionHistory"]["entries"]
    assert entries, "recorded after a task manager was killed: the history has an entry"
    r = cli("jobs", "exceptions", flink.ids["jobid"])
    assert (r.code, r.err) == (0, "")
    lines = r.out.splitlines()
    assert lines[0] == "TIME\tTASK\tLOCATION\tEXCEPTION\tCONCURRENT"
    first = lines[1].split("\t")
    assert first[1] == entries[0]["taskName"]
    assert first[2] == entries[0]["endpoint"]
    assert first[3].endswith(
        "Exception: TaskManager with id " + entries[0]["taskManagerId"] + " is no longer reachable."
    )
    assert "\tat " not in r.out


def test_exceptions_wide_prints_full_traces(flink, httpserver, cli):
    flink.serve(httpserver, "job-exceptions-restarted")
    entry = flink.body("job-exceptions-restarted")["exceptionHistory"]["entries"][0]
    r = cli("jobs", "exceptions", flink.ids["jobid"], "-o", "wide")
    assert f"Task manager: {entry['taskManagerId']}\n" in r.out
    assert entry["stacktrace"].rstrip() in r.out


def test_exceptions_json_and_max(flink, httpserver, cli):
    flink.serve(httpserver, "job-exceptions", "job-exceptions-max")
    r = cli("jobs", "exceptions", flink.ids["jobid"], "-o", "json")
    assert r.json() == flink.body("job-exceptions")
    r = cli("jobs", "exceptions", flink.ids["jobid"], "--max", "1", "-o", "json")
    assert r.json() == flink.body("job-exceptions-max")
    assert httpserver.log[-1][0].args.to_dict() == {"maxExceptions": "1"}


def test_exceptions_max_must_be_positive(httpserver, cli):
    r = cli("jobs", "exceptions", "0123456789abcdef0123456789abcdef", "--max", "0")
    assert r.code == 2 and httpserver.log == []


# -- result ----------------------------------------------------------------------------------


def test_result_of_a_running_job(flink, httpserver, cli):
    flink.serve(httpserver, "job-execution-result")
    r = cli("jobs", "result", flink.ids["jobid"])
    assert (r.code, r.out, r.err) == (0, "Status: IN_PROGRESS\n", "")


def test_result_of_a_canceled_job(flink, httpserver, cli):
    flink.serve(httpserver, "job-execution-result-canceled")
    body = flink.body("job-execution-result-canceled")
    r = cli("jobs", "result", flink.ids["jobid"])
    assert r.code == 0
    assert f"Job ID:      {body['job-execution-result']['id']}\n" in r.out
    assert "Status:      CANCELED\n" in r.out
    assert cli("jobs", "result", flink.ids["jobid"], "-o", "json").json() == body


def test_result_of_a_failed_job_exits_1(flink, httpserver, cli):
    flink.serve(httpserver, "job-execution-result-failed")
    r = cli("jobs", "result", flink.ids["jobid"], "-o", "json")
    assert r.code == 1
    assert r.json() == flink.body("job-execution-result-failed")  # the result is still printed
    message = json.loads(r.err)["error"]["message"]
    assert message.startswith(
        f"job {flink.ids['jobid']} failed: JobException: Recovery is suppressed by "
        "NoRestartBackoffTimeStrategy; caused by: "  # the deepest cause, on the same line
    )
    assert message.endswith("is no longer reachable.")
    r = cli("jobs", "result", flink.ids["jobid"])
    assert "Status:      FAILED\n" in r.out
    assert "Failure:     JobException: Recovery is suppressed by NoRestart" in r.out


def test_result_wait_polls_until_completed(flink, cli, expect):
    expect("job-execution-result", ordered=True)
    expect("job-execution-result", ordered=True)
    expect("job-execution-result", ordered=True, answer="job-execution-result-canceled")
    r = cli("jobs", "result", flink.ids["jobid"], "--wait", "-o", "json")
    assert (r.code, r.json()) == (0, flink.body("job-execution-result-canceled"))


def test_result_wait_times_out_with_exit_8_and_a_resume_hint(flink, httpserver, cli):
    flink.serve(httpserver, "job-execution-result")
    r = cli("jobs", "result", flink.ids["jobid"], "--wait", "--timeout", "0.2")
    assert (r.code, r.out) == (8, "")
    assert f"error: job {flink.ids['jobid']} still in progress after 0.2s" in r.err
    assert f"jobs result {flink.ids['jobid']} --wait" in r.err


# -- accumulators, metrics, log urls ---------------------------------------------------------


def test_accumulators(flink, httpserver, cli):
    flink.serve(httpserver, "job-accumulators")
    r = cli("jobs", "accumulators", flink.ids["jobid"])
    assert (r.code, r.out.splitlines()[0]) == (0, "NAME\tTYPE\tVALUE")
    assert cli("jobs", "accumulators", flink.ids["jobid"], "-o", "json").json() == flink.body(
        "job-accumulators"
    )


def test_accumulators_include_serialized(flink, httpserver, cli):
    flink.serve(httpserver, "job-accumulators-serialized")
    r = cli("jobs", "accumulators", flink.ids["jobid"], "--include-serialized", "-o", "wide")
    assert (r.code, r.out.splitlines()[0]) == (0, "NAME\tTYPE\tVALUE\tSCOPE\tSERIALIZED")
    assert httpserver.log[0][0].args.to_dict() == {"includeSerializedValue": "true"}


def test_accumulator_rows(flink):
    from flinkctl.output.jobs import JOB_ACCUMULATORS

    body = {**flink.body("job-accumulators-serialized")}
    body["user-task-accumulators"] = [{"name": "rows", "type": "LongCounter", "value": "12"}]
    body["serialized-user-task-accumulators"] = {"rows": "rO0ABXNy"}
    assert JOB_ACCUMULATORS.rows(body) == [
        {
            "name": "rows",
            "type": "LongCounter",
            "value": "12",
            "scope": "task",
            "serialized": "rO0ABXNy",
        }
    ]


def test_metrics_lists_ids_over_all_jobs(flink, httpserver, cli):
    flink.serve(httpserver, "jobs-metrics")
    r = cli("jobs", "metrics")
    assert r.out.split() == ["METRIC"] + [m["id"] for m in flink.body("jobs-metrics")]


def test_metrics_aggregated_over_jobs(flink, httpserver, cli):
    flink.serve(httpserver, "jobs-metrics-agg")
    r = cli("jobs", "metrics", "--get", "uptime,numRestarts", "-o", "json")
    assert (r.code, r.json()) == (0, flink.body("jobs-metrics-agg"))


def test_metrics_jobs_filter_resolves_names(flink, httpserver, cli):
    serve_overview(flink, httpserver, demo_entry(flink))
    flink.serve(httpserver, "jobs-metrics-filtered")
    r = cli(
        "jobs",
        "metrics",
        "--get",
        "uptime",
        "--agg",
        "max",
        "--jobs",
        "flinkctl-demo",
        "-o",
        "json",
    )
    assert (r.code, r.json()) == (0, flink.body("jobs-metrics-filtered"))


def test_metrics_of_one_job(flink, httpserver, cli):
    flink.serve(httpserver, "job-metrics-values", "job-metrics", "job-metrics-uptime")
    r = cli("jobs", "metrics", flink.ids["jobid"], "--get", "uptime,numRestarts")
    assert r.out.splitlines()[0] == "METRIC\tVALUE"
    assert sorted(r.out.splitlines()[1:]) == sorted(
        f"{m['id']}\t{m['value']}" for m in flink.body("job-metrics-values")
    )
    r = cli("jobs", "metrics", flink.ids["jobid"], "--get", "upt*", "-o", "json")
    assert r.json() == flink.body("job-metrics-uptime")


def test_metrics_jobs_filter_needs_no_job(httpserver, cli):
    r = cli("jobs", "metrics", "0123456789abcdef0123456789abcdef", "--jobs", "x")
    assert r.code == 2 and httpserver.log == []


def test_log_urls(flink, httpserver, cli):
    flink.serve(httpserver, "job-log-url", "job-taskmanager-log-url", "taskmanagers")
    r = cli("jobs", "log-url", flink.ids["jobid"])
    assert (r.code, r.out) == (0, flink.body("job-log-url")["url"] + "\n")
    r = cli("jobs", "log-url", flink.ids["jobid"], "--taskmanager", flink.ids["tmid"][:6])
    assert r.out == flink.body("job-taskmanager-log-url")["url"] + "\n"
    r = cli("jobs", "log-url", flink.ids["jobid"], "-o", "json")
    assert r.json() == flink.body("job-log-url")


def serve_job_taskmanagers(flink, httpserver, tms: list[str], unknown: tuple = ()) -> None:
    """The job, and each of its vertices running on TMS, the registered task managers, and on
    UNKNOWN ones (the recorded bodies, their task manager entry repeated with each id)."""
    flink.serve(httpserver, "job")
    registered = flink.body("taskmanagers")
    entry = registered["taskmanagers"][0]
    listing = [{**entry, "id": tm} for tm in tms]
    flink.serve(httpserver, "taskmanagers", body={**registered, "taskmanagers": listing})
    body = flink.body("vertex-taskmanagers")
    entry = body["taskmanagers"][0]
    listed = [{**entry, "taskmanager-id": tm} for tm in (*tms, *unknown)]
    body = {**body, "taskmanagers": listed}
    for vertex in flink.body("job")["vertices"]:
        path = f"/jobs/{flink.ids['jobid']}/vertices/{vertex['id']}/taskmanagers"
        httpserver.expect_request(path).respond_with_json(body)


def test_job_logs_print_the_main_log_of_its_taskmanager(flink, httpserver, cli):
    """One task manager runs the job: its main log as it is, no prefix. A subtask not deployed
    (Flink lists it under "(unassigned)") or on a task manager gone since adds none."""
    text = flink.body("taskmanager-log")["text"]
    gone = flink.ids["tmid"][:-6] + "f" * 6
    serve_job_taskmanagers(flink, httpserver, [flink.ids["tmid"]], ("(unassigned)", gone))
    flink.expect(httpserver, "taskmanager-log")
    r = cli("jobs", "logs", flink.ids["jobid"])
    assert (r.code, r.out, r.err) == (0, text, "")


def test_job_logs_of_several_taskmanagers_are_prefixed(flink, httpserver, cli):
    tm = flink.ids["tmid"]
    other = tm[:-6] + "0" * 6  # a second task manager, as a two-TM cluster has
    text = flink.body("taskmanager-log")["text"]
    serve_job_taskmanagers(flink, httpserver, [tm, other])
    flink.serve(httpserver, "taskmanager-log")
    httpserver.expect_request(f"/taskmanagers/{other}/log").respond_with_data("second\nlog")
    r = cli("jobs", "logs", flink.ids["jobid"], "--tail", "2")
    last_two = text.splitlines()[-2:]
    assert (r.code, r.err) == (0, "")
    assert r.out.splitlines() == [
        *(f"[{tm}] {line}" for line in last_two),
        f"[{other}] second",
        f"[{other}] log",
    ]


def test_job_logs_of_one_vertex(flink, httpserver, cli):
    """--vertex asks that vertex's task managers only (every other stub would go unused)."""
    jid, vid = flink.ids["jobid"], flink.ids["vertexid"]
    flink.serve(httpserver, "job", "taskmanagers")
    flink.expect(httpserver, "vertex-taskmanagers")
    flink.expect(httpserver, "taskmanager-log")
    vertex_name = next(v["name"] for v in flink.body("job")["vertices"] if v["id"] == vid)
    r = cli("jobs", "logs", jid, "--vertex", vertex_name, "--tail", "1")
    assert (r.code, r.err) == (0, "")
    assert r.out == flink.body("taskmanager-log")["text"].splitlines(keepends=True)[-1]


def test_job_logs_without_taskmanagers_is_exit_3(flink, httpserver, cli):
    serve_job_taskmanagers(flink, httpserver, [])
    r = cli("jobs", "logs", flink.ids["jobid"])
    assert (r.code, r.out) == (3, "")
    assert r.err == f"error: no task manager runs job {flink.ids['jobid']} (RUNNING)\n"


# -- rescales --------------------------------------------------------------------------------


@pytest.mark.flink(before="2.3")
def test_rescales_need_flink_2_3(flink, httpserver, cli):
    flink.serve(httpserver, "config")
    r = cli("jobs", "rescales", flink.ids["jobid"])
    assert (r.code, r.out) == (1, "")
    assert r.err == (
        f"error: rescale history needs Flink 2.3 or newer (this cluster runs {flink.version})\n"
    )


@ADAPTIVE
def test_rescales_without_the_adaptive_scheduler(flink, httpserver, cli):
    flink.serve(httpserver, "config", "job-rescales-overview", "job-rescales-config")
    for args in ([], ["--config"]):
        r = cli("jobs", "rescales", flink.ids["jobid"], *args)
        assert (r.code, r.out) == (1, "")
        assert "does not run the adaptive scheduler" in r.err
        assert "hint: set jobmanager.scheduler: adaptive" in r.err


@ADAPTIVE
def test_rescales_overview(flink, httpserver, cli):
    flink.serve(httpserver, "config", "job-rescales-overview-adaptive")
    body = flink.body("job-rescales-overview-adaptive")
    r = cli("jobs", "rescales", flink.ids["jobid"])
    assert r.code == 0
    assert r.out.startswith(f"Completed:   {body['rescalesCounts']['completed']}\nIn progress: 0\n")
    latest = body["latest"]["completed"]
    assert (
        f"completed\t{latest['rescaleUuid']}\tUPDATE_REQUIREMENT\tCOMPLETED\tSUCCEEDED\t" in r.out
    )
    assert cli("jobs", "rescales", flink.ids["jobid"], "-o", "json").json() == body


@ADAPTIVE
def test_rescales_history(flink, httpserver, cli):
    flink.serve(httpserver, "config", "job-rescales-history-adaptive")
    body = flink.body("job-rescales-history-adaptive")
    r = cli("jobs", "rescales", flink.ids["jobid"], "--history", "-o", "name")
    assert r.out.split() == [h["rescaleUuid"] for h in body]
    r = cli("jobs", "rescales", flink.ids["jobid"], "--history")
    assert r.out.splitlines()[0] == "UUID\tTRIGGER\tSTATE\tREASON\tSTART\tDURATION"
    assert "INITIAL_SCHEDULE" in r.out


@ADAPTIVE
def test_rescales_summary_and_config(flink, httpserver, cli):
    flink.serve(
        httpserver, "config", "job-rescales-summary-adaptive", "job-rescales-config-adaptive"
    )
    r = cli("jobs", "rescales", flink.ids["jobid"], "--summary")
    assert "DURATIONS\tMIN\tAVG\tP50\tP90\tP99\tMAX\n" in r.out
    assert "\nignored\t0ms\t0ms\tNaN\tNaN\tNaN\t0ms\n" in r.out
    r = cli("jobs", "rescales", flink.ids["jobid"], "--config")
    assert "executingCooldownTimeoutInMillis\t30.0s\n" in r.out
    assert "rescaleHistoryMax\t10\n" in r.out
    r = cli("jobs", "rescales", flink.ids["jobid"], "--config", "-o", "yaml")
    assert yaml.safe_load(r.out) == flink.body("job-rescales-config-adaptive")


@ADAPTIVE
def test_rescale_details(flink, httpserver, cli):
    flink.serve(httpserver, "config", "job-rescales-details-adaptive")
    body = flink.body("job-rescales-details-adaptive")
    r = cli("jobs", "rescales", flink.ids["jobid"], "--details", body["rescaleUuid"])
    assert r.code == 0
    assert r.out.splitlines()[0].split() == ["UUID:", body["rescaleUuid"]]
    assert "Count -> Drop -> Sink: Print\t2\t1\t1\t2\n" in r.out
    assert "SCHEDULER STATE\tENTERED\tDURATION\n" in r.out
    r = cli("jobs", "rescales", flink.ids["jobid"], "--details", body["rescaleUuid"], "-o", "wide")
    assert (
        "SLOT SHARING GROUP\tDESIRED SLOTS\tMINIMAL\tBEFORE\tAFTER\ndefault\t2\t1\t1\t2\n" in r.out
    )


def test_rescales_one_choice_only(httpserver, cli):
    r = cli("jobs", "rescales", "0123456789abcdef0123456789abcdef", "--history", "--summary")
    assert (r.code, r.err) == (
        2,
        "error: choose one of --history, --summary, --config, --details\n",
    )
    assert httpserver.log == []


@pytest.mark.parametrize("value", ["cb4e2d4c", "x", "CB4E2D4C54C97FD3B4FB1B80E4FD7860"])
def test_rescale_details_takes_a_full_id(httpserver, cli, value):
    """A prefix or a typo was sent to Flink, which answered with a long parse error (exit 1)."""
    r = cli("jobs", "rescales", "0123456789abcdef0123456789abcdef", "--details", value)
    assert (r.code, r.out) == (2, "")
    assert r.err.splitlines() == [
        f"error: --details takes a rescale's full id (32 hex characters), not {value!r}",
        "hint: the ids: flinkctl jobs rescales JOB --history",
    ]
    assert httpserver.log == []
