"""Which PyPI file `flinkctl local` downloads for a Flink version, and how it is checked and unpacked.

tests/fixtures/pypi/ holds PyPI's real simple-index answers, recorded with
  curl -H 'Accept: application/vnd.pypi.simple.v1+json' https://pypi.org/simple/PROJECT/
  curl -H 'Accept: text/html' https://pypi.org/simple/PROJECT/
(apache-flink's cut down to the releases 1.12.0 (all yanked), 1.17.2, 1.18.1 and 2.3.0; its
HTML answer, which only the yanked and the no-sizes tests read, further to every 1.12.0 file and
the sdist and two or three wheels of 1.17.2 and 2.3.0); the test server answers with them in
place of PyPI. The archives downloaded are small stand-ins with
the layout of the real ones (`<name>-<version>/deps/...` in sdists, `pyflink/...` in wheels).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from flinkctl.errors import FlinkctlError, UsageError
from flinkctl.local import distribution, versions

PYPI = Path(__file__).parent / "fixtures" / "pypi"
JSON = "application/vnd.pypi.simple.v1+json"


def recorded(project: str) -> dict:
    return json.loads((PYPI / f"{project}.json").read_text())


@pytest.fixture
def index(httpserver, monkeypatch):
    """Point flinkctl at the test server as its package index; serve(project, answer) fills it."""
    monkeypatch.setenv("FLINKCTL_PYPI_INDEX", httpserver.url_for("/simple"))

    def serve(project: str, body, content_type: str = JSON) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        httpserver.expect_request(f"/simple/{project}/").respond_with_data(
            text, content_type=content_type
        )

    return serve


@pytest.mark.parametrize(
    "version, scripts, libraries",
    [
        ("1.17.2", "apache-flink-1.17.2.tar.gz", "apache-flink-libraries-1.17.2.tar.gz"),
        ("1.18.1", "apache-flink-1.18.1.tar.gz", "apache-flink-libraries-1.18.1.tar.gz"),
        # 2.3.0's libraries come as a wheel too, 130 kB larger than the sdist
        ("2.3.0", "apache_flink-2.3.0.tar.gz", "apache_flink_libraries-2.3.0.tar.gz"),
    ],
)
def test_the_smallest_file_is_picked_whatever_the_python_or_machine(
    index, version, scripts, libraries
):
    index("apache-flink", recorded("apache-flink"))
    index("apache-flink-libraries", recorded("apache-flink-libraries"))
    picked = distribution._pick(version, "apache-flink")
    assert picked["filename"] == scripts
    assert picked["size"] < 2_000_000  # every wheel of these releases is larger
    assert distribution._pick(version, "apache-flink-libraries")["filename"] == libraries


def without_sdists(project: str) -> dict:
    """PROJECT's recorded answer with its sdists taken out: wheels only."""
    answer = recorded(project)
    answer["files"] = [f for f in answer["files"] if not f["filename"].endswith(".tar.gz")]
    return answer


@pytest.mark.parametrize(
    "project, version, wheel",
    [
        # the smallest wheel, here a macOS arm64 one (bin/ is the same)
        ("apache-flink", "1.17.2", "apache_flink-1.17.2-cp310-cp310-macosx_11_0_arm64.whl"),
        ("apache-flink-libraries", "2.3.0", "apache_flink_libraries-2.3.0-py2.py3-none-any.whl"),
    ],
)
def test_a_wheel_of_any_tag_when_there_is_no_sdist(index, project, version, wheel):
    answer = without_sdists(project)
    index(project, answer)
    picked = distribution._pick(version, project)
    assert picked["filename"] == wheel
    assert picked["sha256"] == next(
        f["hashes"]["sha256"] for f in answer["files"] if f["filename"] == wheel
    )


def test_a_release_with_neither_is_not_available(index):
    index("apache-flink-libraries", without_sdists("apache-flink-libraries"))
    with pytest.raises(UsageError, match="Flink 1.17.2 is not available as apache-flink-lib"):
        distribution._pick("1.17.2", "apache-flink-libraries")  # an sdist only


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_yanked_releases_are_not_available(index, fmt):
    """Every file of apache-flink 1.12.0 is yanked (in JSON `yanked`, in HTML `data-yanked`)."""
    if fmt == "json":
        index("apache-flink", recorded("apache-flink"))
    else:
        index("apache-flink", (PYPI / "apache-flink.html").read_text(), "text/html")
    with pytest.raises(UsageError) as err:
        distribution._pick("1.12.0", "apache-flink")
    assert "Flink 1.12.0 is not available as apache-flink" in str(err.value)


def test_an_html_index_without_sizes_gives_the_sdist(index):
    index("apache-flink", (PYPI / "apache-flink.html").read_text(), "text/html")
    index("apache-flink-libraries", (PYPI / "apache-flink-libraries.html").read_text(), "text/html")
    picked = distribution._pick("2.3.0", "apache-flink")
    by_name = {f["filename"]: f for f in recorded("apache-flink")["files"]}
    assert picked["filename"] == "apache_flink-2.3.0.tar.gz"
    assert picked["sha256"] == by_name[picked["filename"]]["hashes"]["sha256"]
    assert picked["url"] == by_name[picked["filename"]]["url"]
    libs = distribution._pick("2.3.0", "apache-flink-libraries")
    assert libs["filename"] == "apache_flink_libraries-2.3.0.tar.gz"


def test_versions_must_match_exactly(index):
    """1.17.2 is not 1.17.20, nor a prefix of another release's name."""
    index("apache-flink", recorded("apache-flink"))
    with pytest.raises(UsageError):
        distribution._pick("1.17", "apache-flink")
    with pytest.raises(UsageError):
        distribution._pick("1.17.20", "apache-flink")


@pytest.mark.parametrize(
    "filename, release",
    [
        ("apache-flink-1.17.2.tar.gz", ("apache-flink", "1.17.2")),
        ("apache_flink_libraries-2.3.0.tar.gz", ("apache-flink-libraries", "2.3.0")),
        (
            "apache_flink-2.3.0-cp312-cp312-manylinux_2_5_x86_64.manylinux1_x86_64.whl",
            ("apache-flink", "2.3.0"),
        ),
        ("apache_flink_libraries-2.3.0-py2.py3-none-any.whl", ("apache-flink-libraries", "2.3.0")),
        ("apache_flink-1.0-1-py3-none-any.whl", ("apache-flink", "1.0")),  # with a build tag
        ("apache_flink-2.3.0.zip", None),
        ("README.whl", None),
    ],
)
def test_release_of_a_file_name(filename, release):
    assert distribution._release_of(filename) == release


# -- download, checksum, unpack ------------------------------------------------------------


def sdist(root: str, files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{root}/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


def wheel(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


SCRIPTS = {"bin/config.sh": b"# config.sh\n", "conf/flink-conf.yaml": b"a: 1\n"}
LIBRARIES = {
    "lib/flink-dist-1.17.2.jar": b"PK-dist",
    "bin/bash-java-utils.jar": b"PK-utils",
    "opt/flink-python-1.17.2.jar": b"PK-python",
    "plugins/README.txt": b"plugins\n",
    "setup.py": b"# not part of FLINK_HOME\n",
}


@pytest.fixture
def serve_release(httpserver, index, tmp_path, monkeypatch):
    """Serve 1.17.2 as ARCHIVES {project: (filename, bytes)}; sha256s from the bytes unless given."""
    monkeypatch.setenv("FLINKCTL_FLINK_CACHE", str(tmp_path / "cache"))

    def serve(archives: dict[str, tuple[str, bytes]], sha256: dict[str, str] | None = None):
        for project, (filename, data) in archives.items():
            httpserver.expect_request(f"/files/{filename}").respond_with_data(data)
            digest = (sha256 or {}).get(project) or hashlib.sha256(data).hexdigest()
            entry = {
                "filename": filename,
                "url": httpserver.url_for(f"/files/{filename}"),
                "hashes": {"sha256": digest},
                "size": len(data),
            }
            index(project, {"meta": {"api-version": "1.1"}, "name": project, "files": [entry]})

    return serve


def test_provision_from_sdists(serve_release, tmp_path):
    serve_release(
        {
            "apache-flink": (
                "apache-flink-1.17.2.tar.gz",
                sdist("apache-flink-1.17.2/deps", SCRIPTS),
            ),
            "apache-flink-libraries": (
                "apache-flink-libraries-1.17.2.tar.gz",
                sdist("apache-flink-libraries-1.17.2/deps", LIBRARIES),
            ),
        }
    )
    home = distribution.provision("1.17.2")
    assert home == tmp_path / "cache" / "1.17.2"
    assert distribution.cached_home("1.17.2") == home
    assert (home / "bin" / "config.sh").read_bytes() == b"# config.sh\n"
    assert os.access(home / "bin" / "config.sh", os.X_OK)
    assert (home / "lib" / "flink-dist-1.17.2.jar").read_bytes() == b"PK-dist"
    assert (home / "bin" / "bash-java-utils.jar").is_file()
    assert (home / "opt" / "flink-python-1.17.2.jar").is_file()
    assert (home / "plugins" / "README.txt").is_file()
    assert not (home / "setup.py").exists()
    assert distribution.home_version(home) == "1.17.2"


def test_provision_from_wheels(serve_release):
    serve_release(
        {
            "apache-flink": (
                "apache_flink-1.17.2-cp38-cp38-macosx_11_0_arm64.whl",
                wheel({f"pyflink/{k}": v for k, v in SCRIPTS.items()}),
            ),
            "apache-flink-libraries": (
                "apache_flink_libraries-1.17.2-py2.py3-none-any.whl",
                wheel({f"pyflink/{k}": v for k, v in LIBRARIES.items()}),
            ),
        }
    )
    home = distribution.provision("1.17.2")
    assert (home / "conf" / "flink-conf.yaml").read_bytes() == b"a: 1\n"
    assert (home / "lib" / "flink-dist-1.17.2.jar").read_bytes() == b"PK-dist"


def test_a_checksum_mismatch_leaves_nothing_behind(serve_release, tmp_path):
    scripts = sdist("apache-flink-1.17.2/deps", SCRIPTS)
    serve_release(
        {
            "apache-flink": ("apache-flink-1.17.2.tar.gz", scripts),
            "apache-flink-libraries": (
                "apache-flink-libraries-1.17.2.tar.gz",
                sdist("apache-flink-libraries-1.17.2/deps", LIBRARIES),
            ),
        },
        sha256={"apache-flink": hashlib.sha256(scripts + b"x").hexdigest()},
    )
    with pytest.raises(FlinkctlError, match="checksum mismatch for apache-flink-1.17.2.tar.gz"):
        distribution.provision("1.17.2")
    assert distribution.cached_home("1.17.2") is None
    assert list((tmp_path / "cache").iterdir()) == []


def test_an_archive_without_the_flink_layout_is_refused(serve_release, tmp_path):
    serve_release(
        {
            "apache-flink": ("apache-flink-1.17.2.tar.gz", sdist("x", {"README": b"hi"})),
            "apache-flink-libraries": (
                "apache-flink-libraries-1.17.2.tar.gz",
                sdist("apache-flink-libraries-1.17.2/deps", LIBRARIES),
            ),
        }
    )
    with pytest.raises(FlinkctlError, match="has no bin/config.sh"):
        distribution.provision("1.17.2")
    assert distribution.cached_home("1.17.2") is None


# -- per-version settings ------------------------------------------------------------------


def test_flink_1_17_gets_1_18s_jvm_flags_on_java_9_and_later(monkeypatch):
    monkeypatch.setattr(distribution, "find_java", lambda _min: "java")
    monkeypatch.setattr(distribution, "java_major", lambda _java: 17)
    flags = versions.cluster_settings("1.17.2")["env.java.opts.all"]
    assert "--add-exports=java.base/sun.net.util=ALL-UNNAMED" in flags.split()
    assert len(flags.split()) == 20
    assert versions.cluster_settings("1.17-SNAPSHOT") == versions.cluster_settings("1.17.2")
    for later in ("1.18.1", "1.19.3", "2.0.2", "1.18-SNAPSHOT"):
        assert versions.cluster_settings(later) == {}
    monkeypatch.setattr(distribution, "java_major", lambda _java: 8)
    assert versions.cluster_settings("1.17.2") == {}  # Java 8 does not know the flags


def test_java_major_reads_old_and_new_version_strings(tmp_path):
    for banner, major in (
        ('openjdk version "1.8.0_412"', 8),
        ('openjdk version "11.0.23" 2024-04-16', 11),
        ('openjdk version "17.0.15" 2025-04-15', 17),
    ):
        java = tmp_path / f"java{major}"
        java.write_text(f"#!/bin/sh\necho '{banner}' >&2\n")
        java.chmod(0o755)
        assert distribution.java_major(str(java)) == major
