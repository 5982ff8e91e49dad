"""The README stays true: exit codes match errors.py, the quick start has exactly two lines."""

import re
from pathlib import Path

from flinkctl.errors import EXIT_CODE_MEANINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_exit_code_table_matches_errors_py():
    table = README.split("<!-- BEGIN EXIT CODES -->")[1].split("<!-- END EXIT CODES -->")[0]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", table, re.M)
    assert {int(code): meaning for code, meaning in rows} == {
        int(code): meaning for code, meaning in EXIT_CODE_MEANINGS.items()
    }


def test_quick_start_is_two_copy_paste_lines():
    section = README.split("## Quick start")[1].split("\n## ")[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert [b.strip() for b in blocks] == [
        "pip install . && flinkctl local up --demo && flinkctl jobs list",
        "pip install '.[test]' && pytest",
    ]
