"""Jar endpoints: /jars, upload, plan, run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO
from urllib.parse import quote

from flinkctl.client.base import Base
from flinkctl.flink import JarList, JarRun, JarUpload, Json

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
        with path.open("rb") as f:
            body: IO[bytes] | _Reading = _Reading(f, total, progress) if progress else f
            files = {"jarfile": (path.name, body, "application/x-java-archive")}
            return self._send(JarUpload, "POST", "/jars/upload", files=files)

    def delete_jar(self, jar: str) -> None:
        """DELETE /jars/:jarid."""
        self.http.request("DELETE", _jar(jar), retry=False)

    def plan_jar(self, jar: str, body: Json) -> Json:
        """POST /jars/:jarid/plan."""
        return self._send(Json, "POST", f"{_jar(jar)}/plan", json=self._for_version(body))

    def run_jar(self, jar: str, body: Json) -> JarRun:
        """POST /jars/:jarid/run."""
        return self._send(JarRun, "POST", f"{_jar(jar)}/run", json=self._for_version(body))

    def run_application(self, jar: str, body: Json) -> Json:
        """POST /jars/:jarid/run-application (Flink 2.3+)."""
        self.require("2.3", "running a jar as an application")
        path = f"{_jar(jar)}/run-application"
        return self._send(Json, "POST", path, json=self._for_version(body))

    def _for_version(self, body: Json) -> Json:
        """A plan/run body for this cluster: `flinkConfiguration` needs Flink 1.17, and
        `claimMode` was `restoreMode` before 1.20 (the version is asked only when needed)."""
        body = dict(body)
        if "flinkConfiguration" in body:
            self.require("1.17", "-D job configuration")
        if "claimMode" in body and self.flink_version() < (1, 20):
            body["restoreMode"] = body.pop("claimMode")
        return body
