"""Resolve what a user typed (id, unique prefix, name) to one resource; one home for every noun."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flinkctl.errors import NotFoundError, UnexpectedAnswer, UsageError
from flinkctl.flink import (
    TERMINAL_STATES,
    JarFile,
    JobDetails,
    is_hex_id,
    local_time,
    number,
    objects,
)

if TYPE_CHECKING:
    from flinkctl.client import FlinkClient

# a listed resource (job, vertex, jar, task manager, application), read by key
Item = TypeVar("Item", bound=Mapping[str, Any])


def pick(
    value: str,
    items: Sequence[Item],
    *,
    noun: str,
    key: str = "id",
    name_key: str | None = None,
    describe: Callable[[Item], str] | None = None,
    min_prefix: int = 1,
    prefer: Callable[[Item], bool] | None = None,
    substring: bool = False,
) -> Item:
    """The one item whose KEY equals VALUE, starts with it, or whose NAME_KEY equals it.

    Exact ids win, then unique prefixes (at least MIN_PREFIX chars), then exact names, then
    (with SUBSTRING) names containing VALUE.
    Among several matches PREFER (e.g. "not terminal") narrows to one if it can.
    Ambiguity is a UsageError listing the candidates; no match is NotFoundError.
    """
    describe = describe or (lambda item: str(item.get(key)))
    exact = [i for i in items if str(i.get(key)) == value]
    if exact:
        return exact[0]
    matches: list[Item] = []
    if len(value) >= min_prefix:
        matches = [i for i in items if str(i.get(key, "")).startswith(value)]
    if not matches and name_key:
        matches = [i for i in items if str(i.get(name_key)) == value]
    if not matches and name_key and substring:
        matches = [i for i in items if value in str(i.get(name_key))]
    if len(matches) > 1 and prefer is not None:
        preferred = [i for i in matches if prefer(i)]
        if len(preferred) == 1:
            return preferred[0]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFoundError(f"{noun} {value!r} not found")
    listing = "; ".join(describe(i) for i in matches[:10])
    more = f" (and {len(matches) - 10} more)" if len(matches) > 10 else ""
    raise UsageError(f"{noun} {value!r} is ambiguous: {listing}{more}")


def _run(
    value: str,
    items: list[Item],
    *,
    noun: str,
    key: str,
    state: str,
    path: str,
    describe: Callable[[Item], str],
) -> str:
    """The id under KEY of the job or application VALUE names (an id, a unique id prefix of at
    least 4 characters or an exact name) among ITEMS from GET PATH; a name that several runs
    share picks the one whose STATE is not terminal."""
    found = pick(
        value,
        items,
        noun=noun,
        key=key,
        name_key="name",
        describe=describe,
        min_prefix=4,
        prefer=lambda i: i.get(state) not in TERMINAL_STATES,
    )
    return _id(found, key, path)


def taskmanager(client: FlinkClient, value: str) -> str:
    """A task manager id from a full id or a unique prefix."""
    items = objects(client.taskmanagers().get("taskmanagers"))
    return _id(pick(value, items, noun="task manager"), "id", "/taskmanagers")


def _describe_job(job: Mapping[str, Any]) -> str:
    started = local_time(job.get("start-time"))
    return f"{job.get('jid')} {job.get('name')!r} {job.get('state')} started {started}"


def job(client: FlinkClient, value: str) -> str:
    """A job id from a full 32-hex id, a unique id prefix (>= 4 chars) or an exact job name.

    A full id is used as is (no request); otherwise one GET /jobs/overview, preferring
    non-terminal jobs when a name matches several.
    """
    if is_hex_id(value):
        return value
    jobs = objects(client.jobs_overview().get("jobs"))
    path = "/jobs/overview"
    jid = _run(value, jobs, noun="job", key="jid", state="state", path=path, describe=_describe_job)
    if not is_hex_id(jid):
        raise UnexpectedAnswer("GET", path, f"{jid!r} is not a job id")
    return jid


def vertex(job_details: JobDetails, value: str) -> str:
    """A vertex id of the job from an id, a unique id prefix, an exact or a unique part of a name.

    Vertex names are operator chains ("Source: Sequence -> Timestamps"), so "Source" is enough.
    """
    found = pick(
        value,
        objects(job_details.get("vertices")),
        noun="vertex",
        name_key="name",
        describe=lambda v: f"{v.get('id')} {v.get('name')!r}",
        min_prefix=4,
        substring=True,
    )
    return _id(found, "id", f"/jobs/{job_details.get('jid')}")


def jar(
    client: FlinkClient,
    value: str,
    *,
    newest: bool = False,
    chose: Callable[[JarFile, list[JarFile]], None] | None = None,
) -> JarFile:
    """The uploaded jar whose id is VALUE, starts with it, or whose original name is VALUE.

    With NEWEST, a name shared by several uploads picks the most recent one, and CHOSE(it, all
    uploads of that name) is told so.
    """
    files = _jar_files(client)
    same = [f for f in files if f.get("name") == value]
    latest = max((n for f in same if (n := number(f.get("uploaded"))) is not None), default=None)
    found = pick(
        value,
        files,
        noun="jar",
        name_key="name",
        describe=lambda f: f"{f.get('id')} (uploaded {local_time(f.get('uploaded'))})",
        prefer=(lambda f: number(f.get("uploaded")) == latest) if newest else None,
    )
    _id(found, "id", "/jars")
    if chose is not None and len(same) > 1 and found in same:
        chose(found, same)
    return found


def _jar_files(client: FlinkClient) -> list[JarFile]:
    return cast("list[JarFile]", objects(client.jars().get("files")))


def jars_named(client: FlinkClient, name: str) -> list[JarFile]:
    """Every upload of a jar file named NAME (NotFoundError if none)."""
    same = [f for f in _jar_files(client) if f.get("name") == name]
    if not same:
        raise NotFoundError(f"no jar named {name!r}")
    for f in same:
        _id(f, "id", "/jars")
    return same


def _describe_app(app: Mapping[str, Any]) -> str:
    return f"{app.get('id')} {app.get('name')!r} {app.get('status')}"


def application(client: FlinkClient, value: str) -> str:
    """An application id from an id, a unique id prefix or an exact name (one overview request)."""
    apps = objects(client.applications().get("applications"))
    path = "/applications/overview"
    return _run(
        value, apps, noun="application", key="id", state="status", path=path, describe=_describe_app
    )


def _id(item: Mapping[str, Any], key: str, path: str) -> str:
    """The id under KEY of an item picked from GET PATH (matched by name, it may lack one)."""
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise UnexpectedAnswer("GET", path, f"the matching entry has no {key!r}")
    return value
