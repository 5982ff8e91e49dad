"""The HTTP layer: auth, headers, path prefix, retries, timeouts, error mapping, verbose log."""

import json
import socket
from dataclasses import replace

import pytest
from conftest import FaultServer

from flinkctl import __version__
from flinkctl.client import FlinkClient
from flinkctl.config import Auth, Context
from flinkctl.errors import NotFoundError, UnreachableError, UsageError


def client_for(httpserver, **ctx) -> FlinkClient:
    return FlinkClient(Context(name="t", url=httpserver.url_for("").rstrip("/"), **ctx))


def test_user_agent_headers_and_bearer_from_env(flink, httpserver, monkeypatch):
    monkeypatch.setenv("TOK", "s3cret")
    flink.serve(
        httpserver,
        "overview",
        headers={
            "User-Agent": f"flinkctl/{__version__}",
            "Authorization": "Bearer s3cret",
            "X-Team": "data",
        },
    )
    c = client_for(httpserver, auth=Auth("bearer", "-env", "TOK"), headers={"X-Team": "data"})
    assert c.overview() == flink.body("overview")


@pytest.mark.parametrize("source", ["inline", "file", "command"])
def test_basic_auth_secret_sources(flink, httpserver, tmp_path, source):
    secret_file = tmp_path / "pw"
    secret_file.write_text("pa55\n")
    auth = {
        "inline": Auth("basic", "", "pa55"),
        "file": Auth("basic", "-file", str(secret_file)),
        "command": Auth("basic", "-command", f"cat {secret_file}"),
    }[source]
    flink.serve(httpserver, "overview", headers={"Authorization": "Basic dTpwYTU1"})  # u:pa55
    c = client_for(httpserver, auth=replace(auth, username="u"))
    assert c.overview()["flink-version"] == flink.body("overview")["flink-version"]


def test_path_prefix_for_reverse_proxies(flink, httpserver):
    rec = flink.record("overview")
    httpserver.expect_request("/gateway/flink/overview").respond_with_json(rec["body"])
    c = FlinkClient(Context(name="t", url=httpserver.url_for("/gateway/flink")))
    assert c.overview() == rec["body"]


def test_get_retries_through_503(flink, httpserver, expect):
    for _ in range(2):
        expect("overview", ordered=True, body="busy", status=503)
    expect("overview", ordered=True)
    assert client_for(httpserver).overview() == flink.body("overview")


def test_brief_requests_are_tried_once_and_time_out_soon(flink, httpserver, expect):
    """What an interrupted deploy's report asks: a 503 is not retried, and an answer that does
    not come within the brief timeout is given up (the context allows 30 s and retries)."""
    import threading
    import time

    expect("overview", body="busy", status=503)
    client = client_for(httpserver, timeout=30.0)
    with client.http.brief(0.3), pytest.raises(UnreachableError):
        client.overview()
    assert len(httpserver.log) == 1
    release = threading.Event()
    with FaultServer(lambda method, path, body: ("hang", release)) as server:
        slow = FlinkClient(Context(name="t", url=server.url, timeout=30.0))
        began = time.monotonic()
        try:
            with slow.http.brief(0.3), pytest.raises(UnreachableError):
                slow.overview()
        finally:
            release.set()
    assert time.monotonic() - began < 2
    assert len(server.log) == 1


def test_post_is_never_retried_blindly(httpserver):
    httpserver.expect_oneshot_request("/cluster", method="DELETE").respond_with_data("", status=503)
    with pytest.raises(UnreachableError):  # not Flink's answer: a gateway's, exit 5
        client_for(httpserver).shutdown_cluster()
    assert len(httpserver.log) == 1


def test_recorded_404_maps_to_not_found(flink, httpserver):
    flink.serve(httpserver, "job-not-found")
    with pytest.raises(NotFoundError) as info:
        client_for(httpserver).job("0123456789abcdef0123456789abcdef")
    assert info.value.message == "Job 0123456789abcdef0123456789abcdef not found"
    assert info.value.status == 404
    assert "at org.apache.flink" in info.value.flink[0]  # the trace is kept for --debug


@pytest.mark.parametrize("status", [401, 403])
def test_proxy_auth_refusal_exits_4(httpserver, cli, status):
    httpserver.expect_request("/overview").respond_with_data("<html>denied</html>", status=status)
    r = cli("cluster", "overview")
    assert (r.code, r.out) == (4, "")
    assert r.err.startswith(f"error: GET /overview: {status}")
    assert "hint: check the context's auth settings" in r.err


def test_connection_refused_exits_5(cli):
    r = cli("cluster", "overview", url="http://127.0.0.1:1")
    assert (r.code, r.out) == (5, "")
    assert r.err.splitlines()[0] == (
        "error: cannot reach http://127.0.0.1:1: [Errno 111] Connection refused"
    )
    assert "Traceback" not in r.err


def test_tls_handshake_failure_exits_5(httpserver, cli):
    httpserver.expect_request("/overview").respond_with_json({})
    r = cli("cluster", "overview", url=httpserver.url_for("").replace("http://", "https://"))
    assert r.code == 5
    assert r.err.startswith("error: cannot reach https://")


def test_read_timeout_exits_5(tmp_path, cli):
    # A server that accepts the connection and never answers.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    port = sock.getsockname()[1]
    (tmp_path / "config.yaml").write_text(
        f"current-context: slow\ncontexts:\n  slow: {{url: 'http://127.0.0.1:{port}', timeout: 0.2}}\n"
    )
    try:
        r = cli("cluster", "overview", url="")
    finally:
        sock.close()
    assert r.code == 5
    assert "no answer in time" in r.err


def test_server_error_exits_1_and_debug_shows_flink_trace(flink, httpserver, cli):
    body = {
        "errors": [
            "Internal server error.",
            "<Exception on server side:\njava.lang.IllegalStateException: boom\n\tat x.Y(Y.java:1)\n\nEnd of exception on server side>",
        ]
    }
    httpserver.expect_request("/overview").respond_with_json(body, status=500)
    r = cli("cluster", "overview")
    assert (r.code, r.out) == (1, "")
    assert r.err == "error: Flink failed GET /overview: boom\n"
    r = cli("--debug", "cluster", "overview")
    assert "at x.Y(Y.java:1)" in r.err
    assert "Traceback" in r.err


def test_json_error_object_on_stderr(flink, httpserver, cli):
    flink.serve(httpserver, "job-not-found")
    r = cli("jobs", "show", "0123456789abcdef0123456789abcdef", "-o", "json")
    assert (r.code, r.out) == (3, "")
    err = json.loads(r.err)["error"]
    assert err["code"] == 3 and err["kind"] == "not-found" and err["status"] == 404
    assert err["message"] == "Job 0123456789abcdef0123456789abcdef not found"


def test_non_json_body_is_a_clear_error(httpserver, cli):
    httpserver.expect_request("/overview").respond_with_data("<html>hello</html>")
    r = cli("cluster", "overview")
    assert r.code == 5  # not Flink's REST API: the cluster was not reached
    assert "no Flink REST API at" in r.err and "answers with an HTML page" in r.err
    assert "hint: check the URL" in r.err and "rest.port" in r.err


def test_verbose_logs_requests_without_secrets(flink, httpserver, cli, tmp_path):
    flink.serve(httpserver, "overview")
    url = httpserver.url_for("").rstrip("/")
    (tmp_path / "config.yaml").write_text(
        f"current-context: a\ncontexts:\n  a: {{url: '{url}', auth: {{type: bearer, token: tok-123}}}}\n"
    )
    r = cli("-v", "cluster", "overview", "-o", "json", url="")
    assert r.code == 0
    assert f"GET {url}/overview -> 200 (" in r.err
    assert "tok-123" not in r.err
    assert json.loads(r.out) == flink.body("overview")


def test_unknown_output_format_is_usage_error(cli):
    r = cli("cluster", "overview", "-o", "xml")
    assert (r.code, r.out) == (2, "")
    assert "unknown output format 'xml'" in r.err


def test_output_formats_say_what_they_are():
    from flinkctl.output import FORMATS, OutputFormat, Settings

    human = {f for f in OutputFormat if f.is_human}
    documents = {f for f in OutputFormat if f.is_document}
    assert human == {OutputFormat.TABLE, OutputFormat.WIDE}
    assert documents == {OutputFormat.JSON, OutputFormat.JSONL, OutputFormat.YAML}
    assert {f for f in OutputFormat if f.is_json} == {OutputFormat.JSON, OutputFormat.JSONL}
    assert [f.value for f in FORMATS] == ["table", "wide", "json", "jsonl", "yaml", "name"]
    assert (str(OutputFormat.WIDE), f"{OutputFormat.DOT}") == ("wide", "dot")
    assert OutputFormat.choose("jsonl") is OutputFormat.JSONL
    assert OutputFormat.choose("dot", extra=(OutputFormat.DOT,)) is OutputFormat.DOT
    for text in ("dot", "custom-columns", "JSON", ""):  # not offered, or not a whole name
        with pytest.raises(UsageError, match=f"unknown output format {text!r}"):
            OutputFormat.choose(text)
    assert Settings(format="yaml").format is OutputFormat.YAML  # a script's plain string


def test_a_root_output_format_holds_for_the_command(flink, httpserver, cli):
    flink.serve(httpserver, "taskmanagers")
    tm = flink.body("taskmanagers")["taskmanagers"][0]
    r = cli("-o", "custom-columns=ID:id", "tm", "list")  # refused as 'custom-columns' before
    assert (r.code, r.out.splitlines()[:2]) == (0, ["ID", tm["id"]]), r.err
    r = cli("-o", "name", "tm", "list", "-o", "json")  # the command's -o wins
    assert json.loads(r.out) == flink.body("taskmanagers")
    r = cli("-o", "dot", "jobs", "plan", "x")  # dot is a plan command's own, not the root's
    assert r.code == 2 and "unknown output format 'dot'" in r.err


def test_unknown_flag_is_usage_error(cli):
    r = cli("cluster", "overview", "--bogus")
    assert r.code == 2
    assert r.err.startswith("error: No such option: --bogus")


def test_verbose_log_drops_credentials_in_the_url(flink, httpserver, cli):
    flink.serve(httpserver, "overview")
    url = httpserver.url_for("").rstrip("/").replace("http://", "http://admin:pw@")
    r = cli("-v", "cluster", "overview", url=url)
    assert r.code == 0, r.err
    assert "GET http://localhost:" in r.err or "GET http://127.0.0.1:" in r.err
    assert "pw" not in r.err


def test_redirect_is_an_error_naming_the_target(httpserver, cli):
    httpserver.expect_request("/overview").respond_with_data(
        "", status=301, headers={"Location": "https://flink.example.com/overview"}
    )
    r = cli("cluster", "overview")
    assert (r.code, r.out) == (1, "")
    assert "redirects to https://flink.example.com/overview" in r.err
    assert "hint: use the URL it redirects to" in r.err
