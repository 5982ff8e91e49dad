"""Flink's request bodies as typed objects: what to run and what to restore it from.

A command or a workflow says what it wants (`Program(entry_class=..., args=...)`,
`Restore(path=..., claim_mode=ClaimMode.NO_CLAIM)`); the client sends `to_body(version)`,
Flink's spelling for the cluster's version. This module and the client methods are the only
code that spells Flink's request-body keys (tests/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from flinkctl.flink import Json

Version = tuple[int, ...]  # the cluster's Flink version, (2, 3, 0); () when it says none


class ClaimMode(Enum):
    """How a job restored from a snapshot owns its files (Flink's RecoveryClaimMode)."""

    CLAIM = "CLAIM"  # the job takes the snapshot over and may delete it
    NO_CLAIM = "NO_CLAIM"  # the snapshot stays the user's; the job's first checkpoint is full
    LEGACY = "LEGACY"  # deprecated in Flink


@dataclass(frozen=True)
class Program:
    """What a jar runs (POST /jars/:jarid/plan, and the program of run and run-application).

    ENTRY_CLASS: None for the jar manifest's. ARGS go one element each (programArgsList), never
    split on spaces. PARALLELISM: None for the cluster's default. CONFIGURATION: job
    configuration (`-D`; Flink 1.17+, a gate the client applies).
    """

    entry_class: str | None = None
    args: tuple[str, ...] = ()
    parallelism: int | None = None
    configuration: Mapping[str, str] = field(default_factory=dict)

    @property
    def versioned(self) -> bool:
        """Whether to_body depends on the version: never (every version spells it alike)."""
        return False

    def to_body(self, version: Version) -> Json:
        """The body's program fields for Flink VERSION (every version spells them alike)."""
        body: Json = {"programArgsList": list(self.args)}
        if self.entry_class:
            body["entryClass"] = self.entry_class
        if self.parallelism:
            body["parallelism"] = self.parallelism
        if self.configuration:
            body["flinkConfiguration"] = dict(self.configuration)
        return body


@dataclass(frozen=True)
class Restore:
    """Where a run starts from and as which job (the rest of POST /jars/:jarid/run and
    run-application's body).

    PATH: the savepoint or retained checkpoint to restore, None to start without state.
    CLAIM_MODE: None for Flink's default. ALLOW_NON_RESTORED: drop state no operator takes.
    JOB_ID: the job id to start as (32 hex characters), None for one Flink picks.
    """

    path: str | None = None
    claim_mode: ClaimMode | None = None
    allow_non_restored: bool = False
    job_id: str | None = None

    @property
    def versioned(self) -> bool:
        """Whether to_body depends on the version (the claim mode's key does); the client asks
        the cluster's version only then."""
        return self.claim_mode is not None

    def to_body(self, version: Version) -> Json:
        """The body's restore fields for Flink VERSION: the claim mode is `claimMode` from 1.20
        on and `restoreMode` before (and when the version is unknown, as ever)."""
        body: Json = {}
        if self.path:
            body["savepointPath"] = self.path
        if self.allow_non_restored:
            body["allowNonRestoredState"] = True
        if self.claim_mode is not None:
            key = "claimMode" if version >= (1, 20) else "restoreMode"
            body[key] = self.claim_mode.value
        if self.job_id is not None:
            body["jobId"] = self.job_id
        return body
