"""Deploy revisions: what a revision is, how its record travels with the job, and the history.

Every job `flinkctl deploy` (or `rollback`) starts carries a record of its revision in its own
configuration: `pipeline.global-job-parameters` gets one entry, RECORD_KEY, whose value is the
record as base64url JSON (no `:` or `,`, which that option's `key:value,...` syntax reserves). It
shows up in GET /jobs/:jobid/config under `execution-config.user-config` (checked on Flink 2.3.0
and 1.20.5), so any machine can read it. The running job's record also carries the full spec of
the previous good revision, so a rollback does not depend on the cluster remembering ended jobs.
A program that sets its own global job parameters replaces the entry; then the local catalog
(flinkctl.catalog) is the record.

No secret travels in the record (invariant 5): `Record.encode` masks the value of every sensitive
`-D` key and program argument (flinkctl.sensitive: Flink's rule, shown as Flink shows it,
`******`) and adds to each spec it masked a salted digest of its real values, so
`Spec.same_program` still tells a changed secret from an unchanged one. The `-D` options sent
with the job are the user's real ones (the job needs them); only the record's copy is masked.
The local catalog keeps the real values; `history` puts them back into the cluster's records
where its digest proves them the same, and `resolve_secrets` does so for a rollback (from the
catalog, or from values given on the command line) or says which are missing.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from flinkctl.flink import ACTIVE_STATES, JobOverview
from flinkctl.sensitive import (
    MASK,
    digest,
    mask_args,
    mask_conf,
    mask_url,
    new_salt,
    secret_args,
)

if TYPE_CHECKING:
    from flinkctl.catalog import Catalog, Entry
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
    # "SALT:SHA256" of the real args and conf when they are masked (a spec read from a record on
    # the cluster that held secrets); None: the values are the real ones
    digest: str | None = None

    @property
    def masked_values(self) -> bool:
        """Whether some args or -D values are MASK in place of a secret (see `resolve_secrets`)."""
        return self.digest is not None

    def masked(self, salt: str) -> Spec:
        """This spec as the cluster's record carries it: secrets replaced by MASK, plus a digest
        of the real values salted with SALT. A spec without secrets, or one masked already, is
        returned as it is."""
        if self.digest is not None:
            return self
        args = tuple(mask_args(self.args))
        conf = tuple(sorted(mask_conf(dict(self.conf)).items()))
        if (args, conf) == (self.args, self.conf):
            return self
        return replace(self, args=args, conf=conf,
                       digest=f"{salt}:{digest(salt, self.args, dict(self.conf))}")  # fmt: skip

    def same_program(self, other: Spec) -> bool:
        """Whether OTHER runs the same jar content, class, arguments, parallelism and -D options.

        The jar is the same when both came from files of one sha256, or (when one was given
        as an uploaded jar) when the jar ids match. A masked spec compares with a real one by
        its digest, so a changed secret is a change; two masked specs compare equal only when
        their digests are (with two salts nothing can tell: they count as different; resolve
        one with `resolve_secrets` first).
        """
        if self.sha256 and other.sha256:
            same_jar = self.sha256 == other.sha256
        else:
            same_jar = self.jar_id == other.jar_id
        return (
            same_jar
            and (self.entry_class, self.parallelism) == (other.entry_class, other.parallelism)
            and same_values(self, other)
        )

    def to_json(self) -> dict[str, Any]:
        body = {_kebab(k): v for k, v in asdict(self).items()}
        body["args"] = list(self.args)
        body["conf"] = dict(self.conf)
        if self.digest is None:  # a record without secrets reads as before masking existed
            del body["digest"]
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Spec:
        known = {f.name for f in fields(cls)}
        values = {k.replace("-", "_"): v for k, v in body.items() if k.replace("-", "_") in known}
        values["args"] = tuple(values.get("args") or ())
        values["conf"] = tuple(sorted((values.get("conf") or {}).items()))
        return cls(**values)

    def describe(self) -> str:
        """'my-job.jar (3f2a1c...) -c com.x.Main -p 2 --arg ...' for messages; secrets show as
        MASK."""
        jar = self.jar_name or self.jar_id
        if self.sha256:
            jar += f" ({self.sha256[:12]})"
        parts = [jar]
        if self.entry_class:
            parts.append(f"-c {self.entry_class}")
        if self.parallelism:
            parts.append(f"-p {self.parallelism}")
        parts += [f"--arg {a}" for a in mask_args(self.args)]
        parts += [f"-D {k}={v}" for k, v in mask_conf(dict(self.conf)).items()]
        return " ".join(parts)


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def same_values(one: Spec, other: Spec) -> bool:
    """Whether ONE and OTHER have the same args and -D options, one or both maybe masked (by
    digest). A diff that shows both masked (`mask_args`, `mask_conf`) uses it to tell that a
    secret changed although the masked text is the same."""
    if one.digest is not None and other.digest is not None:
        return (one.args, one.conf, one.digest) == (other.args, other.conf, other.digest)
    if one.digest is not None:
        one, other = other, one
    if other.digest is not None:  # ONE real, OTHER masked: mask ONE with OTHER's salt
        one = one.masked(other.digest.partition(":")[0])
    return (one.args, one.conf, one.digest) == (other.args, other.conf, other.digest)


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
    rollback_state: str | None = None  # the state a rollback of this revision starts from
    time_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    by: str = field(default_factory=lambda: user_at_host())
    # salts the digests of the secrets `encode` masks (each masked spec carries its own)
    salt: str = field(default_factory=new_salt, compare=False, repr=False)

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
            "rollback-state": self.rollback_state,
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
            rollback_state=body.get("rollback-state"),
            time_ms=int(body.get("time") or 0),
            by=str(body.get("by") or ""),
        )

    def masked(self) -> Record:
        """The record as the cluster carries it: the secrets of its spec and of the previous
        revision's replaced by MASK, with digests (Spec.masked)."""
        previous = self.previous
        if previous is not None:
            previous = replace(previous, spec=previous.spec.masked(self.salt))
        return replace(self, spec=self.spec.masked(self.salt), previous=previous)

    def encode(self) -> str:
        """The record as one value for `pipeline.global-job-parameters`: base64url JSON, its
        secrets masked (`masked`). `to_json` is the real record, for the local catalog."""
        text = json.dumps(self.masked().to_json(), separators=(",", ":"), sort_keys=True)
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
    """-D options plus the record, appended to any `pipeline.global-job-parameters` given.

    CONF goes to Flink as given, secrets included (the job needs them; Flink's own
    /jobmanager/config hides them); the record is masked (`Record.encode`)."""
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
                    "args": mask_args(spec.args) if spec else None,
                    "parallelism": spec.parallelism if spec else None,
                    "conf": mask_conf(dict(spec.conf)) if spec else None,
                    "restored-from": _restored_from(k.record),
                    "time": k.start_ms or None,
                    "outcome": k.outcome,
                    "action": k.record.action if k.record else None,
                    "by": k.record.by if k.record else None,
                    "record": k.record_source,
                }
            )
        return rows


def _restored_from(record: Record | None) -> str | None:
    return mask_url(record.restored_from) if record and record.restored_from else None


def history(client: FlinkClient, catalog: Catalog, name: str) -> History:
    """The jobs of NAME the cluster still knows (with their records, read concurrently), merged
    with the catalog's records of jobs it has forgotten. A cluster record's masked secrets are
    filled in from the catalog where its digest proves the catalog's values the same."""
    cluster = client.ctx.url  # the catalog keys it without user:password@ (cluster_key)
    jobs = [j for j in client.jobs_overview().get("jobs") or [] if j.get("name") == name]
    configs = client.fan_out(lambda j: client.job_config(j["jid"]), jobs)
    entries = catalog.entries(cluster, name)
    local = {e.job_id: e for e in entries}
    specs = local_specs(entries)
    found: list[Known] = []
    replaced: list[str] = []
    for job, config in zip(jobs, configs, strict=True):
        jid = job["jid"]
        on_cluster = record_in(config)
        entry = local.pop(jid, None)
        if isinstance(on_cluster, Record):
            record, source = unmasked(on_cluster, specs), "cluster"
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


# -- secrets: from a masked record back to what runs -----------------------------------------------


def local_specs(entries: Iterable[Entry]) -> list[Spec]:
    """The specs with real values in catalog ENTRIES (each job's and its previous revision's):
    the candidates `resolve_secrets` fills a masked spec from."""
    found = []
    for entry in entries:
        try:
            record = Record.from_json(entry.record)
        except (KeyError, TypeError, ValueError):  # a row this flinkctl cannot read: no help
            continue
        for spec in (record.spec, record.previous.spec if record.previous else None):
            if spec is not None and not spec.masked_values:
                found.append(spec)
    return found


def unmasked(record: Record, local: Sequence[Spec]) -> Record:
    """RECORD with the masked specs (its own, the previous revision's) that one of LOCAL matches
    replaced by that real one; the others as they are."""
    spec = resolve_secrets(record.spec, local).spec or record.spec
    previous = record.previous
    if previous is not None:
        real = resolve_secrets(previous.spec, local).spec
        previous = replace(previous, spec=real) if real else previous
    return replace(record, spec=spec, previous=previous)


@dataclass(frozen=True)
class Resolved:
    """What `resolve_secrets` found: the spec to run, or what is missing."""

    spec: Spec | None  # the target with real values (digest None); None when some are missing
    missing: tuple[str, ...] = ()  # as a user gives them: "-D s3.secret-key", "--arg --password"
    differs: bool = False  # given values, not those the revision ran with (a rotated secret?)


def resolve_secrets(
    target: Spec,
    local: Iterable[Spec] = (),
    conf: Mapping[str, str] | None = None,
    args: Sequence[str] | None = None,
) -> Resolved:
    """The real values of TARGET, a spec whose secrets may be masked (read from a record on the
    cluster), for a run that starts it again (rollback, or deploy's rollback target).

    An unmasked TARGET is returned as it is. Otherwise its values come from the first of LOCAL
    (real specs from this machine's catalog, `local_specs`) whose values the digest proves the
    same; else from this run's command line: CONF (`-D key=value`) fills each masked -D key,
    ARGS (the whole `--arg` list, as deploy takes it) replaces the arguments when they are
    TARGET's with secrets in the masked places. What is still masked is `missing` (spec None):
    refuse, listing them. Values that fill every place but differ from the recorded ones (the
    digest disagrees) are used, with `differs` set: say so.
    """
    if target.digest is None:
        return Resolved(target)
    for candidate in local:
        if candidate.digest is None and same_values(candidate, target):
            return Resolved(replace(target, args=candidate.args, conf=candidate.conf, digest=None))
    given = dict(conf or {})
    missing: list[str] = []
    real_conf = {}
    for key, value in target.conf:
        if MASK not in value:
            real_conf[key] = value
        elif key in given:
            real_conf[key] = given[key]
        else:
            missing.append(f"-D {key}")
    real_args = list(target.args)
    if args is not None and mask_args(args) == list(target.args):
        real_args = list(args)
    else:
        secret = secret_args(target.args)
        for i, arg in enumerate(target.args):
            if MASK in arg:
                found = secret.get(i)
                missing.append(found.label() if found else f"--arg {arg}")
    if missing:
        return Resolved(None, tuple(missing))
    real = replace(target, args=tuple(real_args), conf=tuple(sorted(real_conf.items())),
                   digest=None)  # fmt: skip
    return Resolved(real, (), not same_values(real, target))
