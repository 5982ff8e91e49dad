"""Resolving what a user typed to one vertex: id, prefix, exact name or a unique part of it."""

import pytest

from flinkctl.client.resolve import vertex
from flinkctl.errors import NotFoundError, UsageError


def test_vertex_by_id_prefix_name_and_part_of_name(flink):
    job = flink.body("job")
    source, sink = job["vertices"][0], job["vertices"][-1]
    assert vertex(job, source["id"]) == source["id"]
    assert vertex(job, sink["id"][:6]) == sink["id"]
    assert vertex(job, source["name"]) == source["id"]
    assert vertex(job, "Source") == source["id"]  # "Source: Sequence -> ..."


def test_vertex_part_of_several_names_is_ambiguous(flink):
    job = flink.body("job")
    with pytest.raises(UsageError, match="is ambiguous") as info:
        vertex(job, " -> ")  # every chained vertex name has an arrow
    for v in job["vertices"]:
        assert v["id"] in info.value.message


def test_unknown_vertex(flink):
    with pytest.raises(NotFoundError, match="vertex 'nope' not found"):
        vertex(flink.body("job"), "nope")
