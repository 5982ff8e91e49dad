"""Jar endpoints: /jars, upload, plan, run."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import quote

from flinkctl.client.base import Base
from flinkctl.client.requests import Program, Restore
from flinkctl.errors import FlinkctlError, FlinkctlWarning, RequestError, UnreachableError
from flinkctl.flink import JarList, JarRun, JarUpload, Json
from flinkctl.sensitive import scrub, secret_values

Progress = Callable[[int, int], None]


class _Reading:
    """A binary file whose reads report (bytes read, total) to a callback."""

    def __init__(self, f: IO[bytes], total: int, progress: Progress) -> None:
        self.f, self.total, self.progress = f, total, progress

    def read(self, size: int = -1) -> bytes:
        chunk = self.f.read(size)
        self.progress(self.f.tell(), self.total)
        return chunk

    def __getattr__(self, name: str) -> object:
        return getattr(self.f, name)


BODY_LIMIT_HINT = (
    "a gateway in front of Flink may limit request bodies (nginx: client_max_body_size; a "
    "Kubernetes ingress: its proxy-body-size annotation); Flink's own limit is "
    "rest.server.max-content-length"
)


def _too_large(name: str, size: int, exc: RequestError | UnreachableError) -> FlinkctlError:
    """An upload refused as too large (413), or cut off by a server that closed the connection
    while the jar was being sent (as a gateway over its body limit may): one line that names the
    jar's size, with a hint about body limits. Any other failure as it is."""
    import httpx

    what = f"the jar {name} ({size:,} bytes)"
    if exc.status == 413:
        return RequestError(
            f"{what} is larger than the server accepts: POST /jars/upload answers 413 "
            "Request Entity Too Large",
            hint=BODY_LIMIT_HINT,
            status=413,
            flink=exc.flink,
        )
    cut = (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError)
    if isinstance(exc, UnreachableError) and isinstance(exc.__cause__, cut):
        return UnreachableError(
            f"the connection closed while sending {what}: {exc.message}", hint=BODY_LIMIT_HINT
        )
    return exc


@contextmanager
def _secrets_kept(program: Program) -> Iterator[None]:
    """Flink's error about PROGRAM (a failed main() quotes what it could not parse) with the
    secrets of its arguments and configuration masked."""
    try:
        yield
    except FlinkctlError as exc:
        secrets = secret_values(program.args, program.configuration)
        if secrets:
            exc.message = scrub(exc.message, secrets)
            exc.args = (exc.message,)
            exc.flink = [scrub(line, secrets) for line in exc.flink]
            exc.hint = exc.hint and scrub(exc.hint, secrets)
        raise


def _jar(jar: str) -> str:
    return f"/jars/{quote(jar, safe='')}"


class JarEndpoints(Base):
    """Jar endpoints: /jars, upload, plan, run."""

    def jars(self) -> JarList:
        """GET /jars."""
        return self._get(JarList, "/jars")

    def upload_jar(self, path: Path, progress: Progress | None = None) -> JarUpload:
        """POST /jars/upload (multipart field `jarfile`); PROGRESS(sent, total) while sending."""
        total = path.stat().st_size
        try:
            with path.open("rb") as f:
                body: IO[bytes] | _Reading = _Reading(f, total, progress) if progress else f
                files = {"jarfile": (path.name, body, "application/x-java-archive")}
                return self._send(JarUpload, "POST", "/jars/upload", files=files)
        except (RequestError, UnreachableError) as exc:
            raise _too_large(path.name, total, exc) from exc

    def delete_jar(self, jar: str) -> None:
        """DELETE /jars/:jarid."""
        self.http.request("DELETE", _jar(jar), retry=False)

    @contextmanager
    def deleting(self, jar: str, delete: bool = True) -> Iterator[None]:
        """With DELETE, delete the uploaded JAR after the block (a run) once Flink has answered:
        it runs a job from its own copy of the jar (the blob store). A lost answer or Ctrl-C
        keeps the jar, which Flink may still be reading; a failed delete is a warning."""
        try:
            yield
        except BaseException as exc:
            delete = (
                delete and isinstance(exc, FlinkctlError) and not isinstance(exc, UnreachableError)
            )
            raise
        finally:
            if delete:
                try:
                    self.delete_jar(jar)
                except FlinkctlError as exc:
                    warnings.warn(
                        f"could not delete the uploaded jar {jar}: {exc.message}",
                        FlinkctlWarning,
                        stacklevel=1,
                    )

    def plan_jar(self, jar: str, program: Program) -> Json:
        """POST /jars/:jarid/plan."""
        with _secrets_kept(program):
            return self._send(Json, "POST", f"{_jar(jar)}/plan", json=self._body(program))

    def run_jar(self, jar: str, program: Program, restore: Restore | None = None) -> JarRun:
        """POST /jars/:jarid/run: PROGRAM, from RESTORE's state and as its job id if given."""
        body = self._body(program, restore)
        with _secrets_kept(program):
            return self._send(JarRun, "POST", f"{_jar(jar)}/run", json=body)

    def run_application(self, jar: str, program: Program, restore: Restore | None = None) -> Json:
        """POST /jars/:jarid/run-application (Flink 2.3+)."""
        self.require("2.3", "running a jar as an application")
        path = f"{_jar(jar)}/run-application"
        with _secrets_kept(program):
            return self._send(Json, "POST", path, json=self._body(program, restore))

    def _body(self, program: Program, restore: Restore | None = None) -> Json:
        """A plan/run body for this cluster: -D configuration needs Flink 1.17, and the
        requests spell for its version what depends on it (the version is asked only then)."""
        if program.configuration:
            self.require("1.17", "-D job configuration")
        parts = (program, restore or Restore())
        version = self.flink_version() if any(p.versioned for p in parts) else ()
        return {k: v for part in parts for k, v in part.to_body(version).items()}
