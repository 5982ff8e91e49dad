"""flinkctl's YAML writer is byte-identical to PyYAML's, or hands the document to PyYAML."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flinkctl.output.render import dump as render_dump
from flinkctl.output.yamltext import dump


def pyyaml(data) -> str:
    """What flinkctl wrote before: PyYAML over libyaml (whose wrapping of long quoted strings
    differs from PyYAML's pure-Python emitter)."""
    return yaml.dump(
        data, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )


RECORDED = sorted(FIXTURES.glob("flink-*/*.json"))


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_recorded_body_reads_as_pyyaml_writes_it(path):
    record = json.loads(path.read_text())
    for data in (record, record.get("body")):
        assert render_dump(data, "yaml") == pyyaml(data)


def test_recorded_bodies_mostly_take_the_fast_path():
    bodies = [json.loads(p.read_text()).get("body") for p in RECORDED]
    fast = [b for b in bodies if dump(b) is not None]
    assert len(fast) > len(bodies) / 4
    checkpoints = json.loads((FIXTURES / "flink-2.3.0" / "checkpoints.json").read_text())["body"]
    assert dump(checkpoints) == pyyaml(checkpoints)


def test_what_it_leaves_to_pyyaml():
    shared = {"a": 1}
    for data in (
        {"k": "needs: quoting"},
        {"k": "#comment"},
        {"k": "long " * 20},
        {"k": "multi\nline"},
        {1: "int key"},
        {"a": shared, "b": shared},  # PyYAML writes an anchor
        "a bare scalar",
        ["\U00016800"],  # libyaml escapes characters beyond the BMP
        {},
    ):
        assert dump(data) is None, data


def test_quotes_strings_that_would_read_back_as_other_types():
    data = {"a": "123", "b": "true", "c": "", "d": "null", "e": "1.5", "2024-01-01": [1.0e20, None]}
    assert dump(data) == pyyaml(data)
    assert "'123'" in pyyaml(data)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=100),
    st.sampled_from(["RUNNING", "file:/tmp/sp", "a b c", "Source: x", "乱数ソース", "-1", "y"]),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=12), st.sampled_from(["id", "a-b"])), inner, max_size=4
        ),
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_json_like_document_is_pyyaml_or_left_to_it(data):
    text = dump(data)
    assert text is None or text == pyyaml(data)


def test_strings_with_spaces_around_the_wrapping_width():
    """PyYAML wraps a plain scalar at a space past column 80: either the same text or PyYAML's."""
    written = 0
    for key in range(1, 12, 3):
        for words in range(1, 40):
            for data in (
                {"k" * key: " ".join(["ab"] * words)},
                {"a": [{"k" * key: " ".join(["abc"] * words)}]},
                [[" ".join(["x"] * words)]],
            ):
                text = dump(data)
                assert text is None or text == pyyaml(data), data
                written += text is not None
    assert written > 100
