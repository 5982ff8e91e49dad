"""URLs are checked wherever they enter: --url, $FLINKCTL_URL, `config set-context`, the file.

A bad one is exit 2 with the reason, before any request, and is never saved.
"""

import json

import pytest

from flinkctl import config
from flinkctl.errors import UsageError

# (URL, the reason flinkctl gives)
BAD = [
    ("http://127.0.0.1:abc", "port 'abc' is not a number"),
    ("http://[::1", "unclosed '['"),
    ("http://h:70000", "port 70000 is out of range (1-65535)"),
    ("http://h:0", "port 0 is out of range"),
    ("http://h:99999999999999999999", "out of range"),
    ("http://h:-1", "port '-1' is not a number"),
    ("http://h:+80", "port '+80' is not a number"),
    ("http://h:٨٠", "is not a number"),  # digits, but not ASCII ones
    ("localhost:8081", "no scheme (http://localhost:8081 ?)"),
    ("127.0.0.1:8081", "no scheme"),
    ("flink.example.com", "no scheme"),
    ("//h:80", "no scheme"),
    ("ftp://h", "scheme 'ftp' is not http or https"),
    ("http://", "no host"),
    ("http:///prefix", "no host"),
    ("http://user@:80", "no host"),
    ("http://h:80:90", "more than one ':'"),
    ("http://::1:8081", "brackets"),
    ("http://[::1]x:80", "after the IPv6 address"),
    ("http://[zz::1]:80", "'zz::1' is not an IPv6 address"),
    ("http://h]:80", "unbalanced brackets"),
    ("http://a b:80", "white space"),
    ("http://h:8081/\x00", "control characters"),
    ("http://h:8081/?x=1", "a query (?...) or fragment"),
    ("http://h:8081#top", "a query (?...) or fragment"),
    ("http://a..b:1", "'a..b' is not a host name"),
    ("http://h$:1", "is not a host name"),
]
GOOD = [
    ("http://localhost:8081", "http://localhost:8081"),
    ("https://gateway.example.com/flink/", "https://gateway.example.com/flink"),
    ("HTTP://Flink:8081", "http://Flink:8081"),
    ("http://[::1]:8081", "http://[::1]:8081"),
    ("http://admin:pw@flink:8081", "http://admin:pw@flink:8081"),
    ("http://bücher.example:8081", "http://bücher.example:8081"),
    ("http://flink-jobmanager.ns.svc.cluster.local:8081", None),
]


@pytest.mark.parametrize("url, reason", BAD)
def test_check_url_names_the_reason(url, reason):
    with pytest.raises(UsageError) as info:
        config.check_url(url)
    assert reason in info.value.message
    assert info.value.code == 2


@pytest.mark.parametrize("url, normal", GOOD)
def test_good_urls_pass_and_are_normalised(url, normal):
    assert config.check_url(url) == (normal or url)


@pytest.mark.parametrize("url, reason", BAD)
def test_bad_url_option_exits_2_before_any_request(cli, httpserver, url, reason):
    r = cli("jobs", "list", url=url)
    assert (r.code, r.out) == (2, "")
    assert r.err.startswith("error: invalid URL ")
    assert reason in r.err and "Traceback" not in r.err
    assert httpserver.log == []


@pytest.mark.parametrize("url, reason", BAD[:8])
def test_bad_env_url_exits_2(cli, monkeypatch, url, reason):
    monkeypatch.setenv("FLINKCTL_URL", url)
    r = cli("jobs", "list", url="")
    assert (r.code, r.out) == (2, "")
    assert reason in r.err


@pytest.mark.parametrize("url, reason", BAD)
def test_set_context_never_saves_a_bad_url(cli, tmp_path, url, reason):
    path = tmp_path / "config.yaml"
    assert cli("config", "set-context", "a", "--url", "http://a:1", url="").code == 0
    before = path.read_bytes()
    for name in ("a", "new"):  # changing a context, making one
        r = cli("config", "set-context", name, "--url", url, url="")
        assert (r.code, r.out) == (2, ""), r.err
        assert reason in r.err and "Traceback" not in r.err
        assert path.read_bytes() == before


@pytest.mark.parametrize("url, reason", BAD)
def test_bad_url_in_the_file_names_file_line_and_reason(cli, tmp_path, url, reason):
    path = tmp_path / "config.yaml"
    path.write_text(
        "current-context: a\ncontexts:\n  a:\n    timeout: 3\n    url: " + json.dumps(url) + "\n"
    )
    r = cli("jobs", "list", url="")
    assert (r.code, r.out) == (2, "")
    assert f"{path}:5" in r.err and reason in r.err, r.err


def test_a_password_in_a_bad_url_is_not_echoed(cli):
    r = cli("jobs", "list", url="http://admin:hunter2@h:99999")
    assert r.code == 2
    assert "hunter2" not in r.err and "admin" not in r.err
