"""Config files: a named file must exist; unreadable, undecodable and wrongly shaped files are
exit 2 naming the file and the problem; a failed change leaves the file byte for byte; concurrent
writers lose no update; a file others may read that holds an inline secret draws a warning."""

import ctypes
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flinkctl import config, yamlfile
from flinkctl.errors import ConfigError, FlinkctlWarning, UsageError


def flinkctl(*args: str, drop_root_powers: bool = False, **kwargs) -> subprocess.CompletedProcess:
    """Run the real flinkctl in a process of its own (ARGS after `-c CODE`: Python instead)."""
    return subprocess.run(
        [sys.executable, *(args if args[0] == "-c" else ("-m", "flinkctl", *args))],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_without_dac_override if drop_root_powers and os.geteuid() == 0 else None,
        **kwargs,
    )


def _without_dac_override() -> None:
    """Drop root's power to read any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so a mode
    000 file is unreadable to the test's process as it would be to a user."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


# -- which file -------------------------------------------------------------------------------


def test_a_named_config_that_does_not_exist_is_exit_2(cli, tmp_path, monkeypatch):
    missing = tmp_path / "no" / "such.yaml"
    for args, env in (
        (("--config", str(missing), "jobs", "list"), {}),
        (("jobs", "list"), {"FLINKCTL_CONFIG": str(missing)}),
        (("--config", str(missing), "config", "get-contexts"), {}),
        (("--config", str(missing), "config", "use-context", "a"), {}),
    ):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        r = cli(*args, url="")
        assert (r.code, r.out) == (2, "")
        assert r.err.startswith(f"error: config file {missing} does not exist\n")
        assert "hint: check --config / FLINKCTL_CONFIG" in r.err
    assert not missing.parent.exists()


def test_the_default_config_may_be_absent(cli, monkeypatch, tmp_path):
    monkeypatch.delenv("FLINKCTL_CONFIG")
    r = cli("config", "get-contexts", "-o", "json", url="")
    assert (r.code, r.out, r.err) == (0, "[]\n", "")
    assert not (tmp_path / "xdg").exists()


def test_set_context_creates_a_named_config(cli, tmp_path):
    path = tmp_path / "new" / "ci.yaml"
    r = cli("--config", str(path), "config", "set-context", "ci", "--url", "http://ci:8081", url="")
    assert r.code == 0, r.err
    assert config.load(path).get("ci").url == "http://ci:8081"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["ci.yaml"]  # no lock or temp file


def test_url_bypasses_a_missing_named_config(cli, httpserver, flink, tmp_path):
    flink.serve(httpserver, "overview")
    r = cli("--config", str(tmp_path / "absent.yaml"), "cluster", "overview")
    assert r.code == 0


# -- unreadable, undecodable, wrongly shaped ------------------------------------------------------


def test_an_unreadable_file_is_exit_2(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("contexts: {}\n")
    path.chmod(0)
    p = flinkctl("--config", str(path), "config", "get-contexts", drop_root_powers=True)
    assert (p.returncode, p.stdout) == (2, "")
    assert f"'{path}' is not readable" in p.stderr and "Traceback" not in p.stderr
    # the library, with no command-line check in front, names the file and the problem too
    code = "import sys; from flinkctl import config; config.load(sys.argv[1])"
    p = flinkctl("-c", code, str(path), drop_root_powers=True)
    assert f"ConfigError: cannot read config file {path}: Permission denied" in p.stderr


def test_a_directory_is_not_a_config_file(cli, tmp_path):
    r = cli("--config", str(tmp_path), "config", "view", url="")
    assert (r.code, r.out) == (2, "")
    assert f"'{tmp_path}' is a directory" in r.err
    with pytest.raises(ConfigError, match=f"cannot read config file {tmp_path}: Is a directory"):
        config.load(tmp_path)


def test_a_file_that_is_not_utf8_names_the_line_and_byte(cli, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"contexts:\n  a: {url: 'http://a:1'}\n# caf\xe9\n")
    r = cli("config", "view", url="")
    assert (r.code, r.out) == (2, "")
    assert r.err == (
        f"error: malformed config file {path}:3: not UTF-8 text (byte 0xe9 at offset 40)\n"
    )


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"#" * (yamlfile.MAX_BYTES + 10))
    with pytest.raises(ConfigError, match="larger than 4 MiB"):
        config.load(path)


def test_a_byte_order_mark_is_fine(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes("contexts:\n  a: {url: 'http://a:1'}\n".encode("utf-8-sig"))
    assert config.load(path).get("a").url == "http://a:1"


# (file text, line named, problem named)
SHAPES = [
    ("- a\n- b\n", None, "expected a mapping at the top"),
    ("contexts: [a]\n", 1, "'contexts' must be a mapping"),
    ("context:\n  a: {url: 'http://a:1'}\n", 1, "unknown key 'context'"),
    ("current-context: [a]\ncontexts: {}\n", 1, "'current-context' must be a context name"),
    ("contexts:\n  a: http://a:1\n", 2, "context 'a' must be a mapping"),
    ("contexts:\n  a: {timeout: 3}\n", 2, "'url' must be an http"),
    ("contexts:\n  a:\n    url: 8081\n", 3, "'url' must be an http"),
    ("contexts:\n  a: {url: 'http://a:1', colour: red}\n", 2, "unknown key 'colour'"),
    ("contexts:\n  a: {url: 'http://a:1', auth: [x]}\n", 2, "'auth' must be a mapping"),
    ("contexts:\n  a: {url: 'http://a:1', auth: {type: magic}}\n", 2, "auth 'type' must be"),
    ("contexts:\n  a:\n    url: http://a:1\n    auth: {type: bearer}\n", 4, "needs its token"),
    (
        "contexts:\n  a:\n    url: http://a:1\n    auth: {type: bearer, token: t, token-env: T}\n",
        4,
        "needs its token one way",
    ),
    (
        "contexts:\n  a:\n    url: http://a:1\n    auth: {type: bearer, password: p}\n",
        4,
        "takes a token, not 'password'",
    ),
    (
        "contexts:\n  a:\n    url: http://a:1\n    auth:\n      type: basic\n      password: 1234\n",
        6,
        "auth 'password' must be text (quote it in YAML)",
    ),
    ("contexts:\n  a: {url: 'http://a:1', auth: {type: basic, pw: x}}\n", 2, "unknown auth key"),
    ("contexts:\n  a: {url: 'http://a:1', tls: {ca: x}}\n", 2, "unknown tls key 'ca'"),
    ("contexts:\n  a: {url: 'http://a:1', tls: {ca-file: 7}}\n", 2, "tls 'ca-file' must be a file"),
    (
        "contexts:\n  a: {url: 'http://a:1', tls: {insecure-skip-verify: 'yes'}}\n",
        2,
        "must be true or false",
    ),
    ("contexts:\n  a: {url: 'http://a:1', tls: {key-file: k}}\n", 2, "'key-file' needs a"),
    ("contexts:\n  a: {url: 'http://a:1', headers: [x]}\n", 2, "'headers' must be a mapping"),
    ("contexts:\n  a: {url: 'http://a:1', headers: {'X Y': 1}}\n", 2, "not a valid HTTP header"),
    ("contexts:\n  a: {url: 'http://a:1', headers: {X: [1]}}\n", 2, "one-line text value"),
    ('contexts:\n  a: {url: "http://a:1", headers: {X: "a\\nb"}}\n', 2, "one-line text value"),
    ("contexts:\n  a: {url: 'http://a:1', headers: {X: caf\u00e9}}\n", 2, "an ASCII value"),
    ("contexts:\n  a: {url: 'http://a:1', timeout: soon}\n", 2, "timeouts must be durations"),
    ("contexts:\n  a: {url: 'http://a:1', timeout: -1}\n", 2, "more than 0"),
    ("contexts:\n  a: {url: 'http://a:1', connect-timeout: true}\n", 2, "timeouts must be"),
    ("contexts:\n  a: {url: 'http://a:1', retry-budget: -1}\n", 2, "'retry-budget' must be"),
    ("contexts:\n  a: {url: 'http://a:1', retry-budget: .nan}\n", 2, "'retry-budget' must be"),
    ("contexts:\n  a: {url: 'http://a:1', timeout: .inf}\n", 2, "timeouts must be durations"),
    ("contexts:\n  a: {url: 'http://a:1'\n", 3, "expected ',' or '}'"),
    ("contexts:\n\ta: {}\n", 2, "found character '\\t'"),
    ("contexts: !!python/object:os.system {}\n", 1, "could not determine a constructor"),
    ("contexts:\n  a: \x00\n", 2, "special characters are not allowed"),
    ("contexts: {a: 1}\n--- \nmore: 2\n", 2, "but found another document"),
    # a duplicate key: not silently the last one
    ("contexts:\n  a:\n    url: http://a:1\n    url: http://a:2\n", 4,
     "duplicate key 'url' (first on line 3)"),
    ("contexts:\n  a: {url: 'http://a:1'}\n  a: {url: 'http://a:2'}\n", 3,
     "duplicate key 'a' (first on line 2)"),
    ("contexts: {}\ncontexts: {}\n", 2, "duplicate key 'contexts'"),
    # a name get-contexts could not print on one line
    ('contexts:\n  "a\\nb": {url: "http://a:1"}\n', 2, "context name 'a\\nb': control characters"),
    ('contexts:\n  "a\\tb": {url: "http://a:1"}\n', 2, "context name 'a\\tb': control characters"),
    # a URL's secrets stay out of the message
    ("contexts:\n  a: {url: 'a:1/?token=SECRETQ'}\n", 2, "(http://a:1/?token=REDACTED ?)"),
]  # fmt: skip


@pytest.mark.parametrize("text, line, problem", SHAPES)
def test_wrongly_shaped_files_are_exit_2_naming_file_line_and_problem(
    cli, tmp_path, text, line, problem
):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    for args in (
        ("jobs", "list"),
        ("config", "view"),
        ("config", "set-context", "b", "--url", "http://b:1"),
    ):
        r = cli(*args, url="")
        assert (r.code, r.out) == (2, ""), (args, r.err, text)
        where = f"{path}:{line}" if line else f"{path}:"
        assert r.err.startswith(f"error: malformed config file {where}"), r.err
        assert problem in r.err and "Traceback" not in r.err and "SECRETQ" not in r.err
        assert len(r.err.splitlines()) == 1
        assert path.read_text() == text  # never replaced


def loaded_with_warnings(path: Path, text: str) -> tuple[config.Context, list[str]]:
    """Context 'a' of a config file of TEXT written at PATH, and the warnings loading it gave."""
    path.write_text(text)
    with pytest.warns(FlinkctlWarning) as caught:
        ctx = config.load(path).get("a")
    return ctx, [str(w.message) for w in caught]


def test_an_authorization_header_beside_auth_in_a_file_is_a_warning(tmp_path):
    """`set-context` refuses the pair; a file that has it still loads (the auth wins, as it did
    before), with a warning naming the line."""
    path = tmp_path / "config.yaml"
    ctx, warned = loaded_with_warnings(
        path,
        "contexts:\n  a:\n    url: http://a:1\n    auth: {type: bearer, token-env: T}\n"
        "    headers: {AUTHORIZATION: x}\n",
    )
    assert (ctx.auth.kind, ctx.headers) == ("bearer", {"AUTHORIZATION": "x"})
    assert warned == [
        f"{path}:5: context 'a': its bearer auth replaces header 'AUTHORIZATION'; keep one"
    ]


def test_yaml_files_refuse_duplicate_keys_and_keep_merge_keys():
    with pytest.raises(yamlfile.Malformed) as info:
        yamlfile.parse("jar: a.jar\nconf:\n  x: 1\n  x: 2\n", "d.yaml")
    assert (info.value.where, info.value.problem) == (
        "d.yaml:4",
        "duplicate key 'x' (first on line 3)",
    )
    _, merged = yamlfile.parse("base: &b {x: 1, y: 2}\nmine: {<<: *b, x: 3}\n", "d.yaml")
    assert merged == {"base": {"x": 1, "y": 2}, "mine": {"x": 3, "y": 2}}
    # a merge of a mapping that merges and overrides (break-it round 8: a false duplicate)
    _, merged = yamlfile.parse("b: &b {a: 1}\no:\n  x: &x {<<: *b, a: 2}\ny: {<<: *x}\n", "d")
    assert merged["o"] == {"x": {"a": 2}}


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_a_yaml_file_nested_too_deeply_is_malformed_not_a_traceback(depth):
    """Break-it round 8: 2 KB of `[` was a RecursionError."""
    with pytest.raises(yamlfile.Malformed, match="^d.yaml: nested too deeply$"):
        yamlfile.parse("a: " + "[" * depth + "]" * depth, "d.yaml")


# -- changes ----------------------------------------------------------------------------------


def test_a_failed_change_leaves_the_file_byte_for_byte(cli, tmp_path):
    path = tmp_path / "config.yaml"
    assert (
        cli("config", "set-context", "a", "--url", "http://a:1", "--token", "t", url="").code == 0
    )
    path.write_bytes(path.read_bytes() + b"# my notes\n")  # a comment flinkctl would not keep
    before = path.read_bytes()
    for args in (
        ("set-context", "a", "--url", "http://a:99999"),
        ("set-context", "a", "--key-file", str(path)),  # a key without a certificate
        ("set-context", "a", "--header", "X Y=1"),
        ("set-context", "a", "--retry-budget", "-1"),
        ("set-context", "a", "--timeout", "0s"),
        ("set-context", "a", "--timeout", "50ms"),  # below the 100ms floor
        ("set-context", "a", "--timeout", "soon"),
        ("set-context", "b", "--token", "t"),  # a new context needs --url
        ("use-context", "zz"),
        ("delete-context", "zz"),
    ):
        r = cli("config", *args, url="")
        assert r.code in (2, 3), (args, r.err)
        assert r.err.startswith("error: ") and "Traceback" not in r.err, r.err
        assert path.read_bytes() == before, args
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_symlinked_config_stays_a_symlink(cli, tmp_path, monkeypatch):
    real = tmp_path / "dotfiles" / "flinkctl.yaml"
    real.parent.mkdir()
    real.write_text("contexts: {}\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    monkeypatch.setenv("FLINKCTL_CONFIG", str(link))
    assert cli("config", "set-context", "a", "--url", "http://a:1", url="").code == 0
    assert link.is_symlink() and config.load(real).get("a").url == "http://a:1"


def test_retry_budget_is_a_context_setting(cli, tmp_path):
    assert (
        cli("config", "set-context", "a", "--url", "http://a:1", "--retry-budget", "3", url="").code
        == 0
    )
    assert config.load(tmp_path / "config.yaml").get("a").retry_budget == 3.0
    assert "retry-budget: 3.0" in (tmp_path / "config.yaml").read_text()


def test_time_settings_read_durations_in_the_file_and_on_the_command_line(cli, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("contexts:\n  a: {url: 'http://a:1', timeout: 45s, retry-budget: 1m}\n")
    ctx = config.load(path).get("a")
    assert (ctx.timeout, ctx.retry_budget, ctx.connect_timeout) == (45.0, 60.0, 5.0)
    r = cli("config", "set-context", "a", "--timeout", "2m", "--retry-budget", "500ms", url="")
    assert r.code == 0, r.err
    ctx = config.load(path).get("a")
    assert (ctx.timeout, ctx.retry_budget) == (120.0, 0.5)


@pytest.mark.parametrize(
    ("budget", "seconds"), [("20s", 20.0), ("1m", 60.0), ("3", 3.0), ("soon", None)]
)
def test_the_retry_budget_variable_reads_a_duration(monkeypatch, budget, seconds):
    monkeypatch.setenv("FLINKCTL_RETRY_BUDGET", budget)
    if seconds is None:
        with pytest.raises(UsageError, match="expected a duration"):
            config.resolve(url="http://a:1")
    else:
        assert config.resolve(url="http://a:1").retry_budget == seconds


def test_twenty_concurrent_writers_lose_no_update(tmp_path):
    path = tmp_path / "shared.yaml"
    env = {**os.environ, "FLINKCTL_CONFIG": str(path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "flinkctl", "config", "set-context", f"c{i:02d}",
             "--url", f"http://h{i}:8081", "--token", f"t{i}"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(20)
    ]  # fmt: skip
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert all(code == 0 for code, _ in results), results
    loaded = config.load(path)
    assert sorted(loaded.contexts) == [f"c{i:02d}" for i in range(20)]
    assert all(loaded.get(f"c{i:02d}").auth.secret == f"t{i}" for i in range(20))
    assert loaded.current_context in loaded.contexts
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if "shared" in p.name] == ["shared.yaml"]
    yaml.safe_load(path.read_text())


def test_the_lock_serialises_read_modify_write(tmp_path):
    """In one process: a second writer waits for the first, then sees its change."""
    import threading

    path = tmp_path / "c.yaml"
    order: list[str] = []
    first_in = threading.Event()

    def writer(name: str, hold: float) -> None:
        with config.editing(path, create=True) as cfg:
            order.append(f"{name} in")
            first_in.set()
            threading.Event().wait(hold)
            cfg.contexts[name] = config.Context(name=name, url=f"http://{name}:1")
            order.append(f"{name} out")

    t = threading.Thread(target=writer, args=("a", 0.3))
    t.start()
    first_in.wait(5)
    writer("b", 0)
    t.join()
    assert order == ["a in", "a out", "b in", "b out"]
    assert sorted(config.load(path).contexts) == ["a", "b"]


# -- secrets in a file others may read ----------------------------------------------------------


@pytest.mark.parametrize(
    "context, warned",
    [
        ("{url: 'http://a:1', auth: {type: bearer, token: s3cret}}", True),
        ("{url: 'http://a:1', auth: {type: basic, username: u, password: pw}}", True),
        ("{url: 'http://u:pw@a:1'}", True),
        ("{url: 'http://a:1', headers: {Authorization: 'Bearer s3cret'}}", True),
        ("{url: 'http://a:1', auth: {type: bearer, token-env: TOKEN}}", False),
        ("{url: 'http://a:1', auth: {type: bearer, token-file: /run/token}}", False),
        ("{url: 'http://a:1'}", False),
    ],
)
def test_a_readable_file_with_an_inline_secret_draws_a_warning(cli, tmp_path, context, warned):
    path = tmp_path / "config.yaml"
    path.write_text(f"contexts:\n  a: {context}\n")
    for mode in (0o644, 0o640, 0o604, 0o600):
        path.chmod(mode)
        r = cli("config", "get-contexts", "-o", "name", url="")
        assert (r.code, r.out) == (0, "a\n")
        if warned and mode & 0o077:
            assert r.err == (
                f"warning: {path} holds an inline secret (context 'a') and other users may "
                f"read it (mode {mode:04o}); run: chmod 600 {path}\n"
            )
        else:
            assert r.err == ""
        assert "s3cret" not in r.err and "pw" not in r.err.replace(path.name, "")


def test_saving_makes_a_readable_file_private(cli, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("contexts:\n  a: {url: 'http://a:1'}\n")
    path.chmod(0o644)
    assert cli("config", "set-context", "a", "--token", "t", url="").code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- the timeout floor ------------------------------------------------------------------------


def test_one_timeout_floor_for_the_file_and_set_context(cli, tmp_path):
    """A file written when the file's floor was 1 ms still loads: a shorter timeout is raised
    to the floor (100 ms) with a warning naming the line. `set-context --timeout` below it is a
    usage error and changes nothing."""
    path = tmp_path / "config.yaml"
    ctx, warned = loaded_with_warnings(
        path,
        "current-context: a\ncontexts:\n  a:\n    url: http://a:1\n    timeout: 0.05\n"
        "    connect-timeout: 1ms\n",
    )
    assert (ctx.timeout, ctx.connect_timeout) == (config.TIMEOUT_FLOOR, config.TIMEOUT_FLOOR)
    assert warned == [
        f"{path}:5: context 'a': timeout 50ms is below the 100ms floor; using 100ms",
        f"{path}:6: context 'a': connect-timeout 1ms is below the 100ms floor; using 100ms",
    ]
    r = cli("config", "get-contexts", "-o", "name", url="")
    assert (r.code, r.out) == (0, "a\n")
    assert r.err.splitlines() == [f"warning: {m}" for m in warned]

    before = path.read_text()
    r = cli("config", "set-context", "a", "--timeout", "99ms", url="")
    assert (r.code, r.out) == (2, "")
    assert r.err.splitlines()[-1] == "error: --timeout: expected 100ms or more"
    assert path.read_text() == before
    r = cli("config", "set-context", "a", "--timeout", "100ms", url="")
    assert r.code == 0, r.err
    assert config.load(path).get("a").timeout == 0.1
    assert "warning" not in cli("config", "get-contexts", url="").err  # the file says 0.1 now
