"""Contexts: resolution order, validation, atomic 0600 saves, and the `config` commands."""

import io
import os
import stat
import sys
from dataclasses import replace

import pytest

from flinkctl import config
from flinkctl.errors import ConfigError, NotFoundError, UsageError


def write(path, text):
    path.write_text(text)
    return path


def test_no_file_no_flags_defaults_to_localhost(monkeypatch):
    monkeypatch.delenv("FLINKCTL_CONFIG")  # the default path ($XDG_CONFIG_HOME/...) is absent
    ctx = config.resolve()
    assert ctx.url == "http://localhost:8081"


def test_url_bypasses_a_malformed_file(tmp_path):
    bad = write(tmp_path / "c.yaml", "contexts: [\n")
    assert config.resolve(bad, url="http://h:1/").url == "http://h:1"


def test_env_url_and_context_order(tmp_path, monkeypatch):
    cfg = write(
        tmp_path / "c.yaml",
        "current-context: a\ncontexts:\n  a: {url: 'http://a:1'}\n  b: {url: 'http://b:2/p'}\n",
    )
    assert config.resolve(cfg).url == "http://a:1"
    monkeypatch.setenv("FLINKCTL_CONTEXT", "b")
    assert config.resolve(cfg).url == "http://b:2/p"
    assert config.resolve(cfg, context="a").url == "http://a:1"
    # An explicit context with --url keeps the context's settings, overriding the url.
    assert config.resolve(cfg, context="a", url="http://x:9").url == "http://x:9"
    monkeypatch.delenv("FLINKCTL_CONTEXT")
    monkeypatch.setenv("FLINKCTL_URL", "http://env:7")
    assert config.resolve(cfg).url == "http://env:7"


def test_unknown_context_is_not_found(tmp_path):
    cfg = write(tmp_path / "c.yaml", "contexts:\n  a: {url: 'http://a:1'}\n")
    with pytest.raises(NotFoundError, match="context 'zz' not found") as info:
        config.resolve(cfg, context="zz")
    assert "known contexts: a" in info.value.hint


@pytest.mark.parametrize(
    "text, message",
    [
        ("contexts:\n  a: {url: 'http://a:1'\n", r"c\.yaml:3"),
        ("- just\n- a list\n", "expected a mapping"),
        ("contexts:\n  a: {url: 'ftp://a'}\n", "'url' must be an http"),
        ("contexts:\n  a: {url: 'http://a', auth: {type: magic}}\n", "auth 'type' must be"),
        ("contexts:\n  a: {url: 'http://a', tls: {ca: x}}\n", "unknown tls key 'ca'"),
        ("contexts:\n  a: {url: 'http://a', timeout: soon}\n", "timeouts must be durations"),
        ("contexts:\n  a: {url: 'http://a', colour: red}\n", "unknown key 'colour'"),
    ],
)
def test_malformed_files_name_the_file(tmp_path, text, message):
    cfg = write(tmp_path / "c.yaml", text)
    with pytest.raises(ConfigError, match=message) as info:
        config.load(cfg)
    assert str(cfg) in info.value.message


def test_save_is_atomic_and_private(tmp_path, monkeypatch):
    path = tmp_path / "dir" / "config.yaml"
    cfg = config.Config(path=path)
    cfg.contexts["a"] = config.Context(
        name="a", url="http://a:1", auth=config.Auth("bearer", "", "s")
    )
    cfg.current_context = "a"
    cfg.save()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert config.load(path).get("a").auth.secret == "s"

    # A failure while writing leaves the old file untouched and no temp file behind.
    before = path.read_text()

    def boom(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)
    cfg.contexts["b"] = config.Context(name="b", url="http://b:1")
    with pytest.raises(OSError):
        cfg.save()
    assert path.read_text() == before
    assert [p.name for p in path.parent.iterdir()] == ["config.yaml"]


def test_set_use_get_delete_context_commands(cli, tmp_path):
    r = cli(
        "config",
        "set-context",
        "prod",
        "--url",
        "https://flink.example/gw",
        "--token-env",
        "TOK",
        url="",
    )
    assert (r.code, r.out) == (0, "")
    assert "prod" in r.err
    r = cli(
        "config",
        "set-context",
        "dev",
        "--url",
        "http://dev:8081",
        "--username",
        "u",
        "--password",
        "hunter2",
        url="",
    )
    assert r.code == 0
    r = cli("config", "get-contexts", url="")
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0].split("\t") == ["CURRENT", "NAME", "URL", "AUTH"]
    assert lines[1].split("\t") == ["-", "dev", "http://dev:8081", "basic"]
    assert lines[2].split("\t") == ["*", "prod", "https://flink.example/gw", "bearer"]
    assert cli("config", "current-context", url="").out == "prod\n"
    assert cli("config", "use-context", "dev", url="").code == 0
    assert cli("config", "current-context", url="").out == "dev\n"
    assert cli("config", "current-context", "-o", "json", url="").json() == {
        "current-context": "dev"
    }

    view = cli("config", "view", url="")
    assert "hunter2" not in view.out and "REDACTED" in view.out
    assert "hunter2" in cli("config", "view", "--raw", url="").out
    assert cli("config", "view", "-o", "json", url="").json()["current-context"] == "dev"

    r = cli("config", "delete-context", "dev", url="")
    assert r.code == 0
    r = cli("config", "current-context", url="")
    assert (r.code, r.out) == (3, "")
    assert r.err.startswith("error: no current context")
    assert cli("config", "get-contexts", "-o", "name", url="").out == "prod\n"


def test_bad_set_context_input_changes_nothing(cli, tmp_path):
    path = tmp_path / "config.yaml"
    assert cli("config", "set-context", "a", "--url", "http://a:1", url="").code == 0
    before = path.read_text()
    for args in (
        ("set-context", "b"),  # new context without --url
        ("set-context", "a", "--url", "ftp://nope"),
        ("set-context", "a", "--token", "t", "--password", "p"),
        ("set-context", "a", "--header", "novalue"),
        ("set-context", "a", "--ca-file", str(tmp_path / "missing.pem")),
        ("use-context", "zz"),
        ("delete-context", "zz"),
    ):
        r = cli("config", *args, url="")
        assert r.code in (2, 3), args
        assert r.out == ""
        assert r.err.startswith("error: ") and len(r.err.strip().splitlines()) <= 2, r.err
    assert path.read_text() == before


def test_malformed_config_exits_2_naming_the_file(cli, tmp_path):
    (tmp_path / "config.yaml").write_text("contexts: {a: [\n")
    r = cli("cluster", "overview", url="")
    assert r.code == 2
    assert r.out == ""
    assert str(tmp_path / "config.yaml") in r.err
    assert "Traceback" not in r.err


def test_unknown_context_exits_3(cli, tmp_path):
    (tmp_path / "config.yaml").write_text("contexts:\n  a: {url: 'http://a:1'}\n")
    r = cli("--context", "nope", "cluster", "overview", url="")
    assert (r.code, r.out) == (3, "")
    assert "context 'nope' not found" in r.err


# -- auth and TLS: the file's mappings and set-context's rules ---------------------------------

# Every form an auth or tls mapping takes in the file: each loads, and saves, as written.
FILE_FORMS = [
    "auth: {type: bearer, token: t}",
    "auth: {type: bearer, token-env: FLINK_TOKEN}",
    "auth: {type: bearer, token-file: ~/.flink-token}",
    "auth: {type: bearer, token-command: 'vault read -field=t x'}",
    "auth: {type: basic, username: admin, password: pw}",
    "auth: {type: basic, username: admin, password-env: FLINK_PW}",
    "auth: {type: basic, password-file: /run/pw}",
    "auth: {type: basic, username: u, password-command: pass flink}",
    "auth: {type: bearer, username: u, token: t}",  # a user beside a token: loaded, unused
    "tls: {ca-file: /etc/ca.pem}",
    "tls: {ca-file: /etc/ca.pem, cert-file: /me.pem, key-file: /me-key.pem}",
    "tls: {cert-file: /me.pem}",
    "tls: {insecure-skip-verify: true}",
]


@pytest.mark.parametrize("form", FILE_FORMS)
def test_every_auth_and_tls_form_loads_and_saves_as_written(tmp_path, form):
    import yaml

    path = write(tmp_path / "c.yaml", f"contexts:\n  a: {{url: 'http://a:1', {form}}}\n")
    path.chmod(0o600)
    cfg = config.load(path)
    cfg.save()
    key, _, mapping = form.partition(": ")
    assert yaml.safe_load(path.read_text())["contexts"]["a"][key] == yaml.safe_load(mapping)
    ctx = config.load(path).get("a")
    assert isinstance(ctx.auth, config.Auth) and isinstance(ctx.tls, config.TLS)
    assert ctx == cfg.get("a")


def test_auth_attributes_name_the_secret_and_where_it_is(tmp_path):
    path = write(
        tmp_path / "c.yaml",
        "contexts:\n"
        "  a: {url: 'http://a:1', auth: {type: basic, username: admin, password-env: PW}}\n"
        "  b: {url: 'http://b:1', tls: {ca-file: /ca.pem, insecure-skip-verify: false}}\n",
    )
    cfg = config.load(path)
    auth = cfg.get("a").auth
    assert auth == config.Auth(kind="basic", way="-env", secret="PW", username="admin")
    assert (auth.secret_name, auth.key, auth.inline) == ("password", "password-env", False)
    assert cfg.get("b").tls == config.TLS(ca_file="/ca.pem")
    assert cfg.get("b").auth == config.Auth() and config.Auth().to_dict() == {}
    assert config.TLS().to_dict() == {}
    with pytest.raises(ValueError, match="no auth type 'bearer' or secret way 'env'"):
        config.Auth("bearer", "env", "TOK")  # the way is the key's suffix: "-env"


BEARER_ENV = config.Auth("bearer", "-env", "TOK")
BASIC = config.Auth("basic", "", "pw", username="admin")


@pytest.mark.parametrize(
    "before, change, after",
    [
        # a secret given another way replaces the old one
        (BEARER_ENV, {"secrets": {"token-file": "/t"}}, config.Auth("bearer", "-file", "/t")),
        # switching kind drops the other kind's secret (and a bearer has no user)
        (BASIC, {"secrets": {"token-env": "T"}}, config.Auth("bearer", "-env", "T")),
        (BEARER_ENV, {"secrets": {"password": "p"}, "username": "u"},
         config.Auth("basic", "", "p", username="u")),
        # a basic auth keeps its user when its password changes
        (BASIC, {"secrets": {"password-command": "pass x"}},
         config.Auth("basic", "-command", "pass x", username="admin")),
        # the user alone changes, the password stays
        (BASIC, {"username": "ops"}, config.Auth("basic", "", "pw", username="ops")),
        (BEARER_ENV, {"secrets": {"password-env": "P"}, "username": "u"},
         config.Auth("basic", "-env", "P", username="u")),
        # --no-auth clears it all; nothing given changes nothing
        (BASIC, {"clear": True}, config.Auth()),
        (BASIC, {}, BASIC),
        (config.Auth(), {}, config.Auth()),
    ],
)  # fmt: skip
def test_set_context_auth_rules(before, change, after):
    assert before.changed(change.pop("secrets", {}), **change) == after


@pytest.mark.parametrize(
    "before, change, message",
    [
        (BASIC, {"secrets": {"token": "t", "password": "p"}}, "choose one of bearer token"),
        (BASIC, {"secrets": {"token": "t"}, "clear": True}, "choose one of bearer token"),
        (BASIC, {"secrets": {"token": "t", "token-env": "T"}}, "give the token one way only"),
        (BEARER_ENV, {"username": "u"}, "--username needs a basic password"),
        (BASIC, {"username": "u", "clear": True}, "--username needs a basic password"),
        # a password needs a user: given, or kept from a basic auth (not a bearer's stray one)
        (BEARER_ENV, {"secrets": {"password": "p"}}, "--password needs --username"),
        (replace(BEARER_ENV, username="u"), {"secrets": {"password-env": "P"}},
         "--password-env needs --username"),
        (config.Auth("basic", "-file", "/pw"), {"secrets": {"password": "p"}},
         "--password needs --username"),
    ],
)  # fmt: skip
def test_set_context_auth_rules_refuse(before, change, message):
    with pytest.raises(UsageError, match=message):
        before.changed(change.pop("secrets", {}), **change)


def test_set_context_tls_rules(tmp_path):
    ca, cert, key = (write(tmp_path / n, "x") for n in ("ca.pem", "me.pem", "me-key.pem"))
    tls = config.TLS(ca_file="/old-ca.pem", insecure_skip_verify=True)
    assert tls.changed() == tls
    assert tls.changed(cert_file=str(cert), key_file=str(key)) == config.TLS(
        "/old-ca.pem", str(cert), str(key), insecure_skip_verify=True
    )
    assert tls.changed(ca_file=str(ca), insecure_skip_verify=False) == config.TLS(str(ca))
    with pytest.raises(UsageError, match=f"--ca-file: no such file {tmp_path}/nope"):
        tls.changed(ca_file=str(tmp_path / "nope"))
    with pytest.raises(UsageError, match="--key-file needs a client certificate"):
        tls.changed(key_file=str(key))


def test_set_context_switches_and_clears_auth_in_the_file(cli, tmp_path):
    import yaml

    def stored():
        return yaml.safe_load((tmp_path / "config.yaml").read_text())["contexts"]["a"]

    steps = [
        (("--url", "http://a:1", "--token-env", "TOK"), {"type": "bearer", "token-env": "TOK"}),
        (("--password", "pw", "--username", "u"),
         {"type": "basic", "username": "u", "password": "pw"}),
        (("--password-env", "PW"), {"type": "basic", "username": "u", "password-env": "PW"}),
        (("--token-file", "/t"), {"type": "bearer", "token-file": "/t"}),
        (("--no-auth",), None),
    ]  # fmt: skip
    for args, auth in steps:
        r = cli("config", "set-context", "a", *args, url="")
        assert (r.code, r.out) == (0, ""), r.err
        assert stored().get("auth") == auth, args
    r = cli("config", "set-context", "a", "--insecure-skip-verify", url="")
    assert r.code == 0 and stored()["tls"] == {"insecure-skip-verify": True}
    r = cli("config", "set-context", "a", "--verify", url="")
    assert r.code == 0 and "tls" not in stored()


# -- set-context refuses what cannot work, exit 2, and leaves the file as it was --------------

BEARER_CONTEXT = ("--url", "http://p:1", "--token", "t")
HEADER_CONTEXT = ("--url", "http://p:1", "-H", "authorization=Bearer t")


@pytest.mark.parametrize(
    "before, args, stdin, message",
    [
        # a basic password without a user would send `Basic :pw`
        (BEARER_CONTEXT, ("--password", "pw3"), "", "--password needs --username"),
        # empty values, as an empty NAME is refused
        (BEARER_CONTEXT, ("--url", ""), "", "--url: must not be empty"),
        (BEARER_CONTEXT, ("--token-env", " "), "", "--token-env: must not be empty"),
        (BEARER_CONTEXT, ("--ca-file", ""), "", "--ca-file: must not be empty"),
        # one option reads stdin: said before either reads it
        (BEARER_CONTEXT, ("--token", "-", "--password", "-"), "s\n",
         "only one option can read stdin: --token - or --password -"),
        # auth replaces an Authorization header: a context has one or the other
        (BEARER_CONTEXT, ("-H", "Authorization=Bearer x"), "",
         "context 'p' cannot have both bearer auth and an 'Authorization' header"),
        (HEADER_CONTEXT, ("--password", "pw", "--username", "u"), "",
         "context 'p' cannot have both basic auth and an 'authorization' header"),
        # headers checked as the file's are, before saving, and no value shown (break-it 8)
        (BEARER_CONTEXT, ("-H", "X-Token: S3cr3t"), "", "--header 'X-Token'...: expected NAME="),
        (BEARER_CONTEXT, ("-H", "X-A=caf\u00e9"), "", "--header: header 'X-A' must have an ASCII"),
        (BEARER_CONTEXT, ("-H", "X-A=a\r\nb: c"), "", "--header: header 'X-A' must have a one-l"),
        (BEARER_CONTEXT, ("-H", "Bad Name=v"), "", "--header: header name 'Bad Name' is not a"),
    ],
)  # fmt: skip
def test_set_context_refuses_what_cannot_work(
    cli, tmp_path, monkeypatch, before, args, stdin, message
):
    path = tmp_path / "config.yaml"
    assert cli("config", "set-context", "p", *before, url="").code == 0
    saved = path.read_bytes()
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    r = cli("config", "set-context", "p", *args, url="")
    assert (r.code, r.out) == (2, "")
    assert r.err.startswith(f"error: {message}"), r.err
    assert "S3cr3t" not in r.err and "malformed" not in r.err
    assert path.read_bytes() == saved


def test_an_authorization_header_goes_with_no_auth(cli, tmp_path):
    assert cli("config", "set-context", "p", *BEARER_CONTEXT, url="").code == 0
    r = cli("config", "set-context", "p", "--no-auth", "-H", "Authorization=Bearer x", url="")
    assert r.code == 0, r.err
    assert config.load(tmp_path / "config.yaml").get("p").headers == {"Authorization": "Bearer x"}


@pytest.mark.parametrize("name", ["a\nb", "a\tb", "a\x1bb", "a\x85b", "a\u202eb"])
def test_a_context_name_with_a_control_character_is_refused(cli, tmp_path, name):
    r = cli("config", "set-context", name, "--url", "http://a:1", url="")
    assert (r.code, r.out) == (2, "")
    assert (
        r.err
        == f"error: context name {name!r}: control characters (a line break, a tab, a direction override, ...) are not allowed\n"
    )
    assert (tmp_path / "config.yaml").read_text() == ""


@pytest.mark.parametrize(
    "url",
    [
        "http://h/?token=SECRETQ",
        "http://h/p?a=1&password=SECRETQ",
        "http://h/#access_token=SECRETQ",
        "h:8081/?token=SECRETQ",  # no scheme: the message suggests one
        "http://admin:SECRETQ@h:99999/",
    ],
)
def test_a_refused_url_shows_no_query_value_or_password(cli, monkeypatch, url):
    for args, env in (
        (("config", "set-context", "x", "--url", url), None),
        (("--url", url, "jobs", "list"), None),
        (("jobs", "list"), url),
    ):
        if env:
            monkeypatch.setenv("FLINKCTL_URL", env)
        r = cli(*args, url="")
        assert (r.code, r.out) == (2, ""), args
        assert r.err.startswith("error: invalid URL '") and "SECRETQ" not in r.err, r.err


def test_redact_url_hides_query_and_fragment_values():
    url = "https://u:pw@h:1/p?token=t&flag&empty=#frag"
    hidden = "https://h:1/p?token=REDACTED&REDACTED&empty=#REDACTED"
    assert config.redact_url(url, query=True) == hidden
    assert (
        config.redact_url(url, "***", query=True) == "https://u:***@h:1/p?token=***&***&empty=#***"
    )
    assert config.redact_url(url) == "https://h:1/p?token=t&flag&empty=#frag"
