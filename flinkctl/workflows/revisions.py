"""Deploy revisions: what a revision is, how its record travels with the job, and the history.

Every job `flinkctl deploy` (or `rollback`) starts carries a record of its revision in its own
configuration: `pipeline.global-job-parameters` gets one entry, RECORD_KEY, whose value is the
record as base64url JSON (no `:` or `,`, which that option's `key:value,...` syntax reserves). It
shows up in GET /jobs/:jobid/config under `execution-config.user-config` (checked on Flink 2.3.0
and 1.20.5), so any machine can read it. The running job's record also carries the full spec of
the previous good revision, so a rollback does not depend on the cluster remembering ended jobs.
A program that sets its own global job parameters replaces the entry; then the local catalog
(flinkctl.catalog) is the record.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import socket
import time
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from flinkctl.flink import ACTIVE_STATES, JobOverview

if TYPE_CHECKING:
    from flinkctl.catalog import Catalog
    from flinkctl.client import FlinkClient

RECORD_KEY = "flinkctl.deploy"
GLOBAL_PARAMETERS = "pipeline.global-job-parameters"
RECORD_VERSION = 1


@dataclass(frozen=True)
class Spec:
    """What runs: the jar and how it is called. Two equal specs are the same deploy."""

    jar_id: str
    jar_name: str | None = None
    sha256: str | None = None  # of the local file deployed; None for an already uploaded jar
    uploaded: bool = False  # uploaded by deploy (so `--keep-jars` may delete it later)
    entry_class: str | None = None
    args: tuple[str, ...] = ()
    parallelism: int | None = None
    conf: tuple[tuple[str, str], ...] = ()  # -D options, sorted
    allow_non_restored_state: bool = False

    def same_program(self, other: Spec) -> bool:
        """Whether OTHER runs the same jar content, class, arguments, parallelism and -D options.

        The jar is the same when both came from files of one sha256, or (when one was given
        as an uploaded jar) when the jar ids match.
        """
        if self.sha256 and other.sha256:
            same_jar = self.sha256 == other.sha256
        else:
            same_jar = self.jar_id == other.jar_id
        return same_jar and (
            (self.entry_class, self.args, self.parallelism, self.conf)
            == (other.entry_class, other.args, other.parallelism, other.conf)
        )

    def to_json(self) -> dict[str, Any]:
        body = {_kebab(k): v for k, v in asdict(self).items()}
        body["args"] = list(self.args)
        body["conf"] = dict(self.conf)
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Spec:
        known = {f.name for f in fields(cls)}
        values = {k.replace("-", "_"): v for k, v in body.items() if k.replace("-", "_") in known}
        values["args"] = tuple(values.get("args") or ())
        values["conf"] = tuple(sorted((values.get("conf") or {}).items()))
        return cls(**values)

    def describe(self) -> str:
        """'my-job.jar (3f2a1c...) -c com.x.Main -p 2 --arg ...' for messages."""
        jar = self.jar_name or self.jar_id
        if self.sha256:
            jar += f" ({self.sha256[:12]})"
        parts = [jar]
        if self.entry_class:
            parts.append(f"-c {self.entry_class}")
        if self.parallelism:
            parts.append(f"-p {self.parallelism}")
        parts += [f"--arg {a}" for a in self.args]
        parts += [f"-D {k}={v}" for k, v in self.conf]
        return " ".join(parts)


def _kebab(name: str) -> str:
    return name.replace("_", "-")


@dataclass(frozen=True)
class Previous:
    """The previous good revision, as the running job's record carries it for rollbacks."""

    revision: int
    spec: Spec
    job_id: str | None = None


@dataclass(frozen=True)
class Record:
    """The revision record of one job that deploy or rollback started."""

    name: str
    revision: int
    generation: int
    spec: Spec
    action: str = "deploy"  # deploy | rollback (a start of an older revision's spec)
    restored_from: str | None = None
    previous_job_id: str | None = None
    previous: Previous | None = None
    time_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    by: str = field(default_factory=lambda: user_at_host())

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "v": RECORD_VERSION,
            "name": self.name,
            "revision": self.revision,
            "generation": self.generation,
            "action": self.action,
            "spec": self.spec.to_json(),
            "restored-from": self.restored_from,
            "previous-job-id": self.previous_job_id,
            "previous": None,
            "time": self.time_ms,
            "by": self.by,
        }
        if self.previous is not None:
            body["previous"] = {
                "revision": self.previous.revision,
                "job-id": self.previous.job_id,
                "spec": self.previous.spec.to_json(),
            }
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Record:
        prev = body.get("previous")
        previous = None
        if isinstance(prev, dict):
            previous = Previous(
                int(prev["revision"]), Spec.from_json(prev["spec"]), prev.get("job-id")
            )
        return cls(
            name=str(body["name"]),
            revision=int(body["revision"]),
            generation=int(body.get("generation") or body["revision"]),
            spec=Spec.from_json(body["spec"]),
            action=str(body.get("action") or "deploy"),
            restored_from=body.get("restored-from"),
            previous_job_id=body.get("previous-job-id"),
            previous=previous,
            time_ms=int(body.get("time") or 0),
            by=str(body.get("by") or ""),
        )

    def encode(self) -> str:
        """The record as one value for `pipeline.global-job-parameters`: base64url JSON."""
        text = json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Record:
        """The inverse of encode; ValueError for a value that is not a record."""
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            body = json.loads(raw)
            if not isinstance(body, dict) or body.get("v") != RECORD_VERSION:
                raise ValueError(f"not a version {RECORD_VERSION} record")
            return cls.from_json(body)
        except (KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"malformed deploy record: {exc}") from exc

    def as_previous(self, job_id: str | None) -> Previous:
        return Previous(self.revision, self.spec, job_id)


def user_at_host() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def job_id_for(name: str, generation: int) -> str:
    """The job id of NAME's GENERATION-th start: the same for two deploys that compute the same
    next generation at the same moment, so Flink refuses the second (a duplicate job id)."""
    return hashlib.sha256(f"flinkctl-deploy\0{name}\0{generation}".encode()).hexdigest()[:32]


def with_record(conf: dict[str, str], record: Record) -> dict[str, str]:
    """-D options plus the record, appended to any `pipeline.global-job-parameters` given."""
    entry = f"{RECORD_KEY}:{record.encode()}"
    given = conf.get(GLOBAL_PARAMETERS)
    return {**conf, GLOBAL_PARAMETERS: f"{given},{entry}" if given else entry}


def user_config(job_config: dict[str, Any]) -> dict[str, Any]:
    """The global job parameters in a GET /jobs/:jobid/config body (empty for a job that failed
    before it ran, e.g. on state it could not map under the adaptive scheduler)."""
    return dict((job_config.get("execution-config") or {}).get("user-config") or {})


def record_in(job_config: dict[str, Any]) -> Record | None:
    """The record in a GET /jobs/:jobid/config body; None when there is none (flinkctl did not
    start the job, or its program set its own global job parameters)."""
    value = user_config(job_config).get(RECORD_KEY)
    if not isinstance(value, str):
        return None
    try:
        return Record.decode(value)
    except ValueError:
        return None


@dataclass
class Known:
    """One job of NAME: what the cluster says (overview row; None when forgotten) and its
    record (from the cluster, else the catalog), plus the catalog's outcome."""

    job_id: str
    job: JobOverview | None
    record: Record | None
    outcome: str | None = None
    record_source: str | None = None  # cluster | catalog

    @property
    def state(self) -> str:
        return str((self.job or {}).get("state") or "FORGOTTEN")

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def start_ms(self) -> int:
        started = (self.job or {}).get("start-time")
        if isinstance(started, int) and started > 0:
            return started
        return self.record.time_ms if self.record else 0


@dataclass
class History:
    """Everything known about the jobs of one NAME on one cluster, oldest first."""

    name: str
    jobs: list[Known]
    replaced: list[str] = field(default_factory=list)  # job ids whose program replaced the record

    @property
    def running(self) -> list[Known]:
        return [k for k in self.jobs if k.active]

    @property
    def max_generation(self) -> int:
        return max((k.record.generation for k in self.jobs if k.record), default=0)

    @property
    def max_revision(self) -> int:
        return max((k.record.revision for k in self.jobs if k.record), default=0)

    def revision(self, number: int) -> Record | None:
        """The newest record of revision NUMBER (a deploy's, or a rollback's copy of it)."""
        found = [k.record for k in self.jobs if k.record and k.record.revision == number]
        if found:
            return found[-1]
        for known in reversed(self.jobs):
            prev = known.record.previous if known.record else None
            if prev is not None and prev.revision == number:
                return Record(self.name, prev.revision, 0, prev.spec, time_ms=0, by="")
        return None

    def rows(self) -> list[dict[str, Any]]:
        """One object per job, oldest first, as `jobs history -o json` prints them."""
        rows = []
        for k in self.jobs:
            spec = k.record.spec if k.record else None
            rows.append(
                {
                    "revision": k.record.revision if k.record else None,
                    "job-id": k.job_id,
                    "state": k.state,
                    "jar": (spec.jar_name or spec.jar_id) if spec else None,
                    "jar-id": spec.jar_id if spec else None,
                    "sha256": spec.sha256 if spec else None,
                    "entry-class": spec.entry_class if spec else None,
                    "args": list(spec.args) if spec else None,
                    "parallelism": spec.parallelism if spec else None,
                    "conf": dict(spec.conf) if spec else None,
                    "restored-from": k.record.restored_from if k.record else None,
                    "time": k.start_ms or None,
                    "outcome": k.outcome,
                    "action": k.record.action if k.record else None,
                    "by": k.record.by if k.record else None,
                    "record": k.record_source,
                }
            )
        return rows


def history(client: FlinkClient, catalog: Catalog, name: str) -> History:
    """The jobs of NAME the cluster still knows (with their records, read concurrently), merged
    with the catalog's records of jobs it has forgotten."""
    cluster = client.ctx.url
    jobs = [j for j in client.jobs_overview().get("jobs") or [] if j.get("name") == name]
    configs = client.fan_out(lambda j: client.job_config(j["jid"]), jobs)
    local = {e.job_id: e for e in catalog.entries(cluster, name)}
    found: list[Known] = []
    replaced: list[str] = []
    for job, config in zip(jobs, configs, strict=True):
        jid = job["jid"]
        on_cluster = record_in(config)
        entry = local.pop(jid, None)
        if isinstance(on_cluster, Record):
            record, source = on_cluster, "cluster"
        elif entry is not None:  # flinkctl started it: the catalog has its record
            record, source = Record.from_json(entry.record), "catalog"
            if user_config(config):  # its program's own global job parameters replaced it
                replaced.append(jid)
        else:
            record, source = None, None
        outcome = entry.outcome if entry else None
        found.append(Known(jid, job, record, outcome, source))
    for entry in local.values():
        found.append(
            Known(entry.job_id, None, Record.from_json(entry.record), entry.outcome, "catalog")
        )
    found.sort(key=lambda k: k.start_ms)
    return History(name, found, replaced)
