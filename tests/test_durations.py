"""Durations as options read them: one parser for --max-age, --older-than, --timeout."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flinkctl.durations import UNITS, parse


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("45s", 45),
        ("30m", 1800),
        ("12h", 43200),
        ("7d", 604800),
        ("2w", 1209600),
        ("250ms", 0.25),
        ("1h30m", 5400),
        ("1.5h", 5400),
        ("90", 90),
        ("0", 0),
        (" 10M ", 600),
    ],
)
def test_durations_people_type(text, seconds):
    assert parse(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "h", "5x", "1h 2m", "5m3", "-1", "-5m", "inf", "nan", "1e999"]
)
def test_malformed_durations_are_refused_with_the_reason(text):
    with pytest.raises(ValueError, match="invalid duration"):
        parse(text)


@settings(deadline=None)
@given(st.integers(0, 10**6), st.sampled_from(sorted(UNITS)))
def test_any_count_of_any_unit(count, unit):
    assert parse(f"{count}{unit}") == pytest.approx(count * UNITS[unit])


def test_options_read_durations_and_name_a_malformed_one(cli):
    r = cli("savepoint", "check", "--all", "--max-age", "2 hours")
    assert r.code == 2 and r.out == ""
    assert "invalid duration '2 hours'" in r.err
    r = cli("savepoint", "trigger", "f" * 32, "--wait", "--timeout", "-3")
    assert r.code == 2 and "expected a finite one, 0 or more" in r.err


@pytest.mark.parametrize("text", ["inf", "nan", "-1", "-Infinity"])
def test_infinite_and_negative_durations_are_refused(text):
    with pytest.raises(ValueError, match="expected a finite one, 0 or more"):
        parse(text)


@pytest.mark.parametrize(
    "args, says",
    [
        (["--watch", "1e300"], "1e300 is longer than a day"),
        (["-w", "inf"], "invalid duration 'inf': expected a finite one"),
        (["--watch=abc"], "invalid duration 'abc'"),
        (["--watch=0.01"], "0.01 is shorter than 0.1s"),
    ],
)
def test_a_bad_watch_interval_is_named_as_one(cli, args, says):
    r = cli("jobs", "list", *args)
    assert (r.code, r.out) == (2, "") and "'--watch'" in r.err and says in r.err, r.err
