"""`flinkctl doctor` on terminals 60, 80 and 120 columns wide: the findings table fits, and
nothing in it is cut short. Each report comes from the command over the test server answering
with recorded bodies (tests/test_doctor.py's `serve_job`), its findings read back with -o json.

On a terminal the FINDING column wraps beside a whole subject when it keeps 40 cells, and
otherwise folds under its row; the subject wraps in its column only when the terminal is too
narrow for it; the advice follows the table, led by the subject, wrapped with a hanging indent.
"""

from __future__ import annotations

import copy
import re

import pytest
from rich.cells import cell_len
from test_doctor import BP, BUSY, _metrics, aged, serve_job
from test_terminal_tables import LONG, on_terminal

from flinkctl.workflows import doctor as dr

WIDTHS = [60, 80, 120]

TROUBLE = {  # the sink the bottleneck, holding up the source; both report their rates
    "source": {0: {BUSY: 80, BP: 900, dr.RECORDS_OUT: 50}},
    "sink": {0: {BUSY: 950, BP: 0, dr.RECORDS_IN: 50}},
}


@pytest.fixture
def troubled(flink, httpserver, cli) -> list[dict]:
    """A cluster whose recorded job has a critical, a warning and info findings with long
    subjects and findings: a crash loop (three restarts in the last minute), the sink (renamed
    LONG: 40 characters, some double-width) a bottleneck holding up the source, its headroom,
    and a TaskManager without GC time. Returns the findings as -o json gives them."""
    job = aged(flink)
    sink = next(v for v in job["vertices"] if v["id"] == flink.ids["vertexid"])
    sink["name"] = LONG
    exceptions = copy.deepcopy(flink.body("deploy-exceptions-restarting"))
    entries = exceptions["exceptionHistory"]["entries"]
    at = job["now"] - 60_000
    entries[:] = [{**entries[0], "timestamp": at - n * 5000} for n in range(3)]
    serve_job(flink, httpserver, _metrics(flink, TROUBLE), job=job, exceptions=exceptions)
    result = cli("doctor", flink.ids["jobid"], "--sample", "0", "-o", "json")
    assert result.code == 7, result.err
    findings = result.json()["findings"]
    assert [f["severity"] for f in findings] == ["critical", "warning", "info", "info"]
    assert any(LONG in f["subject"] for f in findings)
    return findings


def _terminal(monkeypatch, columns: int) -> None:
    monkeypatch.setenv("FLINKCTL_FORCE_TTY", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", str(columns))


def _flat(text: str) -> str:
    return " ".join(text.split())


def _subject_column(lines: list[str], row: int, offset: int) -> str:
    """The text of the column starting at OFFSET in the table row whose first line is ROW: its
    cell on that line, joined with the cells of the lines below whose other columns are empty."""
    pieces = [lines[row][offset:]]
    for line in lines[row + 1 :]:
        if line[:offset].strip() or len(line) <= offset or line[offset] == " ":
            break
        pieces.append(line[offset:])
    return " ".join(piece.strip() for piece in pieces)


def _row_of(lines: list[str], finding: dict) -> int:
    """The first line of FINDING's row (the one with its severity and rule)."""
    return next(
        i
        for i, line in enumerate(lines)
        if line.split()[:2] == [finding["severity"], finding["rule"]]
    )


def assert_whole_and_fitting(lines: list[str], findings: list[dict], columns: int) -> None:
    """No line wider than COLUMNS; each finding's row names its severity and rule whole, its
    subject whole (wrapped in its column at most), and its finding and advice whole (wrapped)."""
    assert max(cell_len(line) for line in lines) <= columns, "\n".join(lines)
    header = re.split(r"\s{3,}", lines[0].strip())
    assert header[:3] == ["SEVERITY", "RULE", "SUBJECT"]
    offset = lines[0].index("SUBJECT")
    rows = [i for i, line in enumerate(lines) if line.split(" ")[0] in dr.SEVERITIES]
    assert len(rows) == len(findings)
    text = _flat("\n".join(lines))
    for row, finding in zip(rows, findings, strict=True):  # in order: most severe first
        assert lines[row].split()[:2] == [finding["severity"], finding["rule"]]
        subject = _subject_column(lines, row, offset)
        assert subject.startswith(finding["subject"]), "\n".join(lines)
        assert _flat(finding["summary"]) in text
        assert _flat(f"{finding['subject']}: {finding['advice']}") in text


@pytest.mark.parametrize("columns", WIDTHS)
def test_findings_fit_the_terminal_whole(troubled, flink, cli, monkeypatch, columns):
    _terminal(monkeypatch, columns)
    result = cli("doctor", flink.ids["jobid"], "--sample", "0")
    assert result.code == 7
    lines = result.out.splitlines()
    assert_whole_and_fitting(lines, troubled, columns)
    assert "…" not in "\n".join(lines[: lines.index("", 2)])  # the findings: nothing elided


@pytest.mark.parametrize("columns", WIDTHS)
def test_too_narrow_for_a_finding_column_it_folds_under_its_row(
    troubled, flink, cli, monkeypatch, columns
):
    """The longest subject here (`task '<42 characters>' (1/1)`, 55 cells) leaves no 40 cells
    for the FINDING column below 138 columns: each finding goes under its row, indented to the
    RULE column; a subject wider than what SEVERITY and RULE leave wraps in its column."""
    _terminal(monkeypatch, columns)
    lines = cli("doctor", flink.ids["jobid"], "--sample", "0").out.splitlines()
    assert re.split(r"\s{3,}", lines[0].strip()) == ["SEVERITY", "RULE", "SUBJECT"]
    assert lines[1] == "─" * columns
    offset = lines[0].index("SUBJECT")  # "critical", "backpressure" and two gaps: 26
    for finding in troubled:
        row = _row_of(lines, finding)
        wraps = offset + cell_len(finding["subject"]) > columns
        assert (lines[row][offset:] != finding["subject"]) == wraps
        # below the subject's lines (nothing left of SUBJECT), the finding's first line
        below = next(i for i in range(row + 1, len(lines)) if lines[i][:offset].strip())
        assert lines[below][:12].strip() == lines[below][11]
        assert finding["summary"].startswith(lines[below].strip())


@pytest.mark.parametrize("columns", [30, 36])
def test_narrower_still_the_subject_folds_under_its_row_too(
    troubled, flink, cli, monkeypatch, columns
):
    """Below 38 columns, SEVERITY and RULE ("critical", "backpressure" and their gaps: 26)
    leave fewer than 12 cells for a subject: the header is SEVERITY and RULE, and under each
    row its subject leads its finding ("SUBJECT: FINDING"), wrapped; no line is wider than the
    terminal (seen: 38 columns on 36, the subject kept 12 cells)."""
    _terminal(monkeypatch, columns)
    lines = cli("doctor", flink.ids["jobid"], "--sample", "0").out.splitlines()
    assert max(cell_len(line) for line in lines) <= columns, "\n".join(lines)
    assert lines[0].split() == ["SEVERITY", "RULE"]
    shown = "".join("".join(lines).split())  # without spaces: long words wrap mid-word
    for finding in troubled:
        assert lines[_row_of(lines, finding)].split() == [finding["severity"], finding["rule"]]
        for said in (finding["summary"], finding["advice"]):
            assert "".join(f"{finding['subject']}: {said}".split()) in shown, "\n".join(lines)


def test_wide_enough_the_finding_wraps_in_its_column(troubled, flink, cli, monkeypatch):
    _terminal(monkeypatch, 160)
    lines = cli("doctor", flink.ids["jobid"], "--sample", "0").out.splitlines()
    assert re.split(r"\s{3,}", lines[0].strip()) == ["SEVERITY", "RULE", "SUBJECT", "FINDING"]
    assert_whole_and_fitting(lines, troubled, 160)
    at = lines[0].index("FINDING")
    row = next(i for i, line in enumerate(lines) if line.startswith("critical"))
    assert lines[row][at:].startswith(troubled[0]["summary"][:20])
    assert lines[row + 1][:at].strip() == ""  # the finding's next line, in its column
    assert lines[row + 1][at] != " "


def test_the_advice_wraps_with_a_hanging_indent(troubled, flink, cli, monkeypatch):
    _terminal(monkeypatch, 60)
    lines = cli("doctor", flink.ids["jobid"], "--sample", "0").out.splitlines()
    start = lines.index("", 2) + 1  # the advice: after the table and a blank line
    advice = lines[start : lines.index("", start)]
    leads = [line for line in advice if not line.startswith(" ")]
    assert len(leads) == len(troubled)
    assert all(line.startswith("  ") and line[2] != " " for line in advice if line not in leads)


@pytest.mark.parametrize("columns", [60, 80, 200])
def test_every_context_and_job_fit_too(troubled, flink, httpserver, cli, monkeypatch, columns):
    """-A adds CONTEXT and JOB columns before SEVERITY; where the table folds, they head their
    rows instead ("production/flinkctl-demo")."""
    from flinkctl import Config, Context, load_config

    url = httpserver.url_for("").rstrip("/")
    Config(load_config().path, {"production": Context("production", url=url)}).save()
    _terminal(monkeypatch, columns)
    result = cli("doctor", "--all", "-A", "--sample", "0", url="")
    assert result.code == 7
    lines = result.out.splitlines()
    assert max(cell_len(line) for line in lines) <= columns, "\n".join(lines)
    header = re.split(r"\s{3,}", lines[0].strip())
    if columns == 200:
        assert header == ["CONTEXT", "JOB", "SEVERITY", "RULE", "SUBJECT", "FINDING"]
        assert lines[2].split()[:4] == ["production", "flinkctl-demo", "critical", "restarts"]
    else:
        assert header == ["SEVERITY", "RULE", "SUBJECT"]
        assert lines[2] == "production/flinkctl-demo"
        assert_whole_and_fitting([lines[0], *lines[3:]], troubled, columns)
    for finding in troubled:
        assert _flat(finding["summary"]) in _flat(result.out)


def test_on_a_real_terminal(troubled, flink, httpserver):
    """A pseudo-terminal 80 columns wide: the width comes from the terminal, as a user has it."""
    code, lines, err = on_terminal(
        httpserver.url_for(""), 80, "doctor", flink.ids["jobid"], "--sample", "0"
    )
    assert code == 7 and err.startswith("error: 1 finding(s) at or above critical"), err
    assert_whole_and_fitting(lines, troubled, 80)
