"""TLS failures end in exit 5 with a hint that names the fix; insecure-skip-verify warns; mutual
TLS sends the context's client certificate. A local HTTPS server with certificates made by
openssl stands in for Flink (tests/e2e/test_tls.py runs the same against a real one)."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import VERSIONS, Recorded
from pytest_httpserver import HTTPServer

RECORDED = Recorded(VERSIONS[-1])


def make_cert(dir: Path, name: str, san: str = "IP:127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for SAN and its key, as PEM files (openssl)."""
    cert, key = dir / f"{name}.pem", dir / f"{name}-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2",
         "-subj", f"/CN={name}", "-addext", f"subjectAltName={san}",
         "-keyout", key, "-out", cert],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    tmp = tmp_path_factory.mktemp("certs")
    return {name: make_cert(tmp, name) for name in ("server", "client", "other")}


def https_server(certs, *, mutual: bool = False) -> HTTPServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certs["server"])
    if mutual:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(certs["client"][0])
    server = HTTPServer(host="127.0.0.1", ssl_context=context)
    server.start()
    return server


@pytest.fixture(scope="module")
def servers(certs) -> Iterator[dict[bool, HTTPServer]]:
    """An HTTPS server and a mutual-TLS one for the module (stopping one takes 0.5 s)."""
    started = {mutual: https_server(certs, mutual=mutual) for mutual in (False, True)}
    yield started
    for server in started.values():
        server.stop()


@pytest.fixture
def server(servers) -> Iterator[HTTPServer]:
    yield servers[False]
    servers[False].clear()


@pytest.fixture
def mutual_server(servers) -> Iterator[HTTPServer]:
    yield servers[True]
    servers[True].clear()


def use_context(tmp_path: Path, url: str, tls: str) -> None:
    (tmp_path / "config.yaml").write_text(
        f"current-context: a\ncontexts:\n  a:\n    url: '{url}'\n    tls: {{{tls}}}\n"
    )


def overview(cli, tmp_path: Path, server: HTTPServer, tls: str, *args: str):
    """`cluster overview ARGS` on a context (the config file's one) at SERVER with TLS's settings."""
    use_context(tmp_path, server.url_for("").rstrip("/"), tls)
    return cli("cluster", "overview", *args, url="")


def test_a_context_with_the_ca_file_works(server, certs, cli, tmp_path):
    RECORDED.expect(server, "overview")
    r = overview(cli, tmp_path, server, f"ca-file: {certs['server'][0]}", "-o", "json")
    assert (r.code, r.err) == (0, "")
    assert r.json() == RECORDED.body("overview")


def test_an_untrusted_certificate_is_exit_5_with_a_ca_file_hint(server, certs, cli, tmp_path):
    r = overview(cli, tmp_path, server, f"ca-file: {certs['other'][0]}")
    assert (r.code, r.out) == (5, "")
    assert "TLS certificate verification failed: self-signed certificate" in r.err
    assert "hint: set the context's tls.ca-file to the CA that signed" in r.err
    assert "Traceback" not in r.err


def test_a_host_name_the_certificate_lacks_is_exit_5_with_a_host_hint(server, certs, cli, tmp_path):
    url = server.url_for("").rstrip("/").replace("127.0.0.1", "localhost")
    use_context(tmp_path, url, f"ca-file: {certs['server'][0]}")
    r = cli("cluster", "overview", url="")
    assert r.code == 5
    assert "Hostname mismatch, certificate is not valid for 'localhost'" in r.err
    assert "hint: use a host name (or IP address) the server's certificate is valid for" in r.err


def test_insecure_skip_verify_works_and_warns(server, cli, tmp_path):
    RECORDED.expect(server, "overview")
    r = overview(cli, tmp_path, server, "insecure-skip-verify: true", "-o", "json")
    assert r.code == 0
    assert r.err.startswith("warning: context 'a': TLS certificate verification is off")


def test_https_to_a_plain_http_server_hints_at_the_scheme(httpserver, cli):
    r = cli("cluster", "overview", url=httpserver.url_for("").rstrip("/").replace("http", "https"))
    assert r.code == 5
    assert "TLS handshake failed" in r.err
    assert "hint: the server may not speak TLS: try http://" in r.err


def test_mutual_tls_sends_the_client_certificate(mutual_server, certs, cli, tmp_path):
    RECORDED.expect(mutual_server, "overview")
    cert, key = certs["client"]
    ca = certs["server"][0]
    tls = f"ca-file: {ca}, cert-file: {cert}, key-file: {key}"
    r = overview(cli, tmp_path, mutual_server, tls, "-o", "json")
    assert (r.code, r.err) == (0, "")


def test_mutual_tls_without_a_client_certificate_says_so(mutual_server, certs, cli, tmp_path):
    r = overview(cli, tmp_path, mutual_server, f"ca-file: {certs['server'][0]}")
    assert (r.code, r.out) == (5, "")
    assert "TLS handshake failed" in r.err
    assert "hint: the server asks for a client certificate: set tls.cert-file" in r.err


@pytest.mark.parametrize("key", ["ca-file", "cert-file"])
def test_a_file_that_is_not_pem_is_exit_2(key, server, tmp_path, cli):
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    r = overview(cli, tmp_path, server, f"{key}: {junk}")
    assert (r.code, r.out) == (2, "")
    assert r.err.startswith(f"error: tls {key} {junk}: cannot load it: ")
