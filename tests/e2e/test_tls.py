"""TLS for real: a cluster from `flinkctl local up --tls` (a keystore and truststore made with
keytool, Flink's `security.ssl.rest.*` options), then restarted with mutual TLS
(`-D security.ssl.rest.authentication-enabled=true`). Wrong CAs are made with openssl."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import LocalFlink, local_cluster

NAME = "e2e-tls"
MUTUAL = "security.ssl.rest.authentication-enabled=true"


@pytest.fixture(scope="module")
def tls_flink(flink_version, tmp_path_factory) -> Iterator[LocalFlink]:
    tmp = tmp_path_factory.mktemp(f"tls-{flink_version}")
    with local_cluster(tmp, NAME, flink_version, "--tls") as flink:
        yield flink


def context(flink: LocalFlink, name: str, *options: str, url: str | None = None) -> None:
    code, _, err = flink.run("config", "set-context", name, "--url", url or flink.url, *options)
    assert code == 0, err


def other_ca(tmp: Path) -> Path:
    """A self-signed certificate that signed nothing the cluster shows."""
    cert = tmp / "other-ca.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=other", "-keyout", tmp / "other-key.pem", "-out", cert],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert


def tls_of(flink: LocalFlink, name: str) -> dict:
    code, out, err = flink.run("config", "view", "-o", "json")
    assert code == 0, err
    return json.loads(out)["contexts"][name].get("tls", {})


def test_up_tls_serves_https_and_gives_the_context_its_ca(tls_flink):
    assert tls_flink.url.startswith("https://127.0.0.1:")
    ca = Path(tls_of(tls_flink, NAME)["ca-file"])
    assert ca.is_relative_to(tls_flink.dir) and "BEGIN CERTIFICATE" in ca.read_text()
    code, out, err = tls_flink.run("--context", NAME, "jobs", "list", "-o", "name")
    assert (code, err) == (0, "")
    assert tls_flink.demo_job_id in out.split()
    code, out, err = tls_flink.run("local", "status", "--name", NAME, "-o", "json")
    assert code == 0, err
    status = json.loads(out)
    assert status["url"] == tls_flink.url and status["overview"]["taskmanagers"] == 1


def test_a_wrong_ca_is_exit_5_with_a_hint(tls_flink, tmp_path):
    context(tls_flink, "wrong-ca", "--ca-file", str(other_ca(tmp_path)))
    code, out, err = tls_flink.run("--context", "wrong-ca", "cluster", "overview")
    assert (code, out) == (5, "")
    assert "TLS certificate verification failed" in err.splitlines()[0]
    assert "hint: set the context's tls.ca-file" in err


def test_no_ca_at_all_is_exit_5(tls_flink):
    code, out, err = tls_flink.run("--url", tls_flink.url, "cluster", "overview")
    assert (code, out) == (5, "")
    assert "self-signed certificate" in err.splitlines()[0]


def test_a_wrong_host_name_is_exit_5_with_a_hint(tls_flink):
    ca = tls_of(tls_flink, NAME)["ca-file"]
    url = tls_flink.url.replace("127.0.0.1", "localhost")
    context(tls_flink, "wrong-host", "--ca-file", ca, url=url)
    code, out, err = tls_flink.run("--context", "wrong-host", "cluster", "overview")
    assert (code, out) == (5, "")
    assert "Hostname mismatch" in err.splitlines()[0]
    assert "hint: use a host name (or IP address) the server's certificate is valid for" in err


def test_insecure_skip_verify_works_and_warns(tls_flink):
    context(tls_flink, "insecure", "--insecure-skip-verify")
    code, out, err = tls_flink.run("--context", "insecure", "cluster", "overview", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["taskmanagers"] == 1
    assert err.startswith("warning: context 'insecure': TLS certificate verification is off")


def test_plain_http_to_the_tls_port_names_the_https_url(tls_flink):
    """Flink's REST endpoint redirects plain HTTP to HTTPS (RedirectingSslHandler); flinkctl
    follows no redirect and names the URL to use instead."""
    url = tls_flink.url.replace("https://", "http://")
    code, out, err = tls_flink.run("--url", url, "cluster", "overview")
    assert (code, out) == (1, ""), err
    assert err.startswith(f"error: {url} redirects to https://"), err
    assert "hint: use the URL it redirects to" in err


def test_mutual_tls(tls_flink):
    """Restarted with client authentication: the context from `up` carries the client pair and
    works; one with the CA only is refused in the handshake, with a hint about the pair."""
    code, _, err = tls_flink.run("local", "down", "--name", NAME)
    assert code == 0, err
    code, out, err = tls_flink.run(
        "local", "up", "--name", NAME, "--tls", "-D", MUTUAL, "--timeout", "180", "-o", "json",
        timeout=400,
    )  # fmt: skip
    assert code == 0, err
    tls = tls_of(tls_flink, NAME)
    assert set(tls) == {"ca-file", "cert-file", "key-file"}
    code, out, err = tls_flink.run("--context", NAME, "jobs", "list", "-o", "json")
    assert code == 0, err
    context(tls_flink, "no-client-cert", "--ca-file", tls["ca-file"])
    code, out, err = tls_flink.run("--context", "no-client-cert", "cluster", "overview")
    assert (code, out) == (5, "")
    assert "hint: the server asks for a client certificate: set tls.cert-file" in err
    code, out, err = tls_flink.run("local", "status", "--name", NAME, "-o", "json")
    assert json.loads(out)["overview"]["taskmanagers"] == 1
