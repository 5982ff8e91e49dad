"""Provision a Flink distribution (FLINK_HOME) from the PyPI packages that carry it.

`apache-flink` carries `bin/` and `conf/`, the same in its sdist and in every wheel (whatever the
Python or the machine: only the shell scripts are used), so we take the smallest file of the
release, the sdist for every version 1.17 to 2.3. `apache-flink-libraries` carries `lib/`,
`opt/`, `plugins/` and `bin/bash-java-utils.jar`: an sdist up to 2.1.x, a pure-Python wheel and
an sdist from 2.2.0 on. Files are found through the index's simple API (PEP 691 JSON, or PEP 503
HTML from mirrors; `$FLINKCTL_PYPI_INDEX`), yanked ones skipped, and verified against the index's
sha256 before unpacking; a marker file is written only after a complete unpack, so an
interrupted download is redone, never half-used.
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
JAVA_HINT = "install a JDK 17 (e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME"

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
    """VERSION if it looks like a Flink release (X.Y.Z, no leading zeros), else UsageError."""
    if not re.fullmatch(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)", version):
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
        scripts = _fetch(_pick(version, "apache-flink"), work, progress)
        libs = _fetch(_pick(version, "apache-flink-libraries"), work, progress)
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
    if not java or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={java_home}" if java_home else "PATH"
        raise FlinkctlError(
            f"java not found on {where}: Flink needs a Java runtime", hint=JAVA_HINT
        )
    major = java_major(java)
    if major < min_major:
        raise FlinkctlError(
            f"{java} is Java {major}; Flink needs Java {min_major}+", hint=JAVA_HINT
        )
    return java


def java_major(java: str) -> int:
    """The feature version of the Java runtime JAVA (8 for 1.8.0_x, 17 for 17.0.x)."""
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    m = re.search(r'version "(?:1\.)?(\d+)', out)
    if not m:
        raise FlinkctlError(
            f"cannot tell the version of {java}: {out.strip()[:200]}", hint=JAVA_HINT
        )
    return int(m.group(1))


def _pick(version: str, project: str) -> dict:
    """The index entry ({filename, url, sha256, size}) of PROJECT==VERSION to download."""
    index = os.environ.get("FLINKCTL_PYPI_INDEX", DEFAULT_INDEX).rstrip("/")
    matches = [
        f
        for f in _index_files(index, project)
        if _release_of(f["filename"]) == (_normalize(project), version)
        and f["sha256"]
        and not f["yanked"]
    ]
    if not matches:
        hint = f"see {index}/{project}/ for the versions there are"
        raise UsageError(f"Flink {version} is not available as {project} on {index}", hint=hint)
    return min(matches, key=_smallest_then_sdist)


def _index_files(index: str, project: str) -> list[dict]:
    """PROJECT's files on the simple index: [{filename, url, sha256, size, yanked}]."""
    import httpx

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
    if "json" in resp.headers.get("content-type", ""):  # PEP 691 (size: PEP 700)
        return [
            {
                "filename": f["filename"],
                "url": str(resp.url.join(f["url"])),
                "sha256": f["hashes"].get("sha256"),
                "size": f.get("size"),
                "yanked": bool(f.get("yanked")),
            }
            for f in resp.json()["files"]
        ]
    files = []  # PEP 503 HTML (some mirrors): no sizes; PEP 592 marks yanked files
    for attrs in re.findall(r"<a\s([^>]*)>", resp.text):
        m = re.search(r'href="([^"#]+)#sha256=([0-9a-f]{64})"', attrs)
        if m:
            href, sha256 = m.groups()
            name = href.rsplit("/", 1)[-1]
            yanked = "data-yanked" in attrs
            url = str(resp.url.join(href))
            files.append(
                {"filename": name, "url": url, "sha256": sha256, "size": None, "yanked": yanked}
            )
    return files


def _release_of(filename: str) -> tuple[str, str] | None:
    """(normalized project, version) of a wheel or sdist file name, else None."""
    if filename.endswith(".whl"):  # PEP 427: name-version(-build)?-python-abi-platform.whl
        parts = filename[: -len(".whl")].split("-")
        return (_normalize(parts[0]), parts[1]) if len(parts) in (5, 6) else None
    if filename.endswith(".tar.gz"):  # name-version.tar.gz, name with - or _
        name, _, version = filename[: -len(".tar.gz")].rpartition("-")
        return (_normalize(name), version) if name else None
    return None


def _normalize(project: str) -> str:
    """PEP 503 name normalization."""
    return re.sub(r"[-_.]+", "-", project).lower()


def _smallest_then_sdist(entry: dict) -> tuple:
    """Sort key: the smallest file first; without sizes (HTML indexes), the sdist first."""
    size = entry["size"]
    return (size is None, size or 0, entry["filename"].endswith(".whl"), entry["filename"])


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
            entries = [(m.name, m) for m in tf.getmembers() if m.isfile()]
            _copy_members(entries, tf.extractfile, archive.name, dest, dirs, anchor)


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
