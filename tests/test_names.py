"""Names as users type them: singular and plural group aliases, "did you mean" for a mistyped
group or command, and bin/flink's option letters (-d drain, -s, -n, --savepoint-dir)."""

import subprocess
import sys

import pytest

from flinkctl.cli.main import ALIASES, GROUPS, MODULES, app

PAIRS = [
    ("savepoint", "savepoints"),
    ("jobs", "job"),
    ("jars", "jar"),
    ("checkpoints", "checkpoint"),
    ("taskmanagers", "taskmanager"),
    ("vertices", "vertex"),
    ("subtasks", "subtask"),
    ("datasets", "dataset"),
    ("applications", "application"),
    ("cluster", "clusters"),
    ("jobmanager", "jobmanagers"),
]


def tree():
    """Every command of the tree with its path, groups loaded (as docs generation does)."""
    import typer

    from flinkctl.docgen.tree import subcommands

    found = []

    def walk(path: tuple[str, ...], command) -> None:
        found.append((path, command))
        for name, sub in subcommands(command).items():
            walk((*path, name), sub)

    for name, group in subcommands(typer.main.get_command(app)).items():
        walk((name,), group)
    return found


@pytest.mark.parametrize("name, alias", PAIRS)
def test_each_group_answers_to_its_other_number(cli, name, alias):
    assert ALIASES[alias] == name
    r = cli(alias, "--help")
    assert r.code == 0, r.err
    assert dict((g[0], g[2]) for g in GROUPS)[name] in r.out


def test_aliases_are_hidden_from_help_and_the_command_list(cli):
    r = cli("--help")
    listed = {line.split()[1] for line in r.out.splitlines() if line.startswith("│ ")}
    assert set(MODULES) <= listed
    assert not listed & set(ALIASES)
    assert not {path[0] for path, _ in tree()} & set(ALIASES)  # docs, man pages, completions


def test_a_singular_alias_runs_the_group(flink, httpserver, cli):
    flink.serve(httpserver, "jars")
    assert cli("jar", "list", "-o", "json").json() == cli("jars", "list", "-o", "json").json()


@pytest.mark.parametrize(
    "argv, typo, suggestion",
    [
        (("jbos", "list"), "jbos", " Did you mean 'jobs'?"),
        (("savepionts",), "savepionts", " Did you mean 'savepoint'?"),  # via the alias
        (("vertx",), "vertx", " Did you mean 'vertices'?"),
        (("tm-list",), "tm-list", ""),
        (("jobs", "lst"), "lst", " Did you mean 'list'?"),  # a command inside a group
        (("savepoints", "triger"), "triger", " Did you mean 'trigger'?"),
    ],
)
def test_a_mistyped_name_gets_a_suggestion(cli, httpserver, argv, typo, suggestion):
    r = cli(*argv)
    assert (r.code, r.out) == (2, "")
    assert r.err.splitlines()[0] == f"error: No such command {typo!r}.{suggestion}"
    assert httpserver.log == []


def test_a_suggestion_imports_no_group():
    code = (
        "import sys\n"
        "from flinkctl.cli.main import MODULES, main\n"
        "sys.argv = ['flinkctl', 'jbos', 'list']\n"
        "try:\n    main()\n"
        "except SystemExit as exc:\n    print(exc.code)\n"
        "print(sorted(set(MODULES.values()) & set(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert proc.stdout.splitlines() == ["2", "[]"]
    assert "Did you mean 'jobs'?" in proc.stderr


@pytest.mark.parametrize(
    ("argv", "parts"),
    [
        (["jobs", "list"], ["read"]),
        (["jobs", "cancel"], ["lifecycle", "read"]),
        (["job", "nothing"], ["history", "lifecycle", "read"]),  # all, to suggest
    ],
)
def test_a_group_imports_its_parts_only_as_far_as_the_command(argv, parts):
    """`jobs list` imports the read commands, not those that change a job nor the history."""
    code = (
        "import sys\n"
        "from flinkctl.cli.main import main\n"
        f"sys.argv = ['flinkctl', *{argv!r}, '--help']\n"
        "try:\n    main()\n"
        "except SystemExit as exc:\n    pass\n"
        "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('flinkctl.cli.jobs.')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert proc.stdout.splitlines()[-1] == repr(parts)


def test_completion_offers_an_alias_only_when_no_group_name_matches():
    from flinkctl.cli.main import Root

    group = Root()

    def names(incomplete: str) -> list[str]:
        import typer

        ctx = typer.Context(group)
        return [item.value for item in group.shell_complete(ctx, incomplete)]

    assert names("job") == ["jobmanager", "jobs"]
    assert names("savepoints") == ["savepoints"]
    assert names("vertex") == ["vertex"]


# -- bin/flink's letters ------------------------------------------------------------------------


def options():
    """(command path, option names) of every option in the tree."""
    return [
        (" ".join(path), set(param.opts) | set(param.secondary_opts))
        for path, command in tree()
        for param in command.params
        if param.param_type_name == "option"
    ]


@pytest.mark.parametrize(
    "long, short",
    [("--drain", "-d"), ("--from-savepoint", "-s"), ("--allow-non-restored-state", "-n")],
)
def test_a_savepoint_option_has_bin_flinks_letter_wherever_it_appears(long, short):
    having = [(path, names) for path, names in options() if long in names]
    assert having
    assert all(short in names for _, names in having), having
    if short == "-d":  # and -d means nothing else
        assert all("--drain" in names for _, names in options() if "-d" in names)


def test_savepoint_dir_is_one_name_without_a_letter():
    having = {path: names for path, names in options() if "--savepoint-dir" in names}
    assert {"jobs stop", "savepoint trigger", "deploy"} <= set(having)
    assert all(names == {"--savepoint-dir"} for names in having.values())


def test_stop_d_drains(cli, flink, httpserver, trigger_id, expect):
    tid = trigger_id("stop-trigger")
    flink.serve(httpserver, "jobs-overview")  # the job's name, for the catalog
    body = {"triggerId": tid, "drain": True, "targetDirectory": "file:///sp"}
    expect("stop-trigger", json=body)
    r = cli("jobs", "stop", flink.ids["jobid"], "-d", "--savepoint-dir", "file:///sp", "--yes")
    assert (r.code, r.out) == (0, f"{tid}\n")


def test_savepoint_trigger_takes_savepoint_dir_and_its_old_hidden_name(
    cli, flink, httpserver, tid, expect
):
    jid = flink.ids["jobid"]
    flink.serve(httpserver, "jobs-overview")  # the job's name, for the catalog
    for option in ("--savepoint-dir", "--dir"):
        expect(
            "savepoint-trigger",
            json={"triggerId": tid, "cancel-job": False, "target-directory": "file:///sp"},
        )
        r = cli("savepoint", "trigger", jid, option, "file:///sp")
        assert (r.code, r.out) == (0, f"{tid}\n"), r.err
    r = cli("savepoint", "trigger", "--help")
    assert "--savepoint-dir" in r.out
    assert "--dir " not in r.out
    r = cli("savepoint", "trigger", jid, "-d", "file:///sp")  # -d is no directory any more
    assert r.code == 2
