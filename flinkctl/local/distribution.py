"""Provision a Flink distribution (FLINK_HOME) from the PyPI packages that carry it.

`apache-flink` ships `bin/` and `conf/` (we take the cp311 manylinux wheel whatever Python runs
us: only its shell scripts are used); `apache-flink-libraries` ships `lib/`, `opt/`, `plugins/`
and `bin/bash-java-utils.jar` (a wheel for 2.x, an sdist for 1.x). Files are found through the
index's simple API (PEP 691 JSON, or PEP 503 HTML from mirrors; `$FLINKCTL_PYPI_INDEX`) and
verified against its sha256 before unpacking; a marker file is written only after a complete
unpack, so an interrupted download is redone, never half-used.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from flinkctl.errors import FlinkctlError, UsageError
from flinkctl.local import DEFAULT_FLINK_VERSION

MARKER = ".flinkctl-complete"
DEFAULT_INDEX = "https://pypi.org/simple"
WHEEL_TAG = "cp311-cp311-manylinux"

# progress(filename, bytes_done, bytes_total); bytes_total is 0 when unknown
Progress = Callable[[str, int, int], None]


def cache_root() -> Path:
    """`$FLINKCTL_FLINK_CACHE`, else `$XDG_CACHE_HOME/flinkctl/flink`."""
    if os.environ.get("FLINKCTL_FLINK_CACHE"):
        return Path(os.environ["FLINKCTL_FLINK_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "flinkctl" / "flink"


def cached_home(version: str) -> Path | None:
    """The complete cached FLINK_HOME for VERSION, if there is one."""
    home = cache_root() / version
    return home if (home / MARKER).is_file() else None


def check_version(version: str) -> str:
    """VERSION if it looks like a Flink release (X.Y.Z), else UsageError."""
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise UsageError(
            f"invalid Flink version {version!r} (expected e.g. {DEFAULT_FLINK_VERSION})"
        )
    return version


def provision(version: str = DEFAULT_FLINK_VERSION, progress: Progress | None = None) -> Path:
    """Return a FLINK_HOME for VERSION, downloading and unpacking it on first use."""
    home = cached_home(check_version(version))
    if home:
        return home
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(f".{version}.*.tmp"):  # left by a killed provision
        if not _pid_alive(int(stale.name.split(".")[-2])):
            shutil.rmtree(stale, ignore_errors=True)
    work = root / f".{version}.{os.getpid()}.tmp"
    try:
        scripts = _fetch(_pick(version, "apache-flink", _is_scripts_file), work, progress)
        libs = _fetch(_pick(version, "apache-flink-libraries", _is_libraries_file), work, progress)
        staged = work / "home"
        _extract(scripts, staged, ("bin", "conf"), "bin/config.sh")
        # libraries also carry bin/bash-java-utils.jar, which config.sh needs
        _extract(libs, staged, ("bin", "lib", "opt", "plugins"), f"lib/flink-dist-{version}.jar")
        for script in (staged / "bin").iterdir():
            if script.suffix != ".jar":
                script.chmod(0o755)
        (staged / MARKER).write_text(f"{version}\n")
        final = root / version
        if not cached_home(version):  # else a concurrent provision finished first
            shutil.rmtree(final, ignore_errors=True)  # an incomplete earlier attempt
            staged.rename(final)
        return final
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_flink_home(path: Path) -> Path:
    """Validate a user-supplied FLINK_HOME (`--flink-home`)."""
    path = path.expanduser().resolve()
    for need in ("bin/start-cluster.sh", "lib"):
        if not (path / need).exists():
            raise UsageError(f"{path} is not a Flink distribution (no {need})")
    return path


def home_version(home: Path) -> str:
    """The Flink version of a FLINK_HOME, read from its flink-dist jar name."""
    for jar in (home / "lib").glob("flink-dist*.jar"):
        m = re.search(r"(\d+\.\d+(?:\.\d+)?(?:-[A-Za-z0-9.]+)?)\.jar$", jar.name)
        if m:
            return m.group(1)
    raise UsageError(f"cannot tell the Flink version of {home} (no lib/flink-dist-*.jar)")


def find_java(min_major: int = 11) -> str:
    """Path of the `java` Flink's scripts will use ($JAVA_HOME, else PATH); checks its version."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    hint = "install a JDK 17 (e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME"
    if not java or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={java_home}" if java_home else "PATH"
        raise FlinkctlError(f"java not found on {where}: Flink needs a Java runtime", hint=hint)
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    m = re.search(r'version "(?:1\.)?(\d+)', out)
    if not m:
        raise FlinkctlError(f"cannot tell the version of {java}: {out.strip()[:200]}", hint=hint)
    if int(m.group(1)) < min_major:
        raise FlinkctlError(
            f"{java} is Java {m.group(1)}; Flink needs Java {min_major}+", hint=hint
        )
    return java


def _is_scripts_file(name: str) -> bool:
    return WHEEL_TAG in name and name.endswith("x86_64.whl")


def _is_libraries_file(name: str) -> bool:
    return name.endswith((".whl", ".tar.gz"))


def _pick(version: str, project: str, wanted: Callable[[str], bool]) -> dict:
    """The index entry ({filename, url, sha256}) of PROJECT==VERSION to download."""
    import httpx

    index = os.environ.get("FLINKCTL_PYPI_INDEX", DEFAULT_INDEX).rstrip("/")
    url = f"{index}/{project}/"
    try:
        resp = httpx.get(
            url,
            headers={"Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1"},
            follow_redirects=True,
            timeout=30,
        )
        resp.raise_for_status()
    except httpx.HTTPError as e:
        raise FlinkctlError(f"cannot read the package index {url}: {_reason(e)}") from e
    if "json" in resp.headers.get("content-type", ""):
        files = [
            {"filename": f["filename"], "url": f["url"], "sha256": f["hashes"].get("sha256")}
            for f in resp.json()["files"]
        ]
    else:  # PEP 503 HTML (some mirrors)
        files = [
            {"filename": href.rsplit("/", 1)[-1], "url": str(resp.url.join(href)), "sha256": sha}
            for href, sha in re.findall(r'href="([^"#]+)#sha256=([0-9a-f]{64})"', resp.text)
        ]
    stem = f"{project}-{version}"
    matches = [
        f
        for f in files
        if re.match(rf"{re.escape(stem)}(-|\.tar\.gz$)", f["filename"].replace("_", "-").lower())
        and wanted(f["filename"])
        and f["sha256"]
    ]
    if not matches:
        hint = f"see {index}/{project}/ for the versions there are"
        raise UsageError(f"Flink {version} is not available as {project} on {index}", hint=hint)
    matches.sort(key=lambda f: not f["filename"].endswith(".whl"))  # prefer a wheel
    return matches[0]


def _fetch(entry: dict, work: Path, progress: Progress | None) -> Path:
    """Stream ENTRY's file into WORK and check its sha256."""
    import hashlib

    import httpx

    work.mkdir(parents=True, exist_ok=True)
    dest = work / entry["filename"]
    digest = hashlib.sha256()
    try:
        with httpx.stream("GET", entry["url"], follow_redirects=True, timeout=60) as resp:
            resp.raise_for_status()
            total = int(resp.headers.get("content-length") or 0)
            done = 0
            with dest.open("wb") as out:
                for chunk in resp.iter_bytes(1 << 20):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(entry["filename"], done, total)
    except httpx.HTTPError as e:
        raise FlinkctlError(f"download of {entry['url']} failed: {_reason(e)}") from e
    if digest.hexdigest() != entry["sha256"]:
        raise FlinkctlError(
            f"checksum mismatch for {entry['filename']}: "
            f"got sha256 {digest.hexdigest()}, the index says {entry['sha256']}"
        )
    return dest


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _reason(e: Exception) -> str:
    """One line on why a request failed."""
    response = getattr(e, "response", None)
    if response is not None:
        return f"HTTP {response.status_code} {response.reason_phrase}"
    return str(e) or type(e).__name__


def _extract(archive: Path, dest: Path, dirs: tuple[str, ...], anchor: str) -> None:
    """Copy DIRS out of a wheel or sdist into DEST; their root is where ANCHOR is found."""
    import tarfile
    import zipfile

    if archive.name.endswith(".whl"):
        with zipfile.ZipFile(archive) as zf:
            members = [(i.filename, i) for i in zf.infolist() if not i.is_dir()]
            _copy_members(members, zf.open, archive.name, dest, dirs, anchor)
    else:
        with tarfile.open(archive, "r:gz") as tf:
            members = [(m.name, m) for m in tf.getmembers() if m.isfile()]
            _copy_members(members, tf.extractfile, archive.name, dest, dirs, anchor)


def _copy_members(members, opener, archive: str, dest: Path, dirs, anchor: str) -> None:
    root = next((n[: -len(anchor)] for n, _ in members if n.endswith("/" + anchor)), None)
    if root is None:
        raise FlinkctlError(f"{archive} has no {anchor}: not a Flink package layout")
    for name, member in members:
        rel = name[len(root) :]
        if not name.startswith(root) or rel.split("/", 1)[0] not in dirs or ".." in rel.split("/"):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with opener(member) as src, target.open("wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        if rel.endswith(".sh"):
            target.chmod(0o755)
