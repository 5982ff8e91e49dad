"""Secrets never leak: not in -v logs, error messages, JSON error objects, hints, `config view`
without --raw, `get-contexts`, nor in the process list."""

import contextlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import VERSIONS, Recorded

TOKEN = "tok-5ecret-7d1f"
PASSWORD = "pa55-5ecret-9b2c"


def write_context(tmp_path: Path, url: str, extra: str = "") -> None:
    (tmp_path / "config.yaml").write_text(
        f"current-context: a\ncontexts:\n  a:\n    url: '{url}'\n{extra}"
    )
    (tmp_path / "config.yaml").chmod(0o600)


AUTHS = {
    "inline-token": f"    auth: {{type: bearer, token: {TOKEN}}}\n",
    "env-token": "    auth: {type: bearer, token-env: SECRET_TOKEN}\n",
    "command-token": "    auth: {type: bearer, token-command: 'printenv SECRET_TOKEN'}\n",
    "inline-password": f"    auth: {{type: basic, username: admin, password: {PASSWORD}}}\n",
    "header": f"    headers: {{Authorization: 'Bearer {TOKEN}', X-Api-Key: {PASSWORD}}}\n",
    "url-password": "",
}


def leaked(text: str) -> bool:
    return TOKEN in text or PASSWORD in text


@pytest.mark.parametrize("auth", AUTHS)
@pytest.mark.parametrize(
    "situation", ["ok", "404", "500", "503", "html", "json-error", "refused", "debug-refused"]
)
def test_no_secret_in_logs_errors_or_json_errors(
    httpserver, cli, tmp_path, monkeypatch, auth, situation
):
    flink = Recorded(VERSIONS[-1])  # one version is enough: the secrets are flinkctl's
    monkeypatch.setenv("SECRET_TOKEN", TOKEN)
    monkeypatch.setenv("FLINKCTL_RETRY_BUDGET", "0.1")
    base = httpserver.url_for("").rstrip("/")
    if situation.endswith("refused"):
        base = "http://127.0.0.1:1"
    if auth == "url-password":
        base = base.replace("http://", f"http://admin:{PASSWORD}@")
    write_context(tmp_path, base, AUTHS[auth])
    if situation == "ok":
        flink.serve(httpserver, "overview")
    elif situation == "404":
        flink.serve(httpserver, "job-not-found")
    elif situation == "500":
        flink.serve(httpserver, "taskmanagers", "taskmanager-not-found")
    elif situation == "html":
        httpserver.expect_request("/overview").respond_with_data("<html>login</html>")
    else:
        httpserver.expect_request("/overview").respond_with_data("busy", status=503)
    missing_job = flink.path("job-not-found").rsplit("/", 1)[1]
    missing_tm = flink.path("taskmanager-not-found").rsplit("/", 1)[1]
    command = {"404": ("jobs", "show", missing_job), "500": ("tm", "show", missing_tm)}.get(
        situation, ("cluster", "overview")
    )
    flags = ["-v", "--debug"] if situation.startswith("debug") else ["-v"]
    output = ["-o", "json"] if situation == "json-error" else []
    r = cli(*flags, *command, *output, url="")
    assert not leaked(r.err) and not leaked(r.out), r.err
    assert "Traceback" not in r.err or situation.startswith("debug")
    if situation == "ok":
        assert r.code == 0 and " -> 200 (" in r.err
        sent = httpserver.log[0][0].headers.get("Authorization", "")
        assert auth == "url-password" or TOKEN in sent or sent.startswith("Basic ")


def test_config_view_and_get_contexts_redact_every_inline_secret(cli, tmp_path):
    write_context(
        tmp_path,
        f"http://admin:{PASSWORD}@flink:8081",
        f"    auth: {{type: bearer, token: {TOKEN}}}\n"
        f"    headers: {{Cookie: 'sid={TOKEN}', X-Api-Key: {PASSWORD}, X-Team: data}}\n",
    )
    for args in (
        ("config", "view"),
        ("config", "view", "-o", "json"),
        ("config", "get-contexts"),
        ("config", "get-contexts", "-o", "wide"),
        ("config", "get-contexts", "-o", "json"),
        ("config", "get-contexts", "-o", "yaml"),
    ):
        r = cli(*args, url="")
        assert r.code == 0, r.err
        assert not leaked(r.out) and not leaked(r.err), (args, r.out)
    view = cli("config", "view", "-o", "json", url="").json()["contexts"]["a"]
    assert view["url"] == "http://admin:REDACTED@flink:8081"
    assert view["auth"]["token"] == "REDACTED"
    assert view["headers"] == {"Cookie": "REDACTED", "X-Api-Key": "REDACTED", "X-Team": "data"}
    raw = cli("config", "view", "--raw", url="").out
    assert TOKEN in raw and PASSWORD in raw


def test_a_resume_hint_shows_no_password(flink, httpserver, cli, monkeypatch):
    import time

    from flinkctl.client import poller

    jid = flink.ids["jobid"]
    flink.serve(httpserver, "savepoint-status-in-progress", "jobs-overview")
    httpserver.expect_request(f"/jobs/{jid}/savepoints", method="POST").respond_with_json(
        flink.body("savepoint-trigger"), status=202
    )
    monkeypatch.setattr(
        poller, "new_trigger_id", lambda: flink.body("savepoint-trigger")["request-id"]
    )

    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", interrupt)
    url = httpserver.url_for("").rstrip("/").replace("http://", f"http://admin:{PASSWORD}@")
    r = cli("savepoint", "trigger", jid, "--wait", url=url)
    assert r.code == 130
    assert "resume waiting with: flinkctl --url http://admin:REDACTED@" in r.err
    assert not leaked(r.err)


def test_a_token_with_a_line_break_is_refused_without_showing_it(httpserver, cli, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(f"{TOKEN}\nsecond-line-{PASSWORD}\n")
    write_context(
        tmp_path,
        httpserver.url_for("").rstrip("/"),
        f"    auth: {{type: bearer, token-file: {token_file}}}\n",
    )
    r = cli("cluster", "overview", url="")
    assert (r.code, r.out) == (2, "")
    assert r.err == "error: auth token: the value has a line break or a control character\n"
    assert httpserver.log == []


def test_token_from_stdin_stays_off_the_command_line(cli, tmp_path, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{TOKEN}\n"))
    r = cli("config", "set-context", "a", "--url", "http://a:1", "--token", "-", url="")
    assert r.code == 0, r.err
    from flinkctl import config

    assert config.load(tmp_path / "config.yaml").get("a").auth == config.Auth("bearer", "", TOKEN)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    r = cli("config", "set-context", "a", "--password", "-", url="")
    assert (r.code, r.err) == (2, "error: --password -: nothing on stdin\n")


def test_no_secret_on_any_program_s_command_line(flink, tmp_path):
    """While flinkctl (a real process) waits for its answer, no process's argv holds the token
    its token command printed: the token travels in a pipe and a header, never an argument."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: dict[str, object] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen["authorization"] = self.headers.get("Authorization")
            seen["argv"] = [argv for argv in _command_lines() if TOKEN.encode() in argv]
            data = json.dumps(flink.body("overview")).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o600)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    write_context(tmp_path, url, f"    auth: {{type: bearer, token-command: 'cat {token_file}'}}\n")
    try:
        p = subprocess.run(
            [sys.executable, "-m", "flinkctl", "-v", "cluster", "overview", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "FLINKCTL_CONFIG": str(tmp_path / "config.yaml")},
        )
    finally:
        server.shutdown()
        server.server_close()
    assert p.returncode == 0, p.stderr
    assert seen["authorization"] == f"Bearer {TOKEN}"  # it was used ...
    assert seen["argv"] == []  # ... and no command line held it
    assert not leaked(p.stderr)


def _command_lines() -> list[bytes]:
    lines = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):  # gone meanwhile
                lines.append((entry / "cmdline").read_bytes())
    return lines
