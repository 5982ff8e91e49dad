"""CHANGELOG.md follows Keep a Changelog and knows the current version."""

import re
from pathlib import Path

import flinkctl

CHANGELOG = (Path(__file__).resolve().parents[1] / "CHANGELOG.md").read_text()
SECTIONS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")


def test_unreleased_first_then_versions_newest_first():
    versions = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", CHANGELOG, re.M)
    assert versions[0] == ("Unreleased", "")
    released = [v for v, _ in versions[1:]]
    assert released[0] == flinkctl.__version__, "a version bump needs its changelog section"
    assert all(date for _, date in versions[1:])
    assert released == sorted(released, key=lambda v: tuple(map(int, v.split("."))), reverse=True)


def test_only_keep_a_changelog_subsections():
    assert set(re.findall(r"^### (.+)$", CHANGELOG, re.M)) <= set(SECTIONS)
