"""Shell completion: the protocol, dynamic values (config file, test cluster), real bash/zsh/fish.

The protocol tests answer in-process; the tests that drive a real bash, zsh or fish (each
starting flinkctl per TAB) are marked `shells`; where they run, a missing shell fails the test
(scripts/test installs zsh and fish).
"""

from __future__ import annotations

import io
import os
import pty
import re
import select
import shutil
import socket
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

import pytest
import typer

from flinkctl.cli.common import completers
from flinkctl.cli.completion import BashComplete, script

REPO = Path(__file__).resolve().parents[1]
COMPLETIONS = REPO / "completions"
NEWEST = sorted(
    p.name.removeprefix("flink-") for p in (REPO / "tests" / "fixtures").glob("flink-*")
)[-1]
BIN = Path(sys.executable).parent
FLINKCTL = BIN / "flinkctl"


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **extra}


def _shell(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is not installed: apt-get install {name} (scripts/test does)"
    return path


def ask(line: str, shell: str = "fish", **env: str) -> list[str]:
    """One completion request as the scripts send it, answered in this process (the real
    scripts, which start flinkctl, are driven by the tests further down): the candidate lines."""
    from flinkctl.cli.common.failures import run
    from flinkctl.cli.completion import register
    from flinkctl.cli.main import app

    out, err = io.StringIO(), io.StringIO()
    request = {"_FLINKCTL_COMPLETE": f"complete_{shell}", "_TYPER_COMPLETE_ARGS": line, **env}
    with mock.patch.dict(os.environ, request), redirect_stdout(out), redirect_stderr(err):
        register()
        code = run(app, [])
    assert (code, err.getvalue()) == (0, "")
    return [ln for ln in out.getvalue().splitlines() if ln]


def values(line: str, **env: str) -> list[str]:
    return [c.split("\t")[0] for c in ask(line, **env)]


@pytest.fixture
def contexts(httpserver) -> Path:
    """A config file with three contexts; `test` points at the test server."""
    path = Path(os.environ["FLINKCTL_CONFIG"])
    path.write_text(
        "current-context: prod\n"
        "contexts:\n"
        "  prod: {url: 'https://flink.example.com'}\n"
        "  staging: {url: 'http://127.0.0.1:9'}\n"
        f"  test: {{url: '{httpserver.url_for('').rstrip('/')}'}}\n"
    )
    return path


@pytest.fixture
def cluster(httpserver, flink):
    """The test server answering with recorded responses (once per recorded Flink version)."""
    flink.serve(httpserver, "taskmanagers", "jobs-overview", "job", "jars")
    return flink


@pytest.fixture
def url(httpserver) -> str:
    return httpserver.url_for("").rstrip("/")


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


# --- the protocol -----------------------------------------------------------------------


def test_commands_and_options():
    assert "jobs" in values("flinkctl jo")
    assert "taskmanagers" in values("flinkctl t")
    assert "tm" not in values("flinkctl t"), "hidden aliases are not offered"
    assert set(values("flinkctl --con")) == {"--context", "--config"}
    assert values("flinkctl completion ") == ["bash", "zsh", "fish"]


def test_context_names_from_the_config_file(contexts):
    assert values("flinkctl config use-context ") == ["prod", "staging", "test"]
    assert values("flinkctl config delete-context st") == ["staging"]
    assert values("flinkctl --context ") == ["prod", "staging", "test"]
    assert values("flinkctl --context p") == ["prod"]
    assert values("flinkctl --context=s") == ["--context=staging"]
    assert "prod\thttps://flink.example.com" in ask("flinkctl config use-context ")


def test_context_names_honour_config_given_earlier(contexts, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text("contexts:\n  elsewhere: {url: 'http://localhost:1'}\n")
    assert values(f"flinkctl --config {other} config use-context ") == ["elsewhere"]
    assert values("flinkctl config use-context ", FLINKCTL_CONFIG=str(other)) == ["elsewhere"]


def test_no_or_broken_config_file_means_no_context_names():
    assert values("flinkctl config use-context ") == []
    Path(os.environ["FLINKCTL_CONFIG"]).write_text("contexts: [")
    assert values("flinkctl config use-context ") == []


def test_taskmanager_ids_from_the_cluster(cluster, contexts, url):
    tm = cluster.ids["tmid"]
    assert values(f"flinkctl --url {url} tm show ") == [tm]
    assert values(f"flinkctl --url {url} taskmanagers logs {tm[:4]}") == [tm]
    assert values(f"flinkctl --url {url} tm show nope") == []
    assert values("flinkctl --context test tm thread-dump ") == [tm]
    assert values("flinkctl tm show ", FLINKCTL_URL=url) == [tm]
    assert values("flinkctl tm show ", FLINKCTL_CONTEXT="test") == [tm]
    assert ask("flinkctl --context test tm show ") == [f"{tm}\t1/2 slots free"]


def test_unreachable_cluster_completes_nothing_within_a_second(silent_port):
    start = time.monotonic()
    assert ask(f"flinkctl --url http://127.0.0.1:{silent_port} tm show ") == []
    # one attempt with a 1 s timeout: well under a retry budget (20 s), with room for a
    # loaded machine starting the subprocess
    assert time.monotonic() - start < 6, "one attempt with a 1 s timeout, no retries"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    assert ask(f"flinkctl --url http://127.0.0.1:{closed} tm show ") == []


def _ctx(**params) -> typer.Context:
    """A root context carrying PARAMS, as the completion machinery builds it."""
    from flinkctl.cli.main import app

    ctx = typer.Context(typer.main.get_command(app))
    ctx.params = params
    return ctx


def test_job_jar_and_vertex_callbacks(cluster, url):
    jobs = cluster.body("jobs-overview")["jobs"]
    ctx = _ctx(url=url)
    assert completers.jobs(ctx, "") == [(j["jid"], f"{j['name']} ({j['state']})") for j in jobs]
    assert completers.jobs(ctx, "zz") == []
    jars = [(j["id"], j["name"]) for j in cluster.body("jars")["files"]]
    assert jars and completers.jars(ctx, "") == jars
    assert completers.jars(ctx, jars[0][0][:3]) == jars[:1]
    jid = cluster.ids["jobid"]
    names = [(v["name"], v["id"]) for v in cluster.body("job")["vertices"]]
    assert "Source: Sequence -> Timestamps -> Throttle" in dict(names)
    for job in (jid, jid[:6], "flinkctl-demo"):
        assert completers.vertices(_ctx(url=url, job=job), "") == names
    assert completers.vertices(_ctx(url=url, job=jid), "Sou") == names[:1]
    assert completers.vertices(_ctx(url=url), "") == []


def test_callbacks_are_silent_when_the_cluster_is_down(silent_port):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    ctx = _ctx(url=f"http://127.0.0.1:{closed}", job="a" * 32)
    for callback in (
        completers.jobs,
        completers.jars,
        completers.taskmanagers,
        completers.vertices,
    ):
        assert callback(ctx, "") == []
    assert completers.taskmanagers(_ctx(url=f"http://127.0.0.1:{silent_port}"), "") == []


def test_bash_reply_is_escaped_and_trimmed_to_what_bash_replaces(monkeypatch):
    bash = BashComplete(None, {}, "flinkctl", "_FLINKCTL_COMPLETE")
    for cur, incomplete, value, reply in [
        ("So", "So", "Source: Seq -> Map", "Source:\\ Seq\\ -\\>\\ Map"),
        ("\\ S", "Source: S", "Source: Seq -> Map", "\\ Seq\\ -\\>\\ Map"),  # split at ':'
        ("36", "localhost:36", "localhost:36431-2c", "36431-2c"),
        ("=", "--context=", "--context=prod", "=prod"),
        ("", "", "prod", "prod"),
    ]:
        monkeypatch.setenv("_FLINKCTL_COMPLETE_WORD", cur)
        assert bash.render(value, None, incomplete) == reply


def test_completion_imports_stay_light(contexts):
    def imported(line: str) -> set[str]:
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "flinkctl"],
            env=_env(_FLINKCTL_COMPLETE="complete_bash", _TYPER_COMPLETE_ARGS=line),
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0
        return {ln.split("|")[-1].strip() for ln in proc.stderr.splitlines() if "|" in ln}

    heavy = {"rich", "httpx", "yaml", "pydantic"}
    assert not heavy & imported("flinkctl jo")
    assert not heavy & imported("flinkctl tm show --out")
    assert not {"rich", "httpx"} & imported("flinkctl config use-context ")


def test_group_names_complete_with_their_help_without_importing_any_group():
    # importlib.import_module (how groups load) is invisible to -X importtime: ask sys.modules
    code = (
        "import sys\n"
        "from flinkctl.cli.main import MODULES, main\n"
        "try:\n    main()\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(set(MODULES.values()) & set(sys.modules)), file=sys.stderr)\n"
    )
    env = _env(_FLINKCTL_COMPLETE="complete_fish", _TYPER_COMPLETE_ARGS="flinkctl jo")
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert proc.stdout.splitlines() == [
        "jobmanager\tThe JobManager: configuration, metrics,...",
        "jobs\tJobs: list, inspect, cancel, stop, rescale.",
    ]
    assert proc.stderr == "['flinkctl.cli.completion']\n"  # it registers the shells


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_scripts_in_completions_are_the_commands(shell):
    from flinkctl.cli.completion import SCRIPT_FILES

    printed = subprocess.run(
        [str(FLINKCTL), "completion", shell], capture_output=True, text=True, check=True
    ).stdout
    assert printed == script(shell) == (COMPLETIONS / SCRIPT_FILES[shell]).read_text()
    sourced = subprocess.run(
        [str(FLINKCTL)],
        env=_env(_FLINKCTL_COMPLETE=f"source_{shell}"),
        capture_output=True,
        text=True,
    ).stdout
    assert sourced.rstrip("\n") == printed.rstrip("\n")


# --- real shells --------------------------------------------------------------------------


def _bash_words(line: str) -> list[str]:
    """COMP_WORDS as readline splits LINE (whitespace, and ':' '=' from COMP_WORDBREAKS)."""
    words = re.findall(r"[^\s:=]+|[:=]+", line)
    return [*words, ""] if line.endswith(" ") else words


def bash(line: str) -> list[str]:
    """COMPREPLY after the bash completion function ran for LINE (cursor at the end)."""
    code = (
        f"source {COMPLETIONS / 'flinkctl.bash'}\n"
        'COMP_LINE=$1 COMP_POINT=${#1}; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))\n'
        "_flinkctl_completion flinkctl\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    proc = subprocess.run(
        [_shell("bash"), "--norc", "--noprofile", "-c", code, "bash", line, *_bash_words(line)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    return [ln for ln in proc.stdout.splitlines() if ln]


def fish(line: str) -> list[str]:
    """`complete -C LINE` in fish after loading the completion script: the values."""
    code = f"source {COMPLETIONS / 'flinkctl.fish'}; complete -C '{line}'"
    proc = subprocess.run(
        [_shell("fish"), "--no-config", "-c", code],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    return [ln.split("\t")[0] for ln in proc.stdout.splitlines()]


class Terminal:
    """An interactive shell on a pseudo-terminal, typed at like a person would."""

    def __init__(self, argv: list[str], home: Path, setup: str) -> None:
        master, slave = pty.openpty()
        self.fd = master
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            env=_env(HOME=str(home), TERM="dumb"),
        )
        os.close(slave)
        self.screen, self.seen = "", 0
        self.send(f"{setup}\necho READY$((6*7))\n")
        self.expect(r"READY42")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        os.close(self.fd)

    def send(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def expect(self, pattern: str, timeout: float = 15) -> re.Match:
        """Wait for PATTERN in the output after the previous match."""
        deadline = time.monotonic() + timeout
        while not (found := re.search(pattern, self.screen[self.seen :], re.M)):
            assert time.monotonic() < deadline, f"no {pattern!r} in:\n{self.screen[-3000:]}"
            if select.select([self.fd], [], [], 0.1)[0]:
                self.screen += os.read(self.fd, 65536).decode(errors="replace")
        self.seen += found.end()
        return found

    def completed(self, keys: str) -> str:
        """Type KEYS and TAB; the line as completed (Ctrl-A and `echo @@ ` print it)."""
        self.send(keys + "\t\x01echo @@ \n")
        return self.expect(r"^@@ (.*?)\r?$").group(1).strip()

    def listing(self, keys: str, pattern: str) -> None:
        """Type KEYS and TAB, wait for PATTERN among the listed candidates, clear the line."""
        self.send(keys + "\t")
        self.expect(pattern)
        self.send("\x15")


@pytest.fixture
def terminal(tmp_path):
    opened: list[Terminal] = []

    def start(argv: list[str], setup: str) -> Terminal:
        opened.append(Terminal(argv, tmp_path, setup))
        return opened[-1]

    yield start
    for term in opened:
        term.close()


@pytest.mark.shells
@pytest.mark.parametrize("flink", [NEWEST], indirect=True)
def test_bash(cluster, contexts, url):
    assert "jobs" in bash("flinkctl jo")
    assert bash("flinkctl config use-context ") == ["prod", "staging", "test"]
    assert bash("flinkctl --context=st") == ["staging"]
    assert bash("flinkctl --context=") == ["=prod", "=staging", "=test"]
    tm = cluster.ids["tmid"]
    assert bash(f"flinkctl --url {url} tm show ") == [tm]
    host, _, rest = tm.partition(":")
    assert bash(f"flinkctl --url {url} tm show {host}:{rest[:2]}") == [rest]


@pytest.mark.shells
@pytest.mark.parametrize("flink", [NEWEST], indirect=True)
def test_bash_interactive(cluster, contexts, terminal):
    sh = terminal(
        [_shell("bash"), "--norc", "--noprofile", "-i"],
        f"PS1='$ '; source {COMPLETIONS / 'flinkctl.bash'}; bind 'set show-all-if-ambiguous on'",
    )
    sh.listing("flinkctl jo", r"jobmanager\s+jobs")
    assert sh.completed("flinkctl config use-context sta") == "flinkctl config use-context staging"
    assert sh.completed("flinkctl --context=te") == "flinkctl --context=test"
    line = f"flinkctl --context test tm show {cluster.ids['tmid']}"
    assert sh.completed(line[: line.rindex(":") + 2]) == line


@pytest.mark.shells
@pytest.mark.parametrize("flink", [NEWEST], indirect=True)
@pytest.mark.parametrize("load", ["source", "fpath"])
def test_zsh_interactive(cluster, contexts, terminal, load):
    init = "autoload -U compinit && compinit -u -D"
    setup = {
        "source": f"{init}; source {COMPLETIONS / '_flinkctl'}",
        "fpath": f"fpath=({COMPLETIONS} $fpath); {init}",
    }[load]
    sh = terminal(
        [_shell("zsh"), "-f", "-i"], f"PS1='$ '; bindkey -e; unsetopt list_ambiguous; {setup}"
    )
    sh.listing("flinkctl jo", r"jobmanager\s+-- The JobManager.*\n.*jobs\s+-- Jobs")
    sh.listing("flinkctl config use-context ", r"prod\s+-- https://flink\.example\.com")
    assert sh.completed("flinkctl comp") == "flinkctl completion"
    assert sh.completed("flinkctl config use-context sta") == "flinkctl config use-context staging"
    line = f"flinkctl --context test tm show {cluster.ids['tmid']}"
    assert sh.completed("flinkctl --context test tm show ") == line


@pytest.mark.shells
def test_fish(cluster, contexts, url):
    assert "jobs" in fish("flinkctl jo")
    assert fish("flinkctl config use-context ") == ["prod", "staging", "test"]
    assert fish("flinkctl --context=st") == ["--context=staging"]
    tm = cluster.ids["tmid"]
    assert fish(f"flinkctl --url {url} tm show ") == [tm]
    assert fish("flinkctl --context test tm show ") == [tm]
    assert fish(f"flinkctl --url {url} tm show {tm[:12]}") == [tm]
