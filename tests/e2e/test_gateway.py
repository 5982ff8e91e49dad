"""Through a real gateway: nginx (started here with a generated config) in front of the cluster,
as production clusters sit behind an ingress. A path prefix, basic auth, a bearer-token check,
request-body limits, and the 502/504 a gateway answers when the JobManager does not."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flinkctl.local.demo import JAR
from flinkctl.local.ports import free_port

from .conftest import run_cli

TOKEN = "gw-token-3b9e1f"
USER, PASSWORD = "flink", "gw-pass-7c2d"
SMALL = 4096  # the body limit of /small/ and /abrupt/, below the demo jar's size
BUDGET = "3"  # seconds of retries for 502/504 (FLINKCTL_RETRY_BUDGET)
# context -> the nginx location it uses, where not its own name
LOCATIONS = {
    "gw": "/flink/",
    "basic-wrong": "/basic/",
    "bearer-wrong": "/bearer/",
}

CONF = """
{user}
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 64; }}
http {{
  access_log {tmp}/access.log;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  client_max_body_size 64m;
  server {{
    listen 127.0.0.1:{port};
    location /flink/ {{ proxy_pass {flink}/; }}
    location /basic/ {{
      auth_basic "flink";
      auth_basic_user_file {tmp}/htpasswd;
      proxy_pass {flink}/;
    }}
    location /bearer/ {{
      if ($http_authorization != "Bearer {token}") {{ return 401; }}
      proxy_pass {flink}/;
    }}
    location /forbidden/ {{ deny all; }}
    location /small/ {{ client_max_body_size {small}; proxy_pass {flink}/; }}
    location /abrupt/ {{
      client_max_body_size {small};
      lingering_close off;
      proxy_pass {flink}/;
    }}
    location /down/ {{ proxy_pass http://127.0.0.1:{closed}/; }}
    location /slow/ {{ proxy_read_timeout 1s; proxy_pass http://127.0.0.1:{silent}/; }}
  }}
}}
"""


@dataclass
class Gateway:
    url: str
    dir: Path
    env: dict[str, str]
    exe: str

    def run(self, *args: str, timeout: float = 180) -> tuple[int, str, str]:
        """`flinkctl ARGS` with the gateway's contexts (gw, basic, bearer, ...)."""
        return run_cli(self.exe, args, self.env, timeout)

    def requests(self, prefix: str) -> list[str]:
        """The access log's request lines for paths under PREFIX."""
        lines = (self.dir / "access.log").read_text().splitlines()
        return [line for line in lines if f'"GET {prefix}' in line or f'"POST {prefix}' in line]


def contexts(url: str) -> str:
    """The config file: a context per location."""
    ctx = {
        "gw": "",
        "basic": "auth: {type: basic, username: flink, password-env: GW_PASSWORD}",
        "basic-wrong": "auth: {type: basic, username: flink, password: wrong}",
        "bearer": "auth: {type: bearer, token-env: GW_TOKEN}",
        "bearer-wrong": "auth: {type: bearer, token: wrong}",
        "forbidden": "",
        "small": "",
        "abrupt": "",
        "down": "",
        "slow": "",
    }
    lines = ["current-context: gw", "contexts:"]
    for name, extra in ctx.items():
        lines.append(f"  {name}:")
        lines.append(f"    url: {url}{LOCATIONS.get(name, f'/{name}/').rstrip('/')}")
        if extra:
            lines.append(f"    {extra}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def gateway(local_flink, tmp_path_factory) -> Iterator[Gateway]:
    """nginx on a free port in front of the session's cluster, its logs and temp files in TMP."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert os.access(nginx, os.X_OK), "nginx is missing: apt-get install nginx (scripts/test does)"
    tmp = tmp_path_factory.mktemp("gateway")
    hashed = subprocess.run(
        ["openssl", "passwd", "-apr1", PASSWORD], capture_output=True, text=True, check=True
    ).stdout.strip()
    (tmp / "htpasswd").write_text(f"{USER}:{hashed}\n")
    silent = socket.socket()  # accepts connections and never answers: nginx times out (504)
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    port = free_port()
    conf = CONF.format(
        user="user root;" if os.geteuid() == 0 else "",  # workers must read TMP (0700)
        tmp=tmp,
        port=port,
        flink=local_flink.url,
        token=TOKEN,
        small=SMALL,
        closed=free_port(),
        silent=silent.getsockname()[1],
    )
    (tmp / "nginx.conf").write_text(conf)
    proc = subprocess.Popen(
        [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    env = dict(local_flink.env)
    env.update(
        FLINKCTL_CONFIG=str(tmp / "config.yaml"),
        FLINKCTL_RETRY_BUDGET=BUDGET,
        GW_PASSWORD=PASSWORD,
        GW_TOKEN=TOKEN,
    )
    (tmp / "config.yaml").write_text(contexts(url))
    (tmp / "config.yaml").chmod(0o600)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, f"nginx exited: {proc.stderr.read().decode()}"  # type: ignore[union-attr]
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "nginx did not listen within 20 s"
            time.sleep(0.1)
        yield Gateway(url, tmp, env, local_flink.exe)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        silent.close()


def ok(gateway: Gateway, *args: str) -> str:
    code, out, err = gateway.run(*args)
    assert code == 0, f"flinkctl {' '.join(args)} -> {code}\n{err}"
    return out


@pytest.mark.parametrize("context", ["gw", "basic", "bearer"])
def test_read_commands_through_the_gateway(gateway, local_flink, context):
    overview = json.loads(ok(gateway, "--context", context, "cluster", "overview", "-o", "json"))
    assert overview["taskmanagers"] == 1
    jobs = ok(gateway, "--context", context, "jobs", "list", "-o", "name").split()
    assert local_flink.demo_job_id in jobs
    job = json.loads(
        ok(gateway, "--context", context, "jobs", "show", local_flink.demo_job_id, "-o", "json")
    )
    assert job["jid"] == local_flink.demo_job_id
    assert ok(gateway, "--context", context, "taskmanagers", "list", "-o", "name").strip()
    assert ok(gateway, "--context", context, "vertices", "list", local_flink.demo_job_id)
    assert len(gateway.requests(LOCATIONS.get(context, f"/{context}/"))) >= 4


def test_upload_run_savepoint_and_cancel_through_the_gateway(gateway):
    """basic auth for the jar, the bearer token for the job: both lead to the same cluster."""
    jar = json.loads(ok(gateway, "--context", "basic", "jars", "upload", str(JAR), "-o", "json"))
    jar_id = jar["filename"].rsplit("/", 1)[-1]
    assert jar_id in ok(gateway, "--context", "bearer", "jars", "list", "-o", "name").split()
    started = json.loads(
        ok(gateway, "--context", "bearer", "jars", "run", jar_id, "--arg", "20",
           "--wait-running", "-o", "json")
    )  # fmt: skip
    jid = started["job-id"]
    savepoint = json.loads(
        ok(gateway, "--context", "basic", "savepoint", "trigger", jid, "--wait",
           "--timeout", "120", "-o", "json")
    )  # fmt: skip
    assert savepoint["status"] == "COMPLETED"
    ok(gateway, "--context", "gw", "jobs", "cancel", jid, "--wait", "--yes")
    ok(gateway, "--context", "gw", "jars", "delete", jar_id, "--yes")
    assert gateway.requests("/basic/jars/upload") and gateway.requests("/bearer/jars/")


@pytest.mark.parametrize(
    ("context", "status"),
    [("basic-wrong", 401), ("bearer-wrong", 401), ("forbidden", 403)],
)
def test_refused_credentials_are_exit_4(gateway, context, status):
    code, out, err = gateway.run("--context", context, "jobs", "list")
    assert (code, out) == (4, "")
    assert f"{status} " in err.splitlines()[0] and "Traceback" not in err
    code, out, err = gateway.run("--context", context, "jars", "upload", str(JAR))
    assert code == 4, err


def test_no_credentials_at_all_is_exit_4(gateway):
    code, _, err = gateway.run("--url", gateway.url + "/basic", "cluster", "overview")
    assert code == 4, err
    assert "hint: check the context's auth settings" in err


def test_a_jar_over_the_body_limit_is_named_with_its_size(gateway):
    size = JAR.stat().st_size
    assert size > SMALL
    code, out, err = gateway.run("--context", "small", "jars", "upload", str(JAR))
    assert (code, out) == (1, "")
    first = err.splitlines()[0]
    assert first == (
        f"error: the jar {JAR.name} ({size:,} bytes) is larger than the server accepts: "
        "POST /jars/upload answers 413 Request Entity Too Large"
    )
    assert "client_max_body_size" in err


def test_a_gateway_that_closes_mid_upload_is_named_with_the_jar_size(gateway, tmp_path):
    big = tmp_path / "big.jar"
    big.write_bytes(JAR.read_bytes() + os.urandom(8 << 20))  # 8 MiB past the limit
    code, out, err = gateway.run("--context", "abrupt", "jars", "upload", str(big))
    assert code in (1, 5), err
    assert f"the jar big.jar ({big.stat().st_size:,} bytes)" in err.splitlines()[0]
    assert "client_max_body_size" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("context", "status"), [("down", 502), ("slow", 504)])
def test_502_and_504_are_retried_then_exit_5(gateway, context, status):
    start = time.monotonic()
    code, out, err = gateway.run("--context", context, "jobs", "list")
    took = time.monotonic() - start
    assert (code, out) == (5, "")
    assert f"answers {status} " in err.splitlines()[0]
    assert "attempts in" in err.splitlines()[0]
    assert len(gateway.requests(f"/{context}/jobs")) >= 2  # retried, within the budget
    assert float(BUDGET) <= took < float(BUDGET) + 15
