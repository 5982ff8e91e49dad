"""The recipes are code: each block of docs/recipes.md (and docs/contexts.md's gateway context)
runs here as its environment would run it, against a served fake Flink (recorded responses) and
the installed `flinkctl`; the README's tastes of them are their lines.

- crontab: every line through `env -i` with cron's environment (HOME, LOGNAME, SHELL=/bin/sh,
  PATH=/usr/bin:/bin, the crontab's NAME=value lines taken literally) and `/bin/sh -c`, in $HOME.
- GitHub Actions: the step's `run` as a file, run by the shell Actions picks: `bash -e {0}`
  without `shell:`, `bash --noprofile --norc -eo pipefail {0}` with `shell: bash`.
- CI script, shell script: bash, as their shebang / CI runner does.
A block that cannot run says why in its marker comment (`<!-- recipe: ID; not run: why -->`); a
taste in the README (`<!-- recipe: ID; a taste of NAME -->`) is NAME's lines in NAME's order,
`...` standing for the lines left out.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from recipes import (
    FLINKCTL,
    MARKED,
    RECIPES,
    TASTE,
    USES,
    as_cron,
    cron_home,
    crontab,
    marked,
    recipe,
)

from flinkctl.catalog import Catalog
from flinkctl.local.demo import JAR
from flinkctl.local.ports import free_port

ACTIONS_DEFAULT = ["bash", "-e"]
ACTIONS_BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
RUN_HERE = {"crontab", "github-actions", "deploy-options", "ci-script", "shell-script",
            "gateway-context"}  # fmt: skip


@pytest.mark.parametrize("where,text", [("docs/recipes.md", RECIPES), ("README.md Uses", USES)])
def test_every_block_is_marked(where, text):
    fences = re.findall(r"^```\w+$", text, re.M)
    assert fences, f"no blocks in {where}"
    assert len(list(MARKED.finditer(text))) == len(fences), f"a block in {where} lacks its marker"


def test_every_recipe_is_run_here_or_says_why_not_or_is_a_taste():
    recipes = marked()
    for name, (path, m) in recipes.items():
        note = m.group(2) or ""
        taste = TASTE.match(note)
        if name in RUN_HERE:
            assert not note, f"{name} runs here: its marker says it does not"
        elif taste:
            assert path.name == "README.md", f"{name}: a taste belongs in the README"
            assert taste.group(1) in recipes, f"{name} tastes of {taste.group(1)}: no such recipe"
        else:
            assert "not run" in note, f"{name}: neither run here nor says why"
    assert set(recipes) >= RUN_HERE
    tastes = {m.group(1) for m in MARKED.finditer(USES) if TASTE.match(m.group(2) or "")}
    assert len(tastes) >= 4, "the README's uses taste of the recipes"


TASTES = [
    (name, TASTE.match(m.group(2)).group(1))
    for name, (_path, m) in marked().items()
    if TASTE.match(m.group(2) or "")
]


@pytest.mark.parametrize("taste,whole", TASTES, ids=[t for t, _ in TASTES])
def test_a_taste_is_its_recipes_lines_in_order(taste, whole):
    """Each line of the taste, but `...`, is a line of the recipe, after the one before it."""
    lines = recipe(whole).splitlines()
    at = 0
    for line in recipe(taste).splitlines():
        if line.strip() in ("", "..."):
            continue
        assert line in lines[at:], f"{taste}: {line!r} is not in {whole} (after line {at})"
        at = lines.index(line, at) + 1


# -- cron ---------------------------------------------------------------------------------------


@pytest.fixture
def served(flink, httpserver):
    """The recorded cluster, answering any trigger id (the CLI picks its own, unseen here)."""
    jid = flink.ids["jobid"]
    flink.serve(httpserver, "jobs-overview", "checkpoints", "job-config")
    httpserver.expect_request(f"/jobs/{jid}/savepoints", method="POST").respond_with_json(
        flink.body("savepoint-trigger"), status=202
    )
    httpserver.expect_request(
        re.compile(f"^/jobs/{jid}/savepoints/[0-9a-f]{{32}}$")
    ).respond_with_json(flink.body("savepoint-status-completed"))
    return httpserver.url_for("").rstrip("/")


def test_the_crontab_runs_as_cron_runs_it(served, flink, tmp_path):
    assignments, commands = crontab(recipe("crontab"))
    assert assignments == {"MAILTO": "flink-oncall@example.com"}
    home = cron_home(tmp_path, served)
    trigger, check, prune = commands
    ran = as_cron(home, assignments, trigger)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "", "")  # cron mails nothing
    [line] = [json.loads(x) for x in (home / "savepoints.jsonl").read_text().splitlines()]
    location = flink.body("savepoint-status-completed")["operation"]["location"]
    assert (line["context"], line["status"], line["location"]) == ("prod", "COMPLETED", location)
    assert line["logged-at"].endswith("Z")
    with Catalog(home / ".local" / "state" / "flinkctl" / "catalog.db") as catalog:
        assert [s.path for s in catalog.savepoints() if s.trigger_id] == [location]
    ran = as_cron(home, assignments, check)
    assert (ran.returncode, ran.stderr) == (0, ""), ran.stderr
    ran = as_cron(home, assignments, prune)
    assert (ran.returncode, ran.stderr) == (0, ""), ran.stderr
    pruned = [json.loads(x) for x in (home / "pruned.jsonl").read_text().splitlines()]
    assert pruned and all(p["action"] == "keep" for p in pruned)  # 2 savepoints, --keep 24


def test_a_variable_in_a_crontab_assignment_is_not_expanded(served, tmp_path):
    """Why the recipe names flinkctl in each command: cron takes `F=$HOME/...` literally."""
    home = cron_home(tmp_path, served)
    ran = as_cron(home, {"F": "$HOME/.local/bin/flinkctl"}, "$F savepoint list -o jsonl")
    assert ran.returncode == 127 and "not found" in ran.stderr


def test_a_crontab_line_whose_context_is_down_logs_it_and_cron_mails_it(tmp_path):
    _, commands = crontab(recipe("crontab"))
    home = cron_home(tmp_path, f"http://127.0.0.1:{free_port()}")
    ran = as_cron(home, {"FLINKCTL_RETRY_BUDGET": "0"}, commands[0])
    assert ran.returncode == 5
    [line] = [json.loads(x) for x in (home / "savepoints.jsonl").read_text().splitlines()]
    assert (line["context"], line["error"]["code"]) == ("prod", 5)
    assert json.loads(ran.stderr)["error"]["message"].startswith("context prod: ")


# -- CI -----------------------------------------------------------------------------------------


def workspace(tmp_path: Path) -> Path:
    """A checkout as the CI recipes expect it: the job's jar and its deploy options."""
    work = tmp_path / "work"
    (work / "build").mkdir(parents=True)
    shutil.copy(JAR, work / "build" / "orders.jar")
    (work / "deploy").mkdir()
    (work / "deploy" / "orders.yaml").write_text(recipe("deploy-options"))
    return work


def runner_env(tmp_path: Path, url: str) -> dict[str, str]:
    """What a runner gives a step: its PATH (here with flinkctl, and a `pipx` that has installed
    it already), RUNNER_TEMP, and the step's env with FLINK_URL pointing at URL."""
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "pipx").write_text("#!/bin/sh\nexit 0\n")
    (tools / "pipx").chmod(0o755)
    (tmp_path / "runner-temp").mkdir()
    path = os.pathsep.join([str(tools), str(Path(FLINKCTL).parent), "/usr/bin", "/bin"])
    return {"PATH": path, "HOME": str(tmp_path), "RUNNER_TEMP": str(tmp_path / "runner-temp"),
            "FLINK_URL": url, "FLINK_TOKEN": "t0ken", "FLINKCTL_RETRY_BUDGET": "0"}  # fmt: skip


def actions_step() -> dict:
    [step] = yaml.safe_load(recipe("github-actions"))
    return step


def run_step(step: dict, work: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """STEP's `run` as Actions runs it: a script file, run by its `shell`."""
    script = work.parent / "step.sh"
    script.write_text(step["run"])
    shell = {None: ACTIONS_DEFAULT, "bash": ACTIONS_BASH}[step.get("shell")]
    step_env = {k: v for k, v in step.get("env", {}).items() if k not in env}
    return subprocess.run([*shell, str(script)], cwd=work, env={**step_env, **env},
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_the_actions_step_fails_when_the_deploy_fails(tmp_path):
    """A deploy that cannot reach its cluster (exit 5) piped into tee: the step fails with
    `shell: bash` (pipefail), as the recipe says; the default shell would make it green."""
    step = actions_step()
    assert step["shell"] == "bash"
    work = workspace(tmp_path)
    env = runner_env(tmp_path, f"http://127.0.0.1:{free_port()}")
    ran = run_step(step, work, env)
    assert ran.returncode == 5, ran.stderr
    assert "cannot reach" in ran.stderr or "refused" in ran.stderr, ran.stderr
    config = yaml.safe_load((tmp_path / "runner-temp" / "flinkctl.yaml").read_text())
    assert config["contexts"]["ci"]["auth"] == {"type": "bearer", "token-env": "FLINK_TOKEN"}
    assert "t0ken" not in (tmp_path / "runner-temp" / "flinkctl.yaml").read_text()
    ran = run_step({**step, "shell": None}, work, env)
    assert ran.returncode == 0  # the trap the recipe avoids


def test_the_ci_script_exits_with_the_deploys_code(tmp_path):
    work = workspace(tmp_path)
    env = runner_env(tmp_path, f"http://127.0.0.1:{free_port()}")
    script = work.parent / "ci.sh"
    script.write_text(recipe("ci-script"))
    ran = subprocess.run(["bash", str(script)], cwd=work, env=env, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert ran.returncode == 5, ran.stderr
    assert ran.stdout.strip() == "savepoint to recover from:"  # no report: nothing was touched


# -- shell script, gateway ---------------------------------------------------------------------


def test_the_shell_script_savepoints_every_running_job(served, flink, tmp_path):
    script = tmp_path / "savepoint-all"
    script.write_text(recipe("shell-script"))
    script.chmod(0o755)
    home = cron_home(tmp_path, served)
    env = {"HOME": str(home), "PATH": f"{home / '.local' / 'bin'}:/usr/bin:/bin"}
    ran = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "error" not in ran.stderr  # the progress notes only
    location = flink.body("savepoint-status-completed")["operation"]["location"]
    assert ran.stdout == f"{flink.ids['jobid']} {location}\n"


def test_the_gateway_context_commands_write_the_context(tmp_path):
    text = recipe("gateway-context")
    for name in ("corp-ca.pem", "me.pem", "me-key.pem"):
        (tmp_path / name).write_text("-----BEGIN CERTIFICATE-----\n")
    text = text.replace("/etc/ssl/corp-ca.pem", str(tmp_path / "corp-ca.pem"))
    env = {"HOME": str(tmp_path), "PATH": f"{Path(FLINKCTL).parent}:/usr/bin:/bin",
           "FLINKCTL_CONFIG": str(tmp_path / "config.yaml")}  # fmt: skip
    ran = subprocess.run(["sh", "-e", "-c", text], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    prod = yaml.safe_load((tmp_path / "config.yaml").read_text())["contexts"]["prod"]
    assert prod["url"] == "https://gateway.example.com/flink"
    assert prod["auth"] == {"type": "bearer", "token-env": "FLINK_TOKEN"}
    assert prod["tls"]["cert-file"].endswith("me.pem")
