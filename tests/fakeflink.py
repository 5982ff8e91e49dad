"""A fake Flink JobManager in memory, for the deterministic simulation of deploy's faults.

It answers the REST calls `flinkctl deploy`, `rollback` and `savepoint prune` make, through
`httpx.MockTransport` under the real `FlinkClient`. Every answer starts as a deep copy of a
body recorded from a real cluster (tests/fixtures/flink-<version>/*.json) whose ids, states,
times and counts are changed to tell the fake's own story; no response shape is made up here.

What it models, as Flink does it: jars (upload, plan, run, delete), jobs with states and the
demo program's knobs (`--name`, `--fail-after` for a crash loop, `--state-version`,
`--checkpoint-interval`), job ids chosen by the client (a duplicate is refused), periodic
checkpoints with `num-retained` 1, externalized retention and a bounded history of 10,
stop-with-savepoint as an operation keyed by a client trigger id (refused while tasks restart;
its status forgotten `rest.async.store-duration`, 5 min, after it completes), cancellation,
savepoint disposal, and the directories of state that exist (restoring a missing one fails).

Time is a `Clock` the test owns: nothing sleeps, and each request costs a few milliseconds.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import json
import random
import re
import time as real_time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

FIXTURES = Path(__file__).parent / "fixtures"
EPOCH_MS = 1_795_900_000_000  # the fake clock's 0, near the recordings' own timestamps
STORE_DURATION = 300.0  # rest.async.store-duration: a completed operation's status is kept 5 min
HISTORY_SIZE = 10  # web.checkpoints.history
SLOTS = 8  # the cluster's task slots: room for two deploys' jobs at once
RTT = 0.005  # seconds each request takes
RETENTION_KEY = "execution.checkpointing.externalized-checkpoint-retention"
GLOBAL_PARAMETERS = "pipeline.global-job-parameters"
NO_CHECKPOINTS = 2**63 - 1  # the interval Flink reports when checkpointing is off
ENDED = frozenset({"FINISHED", "CANCELED", "FAILED", "SUSPENDED"})
ACTIVE = frozenset({"INITIALIZING", "CREATED", "RUNNING", "RESTARTING", "FAILING", "CANCELLING",
                    "RECONCILING"})  # fmt: skip
# Flink's sensitive configuration keys (GlobalConfiguration.SENSITIVE_KEYS, newest), matched as
# substrings, case-insensitively: what GET /jobs/:jobid/jobmanager/config shows as ******
SENSITIVE = ("password", "secret", "fs.azure.account.key", "apikey", "api-key", "auth-params",
             "service-key", "token", "basic-auth", "jaas.config", "http-headers", "access-key",
             "access.key", "accesskey")  # fmt: skip
STATE_UNAVAILABLE = "Not all required tasks are currently running."


# -- time ------------------------------------------------------------------------------------


class Clock:
    """The simulation's time: monotonic seconds from 0; sleeping advances it, and every
    advance lets the fake cluster catch up (jobs start, fail, checkpoint, stop)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.listeners: list[Callable[[], None]] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        """Epoch seconds (Flink's timestamps and the catalog's)."""
        return EPOCH_MS / 1000 + self.now

    def ms(self, at: float | None = None) -> int:
        return EPOCH_MS + int(round((self.now if at is None else at) * 1000))

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.now += max(float(seconds), 0.0)
        for listener in self.listeners:
            listener()


class FakeTime:
    """A stand-in for the `time` module inside flinkctl's modules: the clock's monotonic, time
    and sleep; everything else (strftime, localtime) is the real module's."""

    def __init__(self, clock: Clock) -> None:
        self.monotonic, self.time, self.sleep = clock.monotonic, clock.time, clock.sleep

    def __getattr__(self, name: str) -> Any:
        return getattr(real_time, name)


# -- recorded answers ------------------------------------------------------------------------


class Recordings:
    """The answers recorded from one Flink version; each use gets a deep copy."""

    _texts: dict[str, str] = {}

    def __init__(self, version: str) -> None:
        self.version = version
        self.dir = FIXTURES / f"flink-{version}"

    def record(self, name: str) -> dict[str, Any]:
        key = f"{self.version}/{name}"
        if key not in self._texts:
            self._texts[key] = (self.dir / f"{name}.json").read_text()
        record: dict[str, Any] = json.loads(self._texts[key])  # a fresh copy, faster than deepcopy
        return record

    def body(self, name: str) -> Any:
        return self.record(name)["body"]

    def status(self, name: str) -> int:
        return int(self.record(name)["status"])

    def error(self, name: str, *replace: tuple[str, str], status: int | None = None) -> Answer:
        """A recorded error answer (`{"errors": [...]}`), with texts in its messages replaced."""
        record = self.record(name)
        errors = record["body"]["errors"]
        for i, text in enumerate(errors):
            for old, new in replace:
                text = re.sub(old, new, text)
            errors[i] = text
        return Answer(status or int(record["status"]), record["body"])


@dataclass
class Answer:
    """A response to give: status and JSON body."""

    status: int
    body: Any


# -- the program -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Program:
    """What the demo jar's main() makes of its arguments (flinkctl/local/demo/DemoJob.java)."""

    name: str = "flinkctl-demo"
    fail_after: float = 0.0  # every task attempt fails this long after it starts; 0: never
    state_version: str = ""  # the counting operator's uid: state of another version won't map
    checkpoint_interval_ms: int = 3000  # 0: checkpointing off

    @classmethod
    def parse(cls, args: list[str]) -> Program:
        values: dict[str, Any] = {}
        it = iter(args)
        for arg in it:
            if arg == "--name":
                values["name"] = next(it)
            elif arg == "--fail-after":
                values["fail_after"] = float(next(it))
            elif arg == "--state-version":
                values["state_version"] = next(it)
            elif arg == "--checkpoint-interval":
                values["checkpoint_interval_ms"] = int(next(it))
        return cls(**values)


# -- state on storage ------------------------------------------------------------------------


@dataclass
class State:
    """A savepoint or checkpoint directory that exists, and what it can restore."""

    path: str
    kind: str  # savepoint | checkpoint
    job_id: str
    state_version: str
    created_ms: int


def same_place(path: str) -> str:
    """`file:/x`, `file:///x` and `/x/` as one spelling."""
    path = path.rstrip("/")
    for prefix in ("file://", "file:"):
        if path.startswith(prefix):
            return "/" + path[len(prefix) :].lstrip("/")
    return path


class Storage:
    """The state directories that exist (savepoints, retained and live checkpoints)."""

    def __init__(self) -> None:
        self.states: dict[str, State] = {}

    def add(self, state: State) -> None:
        self.states[same_place(state.path)] = state

    def get(self, path: str) -> State | None:
        return self.states.get(same_place(path))

    def remove(self, path: str) -> bool:
        return self.states.pop(same_place(path), None) is not None

    def exists(self, path: str) -> bool:
        return same_place(path) in self.states

    @property
    def savepoints(self) -> list[str]:
        return [s.path for s in self.states.values() if s.kind == "savepoint"]


# -- jobs ------------------------------------------------------------------------------------


@dataclass
class Checkpoint:
    """One completed checkpoint or savepoint of a job, as its statistics list it."""

    id: int
    path: str
    trigger_ms: int
    ack_ms: int
    savepoint: bool = False
    checkpoint_type: str = "CHECKPOINT"
    discarded: bool = False


@dataclass
class Job:
    """One job on the fake JobManager: its program, configuration, states and statistics."""

    jid: str
    jar_id: str
    program: Program
    configuration: dict[str, str]
    parallelism: int
    restored_from: str | None
    started_at: float  # clock seconds
    state: str = "INITIALIZING"
    tasks: str = "CREATED"  # the status every task (vertex) shows
    next_at: float | None = None  # the next transition of INITIALIZING, DEPLOYING, RESTARTING...
    attempt_since: float | None = None  # when the current task attempt began RUNNING
    next_checkpoint: float | None = None
    ended_at: float | None = None
    timestamps: dict[str, int] = field(default_factory=dict)
    failures: list[int] = field(default_factory=list)  # epoch ms of each task failure
    history: list[Checkpoint] = field(default_factory=list)  # newest first, bounded
    completed: int = 0
    checkpoint_ids: int = 0
    latest_checkpoint: Checkpoint | None = None
    latest_savepoint: Checkpoint | None = None
    restores: int = 0

    @property
    def name(self) -> str:
        return self.program.name

    @property
    def active(self) -> bool:
        return self.state not in ENDED

    @property
    def running_cleanly(self) -> bool:
        return self.state == "RUNNING" and self.tasks == "RUNNING"

    @property
    def checkpointing(self) -> bool:
        return self.program.checkpoint_interval_ms > 0

    @property
    def retention(self) -> str:
        return self.configuration.get(RETENTION_KEY, "NO_EXTERNALIZED_CHECKPOINTS").upper()

    @property
    def user_config(self) -> dict[str, str]:
        """`pipeline.global-job-parameters` (`key:value,key2:value2`), as /config shows it."""
        given = self.configuration.get(GLOBAL_PARAMETERS, "")
        pairs = (item.partition(":") for item in given.split(",") if item)
        return {key: value for key, _, value in pairs}

    def readable_configuration(self) -> dict[str, str]:
        """The configuration as anyone with the Web UI reads it: sensitive keys as ******."""
        return {
            key: "******" if any(s in key.lower() for s in SENSITIVE) else value
            for key, value in self.configuration.items()
        }


@dataclass
class Operation:
    """An asynchronous operation (stop-with-savepoint, disposal) Flink keys by a trigger id."""

    kind: str
    job_id: str | None
    trigger_id: str
    done_at: float
    finish: Callable[[], Answer]  # what its status says once it completes
    result: Answer | None = None
    completed_at: float | None = None


@dataclass
class Jar:
    id: str
    name: str
    uploaded_ms: int


@dataclass(frozen=True)
class Action:
    """A change made on the fake cluster, and by whom (the test's name for a client)."""

    actor: str
    kind: str  # upload | run | stop (triggered) | stopped | cancel | delete-jar | dispose
    target: str
    at: float


# -- the JobManager --------------------------------------------------------------------------

Route = tuple[str, "re.Pattern[str]", Callable[..., Answer]]


class FakeFlink:
    """An in-memory JobManager: REST answers from recordings, jobs driven by the clock."""

    def __init__(self, clock: Clock, version: str = "2.3.0", seed: int = 0) -> None:
        self.clock = clock
        self.rec = Recordings(version)
        self.rng = random.Random(seed)
        self.jars: dict[str, Jar] = {}
        self.jobs: dict[str, Job] = {}
        self.storage = Storage()
        self.operations: dict[tuple[str | None, str], Operation] = {}
        self.deferred: list[tuple[float, Callable[[], object]]] = []
        self.actions: list[Action] = []
        self.requests = 0
        self.upload_dir = "/tmp/flink-web-fake/flink-web-upload"
        clock.listeners.append(self.tick)
        self.routes: list[Route] = [
            ("GET", re.compile(r"/config"), self.get_config),
            ("GET", re.compile(r"/overview"), self.get_cluster_overview),
            ("GET", re.compile(r"/jobmanager/config"), self.get_jobmanager_config),
            ("GET", re.compile(r"/jobs/overview"), self.get_overview),
            ("GET", re.compile(r"/jobs/(\w+)"), self.get_job),
            ("GET", re.compile(r"/jobs/(\w+)/status"), self.get_job_status),
            ("GET", re.compile(r"/jobs/(\w+)/config"), self.get_job_config),
            ("GET", re.compile(r"/jobs/(\w+)/exceptions"), self.get_exceptions),
            ("GET", re.compile(r"/jobs/(\w+)/checkpoints"), self.get_checkpoints),
            ("GET", re.compile(r"/jobs/(\w+)/checkpoints/config"), self.get_checkpoint_config),
            ("GET", re.compile(r"/jobs/(\w+)/execution-result"), self.get_execution_result),
            ("GET", re.compile(r"/jobs/(\w+)/savepoints/(\w+)"), self.get_savepoint_status),
            ("PATCH", re.compile(r"/jobs/(\w+)"), self.cancel),
            ("POST", re.compile(r"/jobs/(\w+)/stop"), self.stop),
            ("GET", re.compile(r"/jars"), self.get_jars),
            ("POST", re.compile(r"/jars/upload"), self.upload),
            ("POST", re.compile(r"/jars/([^/]+)/plan"), self.plan),
            ("POST", re.compile(r"/jars/([^/]+)/run"), self.run),
            ("DELETE", re.compile(r"/jars/([^/]+)"), self.delete_jar),
            ("POST", re.compile(r"/savepoint-disposal"), self.dispose),
            ("GET", re.compile(r"/savepoint-disposal/(\w+)"), self.get_disposal_status),
        ]

    # -- serving -----------------------------------------------------------------------------

    def transport(
        self, actor: str, intercept: Callable[[httpx.Request, Callable[[], httpx.Response]],
                                              httpx.Response] | None = None,
    ) -> httpx.MockTransport:  # fmt: skip
        """A transport for one client (ACTOR names it in `actions`); INTERCEPT(request, serve)
        may answer in its place (the test's faults), calling SERVE for the fake's answer."""

        def handler(request: httpx.Request) -> httpx.Response:
            request.read()
            self.clock.advance(RTT)
            serve = lambda: self.handle(request, actor)  # noqa: E731
            return intercept(request, serve) if intercept else serve()

        return httpx.MockTransport(handler)

    def handle(self, request: httpx.Request, actor: str) -> httpx.Response:
        """Answer REQUEST as Flink would, applying its effect."""
        self.requests += 1
        path = "/" + unquote(request.url.path).lstrip("/")
        for method, pattern, fn in self.routes:
            match = pattern.fullmatch(path)
            if match and method == request.method:
                answer = fn(request, actor, *match.groups())
                return httpx.Response(answer.status, json=answer.body)
        body = {"errors": ["Not found: " + path]}  # Flink's router, for a path it has no handler
        return httpx.Response(404, json=body)

    # -- time --------------------------------------------------------------------------------

    def tick(self) -> None:
        """Apply every transition due by now, in time order."""
        now = self.clock.now
        while True:
            due: list[tuple[float, int, Callable[[float], None]]] = []
            for n, job in enumerate(self.jobs.values()):
                at = self._next_event(job)
                if at is not None and at <= now:
                    due.append((at, n, lambda t, job=job: self._step(job, t)))
            for n, op in enumerate(self.operations.values()):
                if op.result is None and op.done_at <= now:
                    due.append((op.done_at, 10_000 + n, lambda t, op=op: self._complete(op, t)))
            for n, (at, fn) in enumerate(self.deferred):
                if at <= now:
                    due.append((at, 20_000 + n, lambda t, item=(at, fn): self._run_deferred(item)))
            if not due:
                return
            at, _, apply = min(due, key=lambda d: (d[0], d[1]))
            apply(at)

    def defer(self, delay: float, effect: Callable[[], object]) -> None:
        """Apply EFFECT DELAY seconds from now (a request still being processed)."""
        self.deferred.append((self.clock.now + delay, effect))

    def _run_deferred(self, item: tuple[float, Callable[[], object]]) -> None:
        self.deferred.remove(item)
        item[1]()

    def _next_event(self, job: Job) -> float | None:
        if not job.active:
            return None
        if job.state == "RUNNING" and job.tasks == "RUNNING":
            fail = (
                job.attempt_since + job.program.fail_after
                if job.program.fail_after and job.attempt_since is not None
                else None
            )
            times = [t for t in (fail, job.next_checkpoint) if t is not None]
            return min(times) if times else None
        return job.next_at

    def _enter(self, job: Job, state: str, tasks: str, at: float, then: float | None) -> None:
        job.state, job.tasks, job.next_at = state, tasks, then
        job.timestamps[state] = self.clock.ms(at)

    def _step(self, job: Job, t: float) -> None:
        """The next transition of JOB, at time T."""
        if job.state == "INITIALIZING":
            self._enter(job, "RUNNING", "DEPLOYING", t, t + 0.3)
        elif job.state == "RUNNING" and job.tasks == "DEPLOYING":
            job.tasks, job.next_at, job.attempt_since = "RUNNING", None, t
            if job.checkpointing:
                job.next_checkpoint = t + job.program.checkpoint_interval_ms / 1000
        elif job.state == "RUNNING" and job.tasks == "RUNNING":
            fail_at = (job.attempt_since or 0) + job.program.fail_after
            if (
                job.program.fail_after
                and fail_at <= t
                and (job.next_checkpoint is None or fail_at <= job.next_checkpoint)
            ):
                self._fail_tasks(job, t)
            else:
                self._checkpoint(job, t)
        elif job.state == "RESTARTING":
            job.restores += 1 if job.latest_checkpoint else 0
            self._enter(job, "RUNNING", "DEPLOYING", t, t + 0.3)
        elif job.state == "CANCELLING":
            self._end(job, "CANCELED", "CANCELED", t)

    def _fail_tasks(self, job: Job, t: float) -> None:
        """A task attempt fails: restart after a second (exponential-delay's first backoff), or,
        without checkpointing (no restart strategy), the job fails."""
        job.failures.append(self.clock.ms(t))
        job.attempt_since = job.next_checkpoint = None
        if job.checkpointing:
            self._enter(job, "RESTARTING", "CANCELED", t, t + 1.0)
        else:
            self._end(job, "FAILED", "FAILED", t)

    def _checkpoint(self, job: Job, t: float) -> None:
        """A periodic checkpoint completes; the one before it is subsumed (num-retained 1)."""
        job.checkpoint_ids += 1
        path = f"file:/tmp/fakeflink/checkpoints/{job.jid}/chk-{job.checkpoint_ids}"
        ms = self.clock.ms(t)
        done = Checkpoint(job.checkpoint_ids, path, ms - 20, ms)
        if job.latest_checkpoint is not None:
            job.latest_checkpoint.discarded = True
            self.storage.remove(job.latest_checkpoint.path)
        job.latest_checkpoint = done
        self.storage.add(State(path, "checkpoint", job.jid, job.program.state_version, ms))
        self._remember(job, done)
        job.next_checkpoint = t + job.program.checkpoint_interval_ms / 1000

    def _remember(self, job: Job, done: Checkpoint) -> None:
        job.completed += 1
        job.history.insert(0, done)
        del job.history[HISTORY_SIZE:]

    def _end(self, job: Job, state: str, tasks: str, t: float) -> None:
        """JOB reaches a terminal STATE; its live checkpoint is kept only when retained."""
        self._enter(job, state, tasks, t, None)
        job.ended_at, job.next_checkpoint, job.attempt_since = t, None, None
        latest = job.latest_checkpoint
        if latest is None:
            return
        retained = {
            "CANCELED": job.retention == "RETAIN_ON_CANCELLATION",
            "FAILED": job.retention in ("RETAIN_ON_CANCELLATION", "DELETE_ON_CANCELLATION"),
        }.get(state, False)
        if not retained:
            latest.discarded = True
            self.storage.remove(latest.path)

    def _complete(self, op: Operation, t: float) -> None:
        op.result, op.completed_at = op.finish(), t

    # -- reads -------------------------------------------------------------------------------

    def get_config(self, request: httpx.Request, actor: str) -> Answer:
        return Answer(200, self.rec.body("config"))

    def get_cluster_overview(self, request: httpx.Request, actor: str) -> Answer:
        """GET /overview: SLOTS slots, those of the jobs that have not ended taken."""
        body = self.rec.body("overview")
        taken = sum(j.parallelism for j in self.jobs.values() if j.state not in ENDED)
        body.update({"slots-total": SLOTS, "slots-available": max(SLOTS - taken, 0)})
        return Answer(200, body)

    def get_jobmanager_config(self, request: httpx.Request, actor: str) -> Answer:
        return Answer(200, self.rec.body("jobmanager-config"))

    def get_overview(self, request: httpx.Request, actor: str) -> Answer:
        body = self.rec.body("deploy-jobs-overview")
        template = body["jobs"][0]
        body["jobs"] = [self._overview_row(copy.deepcopy(template), j) for j in self.jobs.values()]
        return Answer(200, body)

    def _overview_row(self, row: dict[str, Any], job: Job) -> dict[str, Any]:
        row.update(jid=job.jid, name=job.name, state=job.state, **self._times(job))
        row["last-modification"] = max(job.timestamps.values())
        total = 2 * job.parallelism
        row["tasks"] = {key: 0 for key in row["tasks"]}
        row["tasks"]["total"] = total
        row["tasks"][_task_key(job.tasks).lower()] = total
        return row

    def _times(self, job: Job) -> dict[str, int]:
        start = self.clock.ms(job.started_at)
        end = self.clock.ms(job.ended_at) if job.ended_at is not None else -1
        duration = (end if end > 0 else self.clock.ms()) - start
        return {"start-time": start, "end-time": end, "duration": duration}

    def _job(self, jid: str) -> Job | Answer:
        job = self.jobs.get(jid)
        if job is None:
            return self.rec.error("job-not-found", (r"[0-9a-f]{32}", jid))
        return job

    def get_job(self, request: httpx.Request, actor: str, jid: str) -> Answer:
        job = self._job(jid)
        if isinstance(job, Answer):
            return job
        body = self.rec.body("deploy-job-deployed")
        body.update(
            jid=jid, name=job.name, state=job.state, now=self.clock.ms(), **self._times(job)
        )
        if "application-id" in body:
            body["application-id"] = jid
        body["timestamps"] = {key: job.timestamps.get(key, 0) for key in body["timestamps"]}
        for vertex in body["vertices"]:
            vertex.update(status=job.tasks, parallelism=job.parallelism, **self._times(job))
            vertex["tasks"] = {key: 0 for key in vertex["tasks"]}
            vertex["tasks"][_task_key(job.tasks)] = job.parallelism
        if "status-counts" in body:  # Flink 1.x: vertices per status
            body["status-counts"] = {key: 0 for key in body["status-counts"]}
            body["status-counts"][_task_key(job.tasks)] = len(body["vertices"])
        return Answer(200, body)

    def get_job_status(self, request: httpx.Request, actor: str, jid: str) -> Answer:
        job = self._job(jid)
        if isinstance(job, Answer):
            return job
        return Answer(200, {**self.rec.body("job-status"), "status": job.state})

    def get_job_config(self, request: httpx.Request, actor: str, jid: str) -> Answer:
        job = self._job(jid)
        if isinstance(job, Answer):
            return job
        body = self.rec.body("deploy-config-deployed")
        body.update(jid=jid, name=job.name)
        body["execution-config"]["job-parallelism"] = job.parallelism
        body["execution-config"]["user-config"] = job.user_config
        return Answer(200, body)

    def get_exceptions(self, request: httpx.Request, actor: str, jid: str) -> Answer:
        job = self._job(jid)
        if isinstance(job, Answer):
            return job
        body = self.rec.body("deploy-exceptions-restarting")
        template = body["exceptionHistory"]["entries"][0]
        entries = []
        for ms in reversed(job.failures):  # newest first
            entry = copy.deepcopy(template)
            entry["timestamp"] = ms
            entry["stacktrace"] = re.sub(
                r"demo failure \d+ s", f"demo failure {job.program.fail_after:g} s",
                entry["stacktrace"],
            )  # fmt: skip
            entries.append(entry)
        body["exceptionHistory"]["entries"] = entries
        return Answer(200, body)

    def get_checkpoints(self, request: httpx.Request, actor: str, jid: str) -> Answer:
        job = self._job(jid)
        if isinstance(job, Answer):
            return job
        if not job.checkpointing and not job.history:
            return Answer(200, self.rec.body("deploy-checkpoints-no-checkpoints"))
        body = self.rec.body("deploy-checkpoints-restarting")  # every `latest` field recorded
        template = body["latest"]["completed"]
        restored = body["latest"]["restored"]
        savepoint = self.rec.body("checkpoints")["latest"]["savepoint"]
        body["counts"].update(restored=job.restores + (1 if job.restored_from else 0),
                              total=job.completed, in_progress=0, completed=job.completed,
                              failed=0)  # fmt: skip
        body["history"] = [self._checkpoint_entry(template, savepoint, c) for c in job.history]
        latest = body["latest"]
        latest["failed"] = None
        latest["completed"] = job.latest_checkpoint and self._checkpoint_entry(
            template, savepoint, job.latest_checkpoint
        )
        latest["savepoint"] = job.latest_savepoint and self._checkpoint_entry(
            template, savepoint, job.latest_savepoint
        )
        latest["restored"] = None
        if job.restored_from:
            is_savepoint = (self.storage.get(job.restored_from) or State("", "", "", "", 0)).kind
            restored.update(id=0, restore_timestamp=self.clock.ms(job.started_at),
                            is_savepoint=is_savepoint == "savepoint",
                            external_path=job.restored_from)  # fmt: skip
            latest["restored"] = restored
        return Answer(200, body)

    def _checkpoint_entry(
        self, template: dict[str, Any], savepoint: dict[str, Any], c: Checkpoint
    ) -> dict[str, Any]:
        entry = copy.deepcopy(savepoint if c.savepoint else template)
        entry.update(id=c.id, trigger_timestamp=c.trigger_ms, latest_ack_timestamp=c.ack_ms,
                     external_path=c.path, discarded=c.discarded,
                     checkpoint_type=c.checkpoint_type)  # fmt: skip
        return entry

    def get_checkpoint_config(self, request: httpx.Request, actor: str, jid: str) -> Answer:
        job = self._job(jid)
        if isinstance(job, Answer):
            return job
        body = self.rec.body("deploy-checkpoints-config-deployed")
        body["interval"] = job.program.checkpoint_interval_ms or NO_CHECKPOINTS
        body["externalization"] = {
            "enabled": job.retention != "NO_EXTERNALIZED_CHECKPOINTS",
            "delete_on_cancellation": job.retention != "RETAIN_ON_CANCELLATION",
        }
        return Answer(200, body)

    def get_execution_result(self, request: httpx.Request, actor: str, jid: str) -> Answer:
        job = self._job(jid)
        if isinstance(job, Answer):
            return job
        if job.active:
            return Answer(200, self.rec.body("job-execution-result"))
        name = "job-execution-result-failed" if job.state == "FAILED" else (
            "job-execution-result-canceled")  # fmt: skip
        body = self.rec.body(name)
        result = body["job-execution-result"]
        result.update(id=jid, name=job.name, **{"start-time": self.clock.ms(job.started_at),
                                                "end-time": self.clock.ms(job.ended_at)})  # fmt: skip
        if "application-id" in result:
            result["application-id"] = jid
        if job.state == "FINISHED":
            result["application-status"] = "SUCCEEDED"
        return Answer(200, body)

    def get_jars(self, request: httpx.Request, actor: str) -> Answer:
        body = self.rec.body("deploy-jars")
        template = body["files"][0]
        body["files"] = [
            {**copy.deepcopy(template), "id": j.id, "name": j.name, "uploaded": j.uploaded_ms}
            for j in sorted(self.jars.values(), key=lambda j: -j.uploaded_ms)
        ]
        return Answer(200, body)

    # -- operations --------------------------------------------------------------------------

    def _operation_status(self, key: tuple[str | None, str], unknown: Answer) -> Answer:
        op = self.operations.get(key)
        done = op.completed_at if op is not None else None
        if done is not None and self.clock.now - done > STORE_DURATION:  # the cache forgot it
            del self.operations[key]
            op = None
        if op is None:
            return unknown
        if op.result is None:
            name = "stop-status-in-progress" if op.kind == "stop" else (
                "disposal-status-in-progress")  # fmt: skip
            return Answer(200, self.rec.body(name))
        return op.result

    def get_savepoint_status(
        self, request: httpx.Request, actor: str, jid: str, tid: str
    ) -> Answer:
        unknown = self.rec.error(
            "savepoint-status-unknown", (r"triggerId=\w+", f"triggerId={tid}"),
            (r"for job \w+", f"for job {jid}"),
        )  # fmt: skip
        return self._operation_status((jid, tid), unknown)

    def get_disposal_status(self, request: httpx.Request, actor: str, tid: str) -> Answer:
        return self._operation_status(
            (None, tid), Answer(404, self.rec.body("disposal-status-unknown"))
        )

    def stop(self, request: httpx.Request, actor: str, jid: str) -> Answer:
        """POST /jobs/:jobid/stop: stop-with-savepoint under the client's trigger id (a repeat
        of a trigger id Flink still knows is the same operation)."""
        body = json.loads(request.content)
        tid = str(body.get("triggerId") or self._hex())
        answer = Answer(self.rec.status("stop-trigger"), {"request-id": tid})
        if (jid, tid) in self.operations:
            return answer
        job = self.jobs.get(jid)
        self.actions.append(Action(actor, "stop", jid, self.clock.now))
        began = self.clock.now
        directory = body.get("targetDirectory") or "file:/tmp/fakeflink/savepoints"

        def finish() -> Answer:
            if job is None or not job.running_cleanly or (job.attempt_since or 0) > began:
                why = f"job {jid} is {job.state if job else 'unknown'}: {STATE_UNAVAILABLE}"
                return self._failed_savepoint(why)
            path = f"{directory}/savepoint-{jid[:6]}-{self._hex()[:12]}"
            ms = self.clock.ms()
            job.checkpoint_ids += 1
            done = Checkpoint(job.checkpoint_ids, path, self.clock.ms(began), ms, True,
                              "SYNC_SAVEPOINT")  # fmt: skip
            job.latest_savepoint = done
            self._remember(job, done)
            self.storage.add(State(path, "savepoint", jid, job.program.state_version, ms))
            self._end(job, "FINISHED", "FINISHED", self.clock.now)
            self.actions.append(Action(actor, "stopped", jid, self.clock.now))
            status = self.rec.body("stop-status-completed")
            status["operation"]["location"] = path
            return Answer(200, status)

        delay = 0.1 if job is None or not job.running_cleanly else 1.2
        self.operations[(jid, tid)] = Operation("stop", jid, tid, self.clock.now + delay, finish)
        return answer

    def _failed_savepoint(self, why: str) -> Answer:
        body = self.rec.body("savepoint-status-failed")
        cause = body["operation"]["failure-cause"]
        cause["class"] = "org.apache.flink.runtime.checkpoint.CheckpointException"
        cause["stack-trace"] = f"org.apache.flink.runtime.checkpoint.CheckpointException: {why}"
        return Answer(200, body)

    def dispose(self, request: httpx.Request, actor: str) -> Answer:
        """POST /savepoint-disposal: Flink picks the trigger id; the files go half a second on."""
        path = str(json.loads(request.content).get("savepoint-path"))
        tid = self._hex()
        self.actions.append(Action(actor, "dispose", path, self.clock.now))

        def finish() -> Answer:
            if self.storage.remove(path):
                return Answer(200, self.rec.body("disposal-status-completed"))
            failed = self.rec.body("disposal-status-failed")
            cause = failed["operation"]["failure-cause"]
            cause["stack-trace"] = cause["stack-trace"].replace(
                "file:///tmp/flinkctl-no-such-savepoint", path
            )
            return Answer(200, failed)

        self.operations[(None, tid)] = Operation("dispose", None, tid, self.clock.now + 0.5, finish)
        return Answer(self.rec.status("disposal-trigger"), {"request-id": tid})

    def cancel(self, request: httpx.Request, actor: str, jid: str) -> Answer:
        """PATCH /jobs/:jobid?mode=cancel."""
        job = self._job(jid)
        if isinstance(job, Answer):
            return job
        if not job.active:
            return self.rec.error("job-not-found", (
                r"(?s)^.*$", "org.apache.flink.runtime.rest.handler.RestHandlerException: Job "
                f"cancellation failed: Job {jid} has already reached another terminal state "
                f"({job.state})."), status=409)  # fmt: skip
        self.actions.append(Action(actor, "cancel", jid, self.clock.now))
        if job.state != "CANCELLING":
            self._enter(job, "CANCELLING", "CANCELING", self.clock.now, self.clock.now + 0.3)
        return Answer(self.rec.status("job-cancel"), self.rec.body("job-cancel"))

    # -- jars --------------------------------------------------------------------------------

    def upload(self, request: httpx.Request, actor: str) -> Answer:
        found = re.search(rb'filename="([^"]+)"', request.content)
        name = found.group(1).decode() if found else "upload.jar"
        jar_id = f"{self._uuid()}_{name}"
        self.jars[jar_id] = Jar(jar_id, name, self.clock.ms())
        self.actions.append(Action(actor, "upload", jar_id, self.clock.now))
        body = self.rec.body("jar-upload")
        body["filename"] = f"{self.upload_dir}/{jar_id}"
        return Answer(self.rec.status("jar-upload"), body)

    def _missing_jar(self, jar_id: str) -> Answer:
        return self.rec.error("jar-run-not-found", (r"flink-web-upload/nosuch\.jar",
                                                    f"flink-web-upload/{jar_id}"))  # fmt: skip

    def plan(self, request: httpx.Request, actor: str, jar_id: str) -> Answer:
        if jar_id not in self.jars:
            return self._missing_jar(jar_id)
        program = Program.parse(list(json.loads(request.content).get("programArgsList") or []))
        body = self.rec.body("jar-plan")
        body["plan"].update(jid=self._hex(), name=program.name)
        return Answer(200, body)

    def run(self, request: httpx.Request, actor: str, jar_id: str) -> Answer:
        """POST /jars/:jarid/run: main() runs in the JobManager and submits the job."""
        if jar_id not in self.jars:
            return self._missing_jar(jar_id)
        body = json.loads(request.content)
        program = Program.parse(list(body.get("programArgsList") or []))
        jid = str(body.get("jobId") or self._hex())
        if jid in self.jobs:
            return self.rec.error(
                "deploy-run-duplicate-job-id", ("'deployed'", f"'{program.name}'")
            )
        restore = body.get("savepointPath")
        if restore:
            state = self.storage.get(str(restore))
            if state is None:
                return self._restore_failed(program, str(restore), missing=True)
            if state.state_version != program.state_version and not body.get(
                "allowNonRestoredState"
            ):
                return self._restore_failed(program, str(restore), missing=False)
        conf = {str(k): str(v) for k, v in (body.get("flinkConfiguration") or {}).items()}
        job = Job(jid, jar_id, program, conf, int(body.get("parallelism") or 1),
                  restore and str(restore), self.clock.now)  # fmt: skip
        self._enter(job, "INITIALIZING", "CREATED", self.clock.now, self.clock.now + 0.2)
        self.jobs[jid] = job
        self.actions.append(Action(actor, "run", jid, self.clock.now))
        answer = self.rec.body("jar-run")
        answer["jobid"] = jid
        if "applicationId" in answer:
            answer["applicationId"] = jid
        return Answer(200, answer)

    def _restore_failed(self, program: Program, path: str, *, missing: bool) -> Answer:
        """The recorded answer of a run whose state cannot be restored: unmappable (another
        state version), or a directory that does not exist (as a disposal of one reports)."""
        replace = [("'unmappable'", f"'{program.name}'"),
                   (r"file:/tmp/\S+/savepoints/savepoint-[0-9a-f-]+", path)]  # fmt: skip
        if missing:
            gone = (
                "java.io.FileNotFoundException: Cannot find checkpoint or savepoint "
                f"file/directory '{path}' on file system 'file'."
            )
            replace.append((r"java\.lang\.IllegalStateException: Failed to rollback[^\n]*", gone))
        return self.rec.error("deploy-run-unmappable-state", *replace)

    def delete_jar(self, request: httpx.Request, actor: str, jar_id: str) -> Answer:
        if self.jars.pop(jar_id, None) is None:
            return self.rec.error("job-not-found", (r"(?s)^.*$", "org.apache.flink.runtime.rest."
                                  f"handler.RestHandlerException: File {jar_id} does not exist in "
                                  f"{self.upload_dir}."), status=400)  # fmt: skip
        self.actions.append(Action(actor, "delete-jar", jar_id, self.clock.now))
        return Answer(self.rec.status("jar-delete"), self.rec.body("jar-delete"))

    # -- ids ---------------------------------------------------------------------------------

    def _hex(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def _uuid(self) -> str:
        h = self._hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    # -- for the invariants ------------------------------------------------------------------

    def active(self, name: str) -> list[Job]:
        return [j for j in self.jobs.values() if j.name == name and j.active]

    def readable_texts(self, job: Job) -> list[str]:
        """Everything anyone can read of JOB's configuration: its global job parameters (and
        the base64 in them, decoded), and the configuration with sensitive keys masked."""
        texts = [*job.user_config.values(), *job.readable_configuration().values()]
        for value in job.user_config.values():
            with contextlib.suppress(ValueError, binascii.Error, UnicodeDecodeError):
                texts.append(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode())
        return texts


def _task_key(status: str) -> str:
    """A task status as the vertex `tasks` counts spell it (CANCELING, not CANCELLING)."""
    return "CANCELING" if status == "CANCELLING" else status
