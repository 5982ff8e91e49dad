"""cluster / jobmanager / taskmanagers commands against recorded responses of real clusters."""

import json

import pytest
import yaml

pytestmark = pytest.mark.inprocess

READS = [
    # (argv, recorded fixture)
    (("cluster", "overview"), "overview"),
    (("cluster", "config"), "config"),
    (("jobmanager", "config"), "jobmanager-config"),
    (("jobmanager", "environment"), "jobmanager-environment"),
    (("jobmanager", "metrics"), "jobmanager-metrics"),
    (("jobmanager", "logs", "--list"), "jobmanager-logs"),
    (("jobmanager", "thread-dump"), "jobmanager-thread-dump"),
    (("taskmanagers", "list"), "taskmanagers"),
]


@pytest.mark.parametrize("argv, name", READS, ids=[" ".join(a) for a, _ in READS])
@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_json_and_yaml_are_the_rest_body(flink, httpserver, cli, argv, name, fmt):
    flink.serve(httpserver, name, "config")
    r = cli(*argv, "-o", fmt)
    assert r.code == 0, r.err
    assert r.err == ""
    parsed = json.loads(r.out) if fmt == "json" else yaml.safe_load(r.out)
    assert parsed == flink.body(name)


@pytest.mark.parametrize("argv, name", READS, ids=[" ".join(a) for a, _ in READS])
def test_tables_render(flink, httpserver, cli, argv, name):
    flink.serve(httpserver, name, "config")
    r = cli(*argv)
    assert r.code == 0, r.err
    assert r.out.strip()
    assert "\x1b[" not in r.out  # piped: no colour codes
    wide = cli(*argv, "-o", "wide")
    assert wide.code == 0
    assert len(wide.out) >= len(r.out)


def test_overview_table_humanises(flink, httpserver, cli):
    flink.serve(httpserver, "overview")
    body = flink.body("overview")
    r = cli("cluster", "overview")
    assert f"Flink version:   {body['flink-version']}" in r.out
    assert f"Slots available: {body['slots-available']}" in r.out


def test_taskmanagers_list_table_and_names(flink, httpserver, cli):
    flink.serve(httpserver, "taskmanagers")
    tm = flink.body("taskmanagers")["taskmanagers"][0]
    r = cli("tm", "list")
    header, row = r.out.splitlines()[:2]
    assert header.split("\t")[:3] == ["ID", "ADDRESS", "SLOTS"]
    cells = row.split("\t")
    assert cells[0] == tm["id"]
    assert cells[2] == f"{tm['freeSlots']}/{tm['slotsNumber']} free"
    assert "GiB" in cells[4]
    assert cli("tm", "list", "-o", "name").out == tm["id"] + "\n"


def test_taskmanager_show_by_prefix(flink, httpserver, cli):
    flink.serve(httpserver, "taskmanagers", "taskmanager")
    r = cli("tm", "show", flink.ids["tmid"][:5])
    assert r.code == 0, r.err
    assert f"ID:              {flink.ids['tmid']}" in r.out
    assert "Total process" in r.out and "JVM heap" in r.out
    assert cli("tm", "show", flink.ids["tmid"], "-o", "json").json() == flink.body("taskmanager")


def test_taskmanager_unknown_is_not_found(flink, httpserver, cli):
    flink.serve(httpserver, "taskmanagers")
    r = cli("tm", "show", "zzz")
    assert (r.code, r.out) == (3, "")
    assert r.err == "error: task manager 'zzz' not found\n"


def test_taskmanager_gone_between_list_and_show_is_not_found(flink, httpserver, cli):
    # The recorded 500 + UnknownTaskExecutorException of a real cluster maps to exit 3.
    flink.serve(httpserver, "taskmanager-not-found")
    flink.serve(httpserver, "taskmanagers", body={"taskmanagers": [{"id": "no-such-taskmanager"}]})
    r = cli("tm", "show", "no-such-taskmanager")
    assert r.code == 3
    assert r.err == "error: No TaskExecutor registered under no-such-taskmanager.\n"


def test_metrics_values_and_globs(flink, httpserver, cli):
    flink.serve(httpserver, "jobmanager-metrics", "jobmanager-metrics-heap")
    r = cli("jm", "metrics", "--get", "Status.JVM.Memory.Heap.Used,Status.JVM.Memory.Heap.Max")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "METRIC\tVALUE"
    assert {ln.split("\t")[0] for ln in lines[1:]} == {
        "Status.JVM.Memory.Heap.Used",
        "Status.JVM.Memory.Heap.Max",
    }
    names = cli("jm", "metrics", "-o", "name").out.splitlines()
    assert names == [m["id"] for m in flink.body("jobmanager-metrics")]
    r = cli("jm", "metrics", "--get", "No.Such.*")
    assert (r.code, r.out) == (2, "")
    assert "no metric matches" in r.err


def test_taskmanager_metrics_aggregated(flink, httpserver, cli):
    flink.serve(httpserver, "taskmanagers-metrics-agg")
    r = cli(
        "tm", "metrics", "--get", "Status.JVM.CPU.Load", "--agg", "min,max,avg,sum", "-o", "json"
    )
    assert r.code == 0, r.err
    assert r.json() == flink.body("taskmanagers-metrics-agg")
    r = cli("tm", "metrics", "--get", "x", "--agg", "median")
    assert r.code == 2 and "unknown aggregation 'median'" in r.err


def tail(text: str, n: int) -> str:
    return "".join(text.splitlines(keepends=True)[-n:])


def test_jobmanager_logs_print_the_main_log(flink, httpserver, cli):
    """GET /jobmanager/log, which Flink serves though its OpenAPI spec omits it."""
    text = flink.body("jobmanager-log")["text"]
    flink.serve(httpserver, "jobmanager-log")
    r = cli("jm", "logs")
    assert (r.code, r.out, r.err) == (0, text, "")
    assert "org.apache.flink.runtime.entrypoint" in r.out
    r = cli("jm", "logs", "--tail", "3")
    assert (r.code, r.out) == (0, tail(text, 3))
    assert len(r.out.splitlines()) == 3


def test_logs_list_lists_the_files(flink, httpserver, cli):
    flink.serve(httpserver, "jobmanager-logs")
    names = cli("jm", "logs", "--list", "-o", "name").out.splitlines()
    assert names == [f["name"] for f in flink.body("jobmanager-logs")["logs"]]
    for extra in (["jobmanager.log"], ["--tail", "3"], ["-f"]):
        r = cli("jm", "logs", "--list", *extra)
        assert (r.code, r.out) == (2, "")
        assert r.err.startswith("error: --list takes no file NAME, --tail or --follow")


def test_jobmanager_log_file_missing_is_exit_3_with_a_hint(flink, httpserver, cli):
    flink.serve(httpserver, "jobmanager-log-missing")
    r = cli("jm", "logs", "jobmanager.log")
    assert (r.code, r.out) == (3, "")
    assert r.err == (
        "error: This file does not exist in JobManager log dir.\n"
        "hint: list its log files: flinkctl jobmanager logs --list\n"
    )


def test_taskmanager_logs_print_the_main_log(flink, httpserver, cli):
    tm = flink.ids["tmid"]
    text = flink.body("taskmanager-log")["text"]
    flink.serve(httpserver, "taskmanagers", "taskmanager-log")
    r = cli("tm", "logs", tm.split(":")[0])  # a unique prefix
    assert (r.code, r.out, r.err) == (0, text, "")
    assert "org.apache.flink.runtime.taskexecutor" in r.out
    r = cli("tm", "logs", tm, "--tail", "2")
    assert (r.code, r.out) == (0, tail(text, 2))


def test_taskmanager_log_flink_cannot_transfer_is_exit_3_with_a_hint(flink, httpserver, cli):
    """The old help example: standalone task managers have no file named taskmanager.log, and
    Flink answers 500 "Failed to transfer file from TaskExecutor"."""
    tm = flink.ids["tmid"]
    flink.serve(httpserver, "taskmanagers", "taskmanager-log-missing")
    assert "Failed to transfer file" in str(flink.body("taskmanager-log-missing"))
    r = cli("tm", "logs", tm, "taskmanager.log")
    assert (r.code, r.out) == (3, "")
    assert r.err == (
        f"error: task manager {tm} cannot send log file 'taskmanager.log'\n"
        f"hint: list its log files: flinkctl taskmanagers logs {tm} --list\n"
    )
    r = cli("tm", "logs", tm, "taskmanager.log", "-o", "json")
    error = json.loads(r.err)["error"]
    assert (r.code, error["kind"], error["status"]) == (3, "not-found", 500)


def test_follow_prints_what_the_log_adds(flink, httpserver, cli, monkeypatch):
    """--follow without a file name: the main log, then its new lines every interval; Ctrl-C
    (here, the third sleep) ends it with exit 130."""
    from flinkctl.cli.common import logs

    text = flink.body("jobmanager-log")["text"]
    for answer in (text, text + "added 1\n", text + "added 1\nadded 2\n"):
        httpserver.expect_ordered_request("/jobmanager/log").respond_with_data(answer)
    sleeps = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(logs.time, "sleep", sleep)
    r = cli("jm", "logs", "--tail", "1", "-f")
    assert (r.code, r.out) == (130, tail(text, 1) + "added 1\nadded 2\n")


def test_environment_needs_1_16(flink, httpserver, cli):
    cfg = dict(flink.body("config"), **{"flink-version": "1.15.4"})  # recorded body, older version
    flink.serve(httpserver, "config", body=cfg)
    r = cli("jm", "environment")
    assert (r.code, r.out) == (1, "")
    assert "needs Flink 1.16 or newer" in r.err


def test_shutdown_requires_yes_without_terminal(httpserver, cli):
    r = cli("cluster", "shutdown")
    assert r.code == 2
    assert "pass --yes" in r.err
    assert httpserver.log == []
    httpserver.expect_oneshot_request("/cluster", method="DELETE").respond_with_data("", status=200)
    r = cli("cluster", "shutdown", "--yes")
    assert r.code == 0, r.err


def test_empty_list_is_success(httpserver, cli):
    # A cluster with no task managers answers an empty list.
    httpserver.expect_request("/taskmanagers").respond_with_json({"taskmanagers": []})
    r = cli("tm", "list", "-o", "json")
    assert (r.code, r.json()) == (0, {"taskmanagers": []})
    assert cli("tm", "list", "-o", "name").out == ""


def test_custom_columns(flink, httpserver, cli):
    flink.serve(httpserver, "taskmanagers")
    tm = flink.body("taskmanagers")["taskmanagers"][0]
    r = cli("tm", "list", "-o", "custom-columns=ID:id,FREE:freeSlots,CORES:hardware.cpuCores")
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        "ID\tFREE\tCORES",
        f"{tm['id']}\t{tm['freeSlots']}\t{tm['hardware']['cpuCores']}",
    ]


def test_custom_columns_on_a_single_object_and_with_commas_inside(flink, httpserver, cli):
    flink.serve(httpserver, "overview")
    body = flink.body("overview")
    spec = "VERSION:\"flink-version\",JOBS:join(',', [to_string(\"jobs-running\"), 'x'])"
    r = cli("cluster", "overview", "-o", f"custom-columns={spec}")
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        "VERSION\tJOBS",
        f"{body['flink-version']}\t{body['jobs-running']},x",
    ]


def test_bad_custom_columns_and_queries_exit_2_before_any_request(httpserver, cli):
    for output in ("custom-columns=ID", "custom-columns=ID:jobs[", "custom-columns="):
        r = cli("tm", "list", "-o", output)
        assert (r.code, r.out) == (2, ""), output
        assert r.err.startswith("error: invalid "), r.err
    r = cli("tm", "list", "--query", "taskmanagers[")
    assert r.code == 2 and "invalid --query expression" in r.err
    assert httpserver.log == []


def test_query_prints_strings_bare_unless_json_or_yaml_is_asked_for(flink, httpserver, cli):
    flink.serve(httpserver, "taskmanagers")
    tms = flink.body("taskmanagers")["taskmanagers"]
    ids = [t["id"] for t in tms]
    r = cli("tm", "list", "--query", "taskmanagers[].id")  # a list of strings: one per line
    assert (r.code, r.out, r.err) == (0, "".join(f"{i}\n" for i in ids), "")
    assert cli("tm", "list", "--query", "taskmanagers[0].id").out == f"{ids[0]}\n"
    assert cli("tm", "list", "--query", "taskmanagers[].slotsNumber").out.split() == [
        str(t["slotsNumber"]) for t in tms
    ]
    assert cli("tm", "list", "--query", "taskmanagers[?id=='none'].id").out == ""
    assert cli("tm", "list", "--query", "taskmanagers[].id", "-o", "json").json() == ids
    assert cli("-o", "json", "tm", "list", "--query", "taskmanagers[0].id").json() == ids[0]
    yaml_out = cli("tm", "list", "--query", "taskmanagers[].id", "-o", "yaml").out
    assert yaml_out == "".join(f"- {i}\n" for i in ids)
    # objects stay JSON; a kebab-case key is quoted as the help says
    r = cli("tm", "list", "--query", 'taskmanagers[0].{id: id, mem: hardware."physicalMemory"}')
    assert r.json() == {"id": ids[0], "mem": tms[0]["hardware"]["physicalMemory"]}
