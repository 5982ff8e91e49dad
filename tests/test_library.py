"""flinkctl as a library: `from flinkctl import FlinkClient` and friends, exported lazily."""

import subprocess
import sys

import pytest

import flinkctl

HEAVY = ("httpx", "rich", "yaml", "typer", "jmespath")


def _imported_after(code: str) -> set[str]:
    """Top-level packages (of flinkctl and HEAVY) imported by CODE in a fresh interpreter."""
    probe = (
        f"{code}\nimport sys\n"
        f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def test_import_flinkctl_loads_no_dependency():
    assert _imported_after("import flinkctl") == set()


def test_cli_start_up_does_not_load_httpx():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "flinkctl", "--version"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("flinkctl ")
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    assert "httpx" not in imported


def test_from_flinkctl_import_flinkclient():
    from flinkctl import FlinkClient
    from flinkctl.client import FlinkClient as Defined

    assert FlinkClient is Defined


def test_every_exported_name_resolves_to_its_home():
    assert sorted(flinkctl.__all__) == flinkctl.__all__
    assert set(flinkctl.__all__) == {"__version__", *flinkctl._EXPORTS}
    for name, (module, attribute) in flinkctl._EXPORTS.items():
        home = sys.modules.get(module) or __import__(module, fromlist=[attribute])
        assert getattr(flinkctl, name) is getattr(home, attribute), name
    assert set(flinkctl.__all__) <= set(dir(flinkctl))


def test_the_error_types_are_the_cli_s():
    from flinkctl import ExitCode, FlinkctlError, NotFoundError, WaitTimeout

    assert issubclass(NotFoundError, FlinkctlError)
    assert NotFoundError("job 'x' not found").code == ExitCode.NOT_FOUND == 3
    assert WaitTimeout("still running").code == 8


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'FlinkClent'"):
        flinkctl.FlinkClent  # noqa: B018
    with pytest.raises(ImportError):
        from flinkctl import FlinkClent  # noqa: F401


def test_resolve_context_is_the_cli_s(monkeypatch, tmp_path):
    from flinkctl import Context, load_config, resolve_context

    monkeypatch.setenv("FLINKCTL_URL", "http://flink.example:8081")
    monkeypatch.delenv("FLINKCTL_RETRY_BUDGET")  # the tests' short budget
    assert resolve_context() == Context(name="(url)", url="http://flink.example:8081")
    assert load_config().contexts == {}
