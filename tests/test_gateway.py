"""A gateway's own answers (nginx 1.22's error pages, recorded in tests/fixtures/nginx/): a body
limit names the jar's size, a 502/504 page is exit 5 for any method, 401/403 pages are exit 4,
and no message quotes "<html>". tests/e2e/test_gateway.py runs the same through real nginx."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from flinkctl.local.demo import JAR

PAGES = Path(__file__).parent / "fixtures" / "nginx"


def page(status: int) -> str:
    return (PAGES / f"{status}.html").read_text()


def answer_page(httpserver, path: str, status: int, method: str = "GET") -> None:
    httpserver.expect_request(path, method=method).respond_with_data(
        page(status), status=status, content_type="text/html"
    )


def test_a_413_page_for_an_upload_names_the_jar_and_its_size(httpserver, cli):
    answer_page(httpserver, "/jars/upload", 413, "POST")
    r = cli("jars", "upload", str(JAR))
    assert (r.code, r.out) == (1, "")
    size = JAR.stat().st_size
    assert r.err.splitlines()[0] == (
        f"error: the jar {JAR.name} ({size:,} bytes) is larger than the server accepts: "
        "POST /jars/upload answers 413 Request Entity Too Large"
    )
    assert "nginx: client_max_body_size" in r.err and "rest.server.max-content-length" in r.err


@pytest.fixture
def hangs_up() -> Iterator[str]:
    """A server that reads the request's head and closes the connection, as a gateway over its
    body limit may while the jar is still being sent."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.recv(1024)
            conn.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            conn.close()  # with SO_LINGER 0: a reset

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    sock.close()


def test_a_connection_closed_mid_upload_names_the_jar_and_its_size(hangs_up, tmp_path, cli):
    big = tmp_path / "big.jar"
    big.write_bytes(JAR.read_bytes() + b"\0" * (4 << 20))
    r = cli("jars", "upload", str(big), url=hangs_up)
    assert (r.code, r.out) == (5, "")
    first = r.err.splitlines()[0]
    assert first.startswith("error: the connection closed while sending the jar big.jar ")
    assert f"({big.stat().st_size:,} bytes)" in first
    assert "client_max_body_size" in r.err and "Traceback" not in r.err


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_page_for_a_read_is_retried_then_exit_5(httpserver, cli, status):
    answer_page(httpserver, "/jobs/overview", status)
    r = cli("jobs", "list")
    assert (r.code, r.out) == (5, "")
    reason = {502: "bad gateway", 504: "gateway timeout"}[status]  # werkzeug's upper case
    assert f"get /jobs/overview answers {status} {reason} after " in r.err.splitlines()[0].lower()
    assert len(httpserver.log) >= 2
    assert "<html>" not in r.err


def test_a_gateway_page_for_a_mutation_is_exit_5_not_flinks_failure(flink, httpserver, cli):
    """POST .../run is not repeated; nginx's 502 means the gateway failed, not Flink (exit 5),
    and Flink may have got the request: the hint says to look before repeating it."""
    jar = flink.body("jars")["files"][0]["id"]
    flink.serve(httpserver, "jars")
    answer_page(httpserver, f"/jars/{jar}/run", 502, "POST")
    r = cli("jars", "run", jar)
    assert (r.code, r.out) == (5, "")
    assert f"post /jars/{jar}/run answers 502 bad gateway" in r.err.splitlines()[0].lower()
    assert "hint: a gateway answered for Flink, which may have got the request" in r.err
    assert [e.path for e, _ in httpserver.log].count(f"/jars/{jar}/run") == 1  # not repeated


@pytest.mark.parametrize("status", [401, 403])
def test_a_gateway_refusal_page_is_exit_4(httpserver, cli, status):
    answer_page(httpserver, "/jobs/overview", status)
    r = cli("jobs", "list")
    assert (r.code, r.out) == (4, "")
    assert r.err.splitlines()[0].startswith(f"error: GET /jobs/overview: {status} ")


def test_another_refusal_page_is_the_servers_by_its_title(httpserver, cli, flink):
    """Not "Flink refused ...: <html>": the gateway's page title, and not blamed on Flink."""
    jar = flink.body("jars")["files"][0]["id"]
    flink.serve(httpserver, "jars")
    answer_page(httpserver, f"/jars/{jar}/run", 413, "POST")
    r = cli("jars", "run", jar)
    assert (r.code, r.out) == (1, "")
    assert r.err.splitlines()[0] == (
        f"error: the server refused POST /jars/{jar}/run: 413 Request Entity Too Large"
    )
