"""Jar endpoints: /jars, upload, plan, run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flinkctl.client.base import Base

Progress = Callable[[int, int], None]


class _Reading:
    """A binary file whose reads report (bytes read, total) to a callback."""

    def __init__(self, f: Any, total: int, progress: Progress) -> None:
        self.f, self.total, self.progress = f, total, progress

    def read(self, size: int = -1) -> bytes:
        chunk = self.f.read(size)
        self.progress(self.f.tell(), self.total)
        return chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self.f, name)


def jar_id(upload_response: dict) -> str:
    """The jar id (the stored file's name) from a POST /jars/upload answer."""
    return Path(str(upload_response.get("filename", ""))).name


class JarEndpoints(Base):
    """Jar endpoints: /jars, upload, plan, run."""

    def jars(self) -> dict:
        """GET /jars."""
        return self.get("/jars")

    def upload_jar(self, path: Path, progress: Progress | None = None) -> dict:
        """POST /jars/upload (multipart field `jarfile`); PROGRESS(sent, total) while sending."""
        total = path.stat().st_size
        with path.open("rb") as f:
            body: Any = _Reading(f, total, progress) if progress else f
            files = {"jarfile": (path.name, body, "application/x-java-archive")}
            return self.http.request("POST", "/jars/upload", files=files, retry=False)

    def delete_jar(self, jar: str) -> None:
        """DELETE /jars/:jarid."""
        self.http.request("DELETE", f"/jars/{quote(jar, safe='')}", retry=False)

    def plan_jar(self, jar: str, body: dict) -> dict:
        """POST /jars/:jarid/plan."""
        return self.http.request(
            "POST", f"/jars/{quote(jar, safe='')}/plan", json=body, retry=False
        )

    def run_jar(self, jar: str, body: dict) -> dict:
        """POST /jars/:jarid/run."""
        return self.http.request("POST", f"/jars/{quote(jar, safe='')}/run", json=body, retry=False)

    def run_application(self, jar: str, body: dict) -> dict:
        """POST /jars/:jarid/run-application (Flink 2.3+)."""
        self.require("2.3", "running a jar as an application")
        path = f"/jars/{quote(jar, safe='')}/run-application"
        return self.http.request("POST", path, json=body, retry=False)
