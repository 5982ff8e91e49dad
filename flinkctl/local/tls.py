"""TLS for a local cluster's REST API (`local up --tls`): a self-signed certificate for
127.0.0.1 made with the JDK's keytool, kept in `<cluster dir>/tls/` and reused on every up.

Flink reads the PKCS12 keystore (its key and certificate) and the truststore (the certificate
again: with `-D security.ssl.rest.authentication-enabled=true` it also trusts a client that
shows that certificate); the client gets `ca.pem`, and for mutual TLS `client.pem` and
`client-key.pem` (the same pair as PEM, the key exported with openssl).
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path

from flinkctl.config import TLS
from flinkctl.errors import FlinkctlError, UsageError

MUTUAL_KEY = "security.ssl.rest.authentication-enabled"
ALIAS = "flinkctl"
KEYSTORE, TRUSTSTORE, PASSWORD = "rest.keystore.p12", "rest.truststore.p12", "store-password"
CA, CLIENT_CERT, CLIENT_KEY = "ca.pem", "client.pem", "client-key.pem"


def is_mutual(flink_config: dict[str, str]) -> bool:
    """Whether the cluster's -D options ask Flink to authenticate REST clients."""
    return flink_config.get(MUTUAL_KEY, "").strip().lower() == "true"


def ensure(tls_dir: Path, mutual: bool) -> None:
    """Make the keystore, truststore and PEM files in TLS_DIR unless they are there."""
    tls_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not (tls_dir / KEYSTORE).is_file():
        password = secrets.token_hex(16)
        _write_private(tls_dir / PASSWORD, password)
        for stale in (TRUSTSTORE, CA, CLIENT_CERT, CLIENT_KEY):
            (tls_dir / stale).unlink(missing_ok=True)
        _keytool(
            "-genkeypair", "-alias", ALIAS, "-keyalg", "RSA", "-keysize", "2048",
            "-validity", "3650", "-dname", "CN=127.0.0.1, O=flinkctl local",
            "-ext", "SAN=ip:127.0.0.1", "-storetype", "PKCS12",
            "-keystore", tls_dir / KEYSTORE, "-storepass", password, "-keypass", password,
        )  # fmt: skip
    password = (tls_dir / PASSWORD).read_text().strip()
    if not (tls_dir / CA).is_file():
        _keytool(
            "-exportcert", "-rfc", "-alias", ALIAS, "-keystore", tls_dir / KEYSTORE,
            "-storepass", password, "-file", tls_dir / CA,
        )  # fmt: skip
    if not (tls_dir / TRUSTSTORE).is_file():
        _keytool(
            "-importcert", "-noprompt", "-alias", ALIAS, "-file", tls_dir / CA,
            "-storetype", "PKCS12", "-keystore", tls_dir / TRUSTSTORE, "-storepass", password,
        )  # fmt: skip
    if mutual and not (tls_dir / CLIENT_KEY).is_file():
        shutil.copyfile(tls_dir / CA, tls_dir / CLIENT_CERT)
        key = _run(
            "openssl", "pkcs12", "-in", tls_dir / KEYSTORE, "-nocerts", "-nodes",
            "-passin", f"pass:{password}",
        )  # fmt: skip
        _write_private(tls_dir / CLIENT_KEY, key)


def flink_settings(tls_dir: Path, mutual: bool) -> dict[str, str | bool]:
    """Flink's options for REST over TLS with the files in TLS_DIR."""
    password = (tls_dir / PASSWORD).read_text().strip()
    return {
        "security.ssl.rest.enabled": True,
        "security.ssl.rest.keystore": str(tls_dir / KEYSTORE),
        "security.ssl.rest.keystore-password": password,
        "security.ssl.rest.key-password": password,
        "security.ssl.rest.truststore": str(tls_dir / TRUSTSTORE),
        "security.ssl.rest.truststore-password": password,
        MUTUAL_KEY: mutual,
    }


def client_settings(tls_dir: Path, mutual: bool) -> TLS:
    """A context's TLS settings for the cluster: its CA, and for mutual TLS its client pair."""
    if not mutual:
        return TLS(ca_file=str(tls_dir / CA))
    return TLS(str(tls_dir / CA), str(tls_dir / CLIENT_CERT), str(tls_dir / CLIENT_KEY))


def _keytool(*args: str | Path) -> None:
    """Run the JDK's keytool: the one beside $JAVA_HOME/bin/java, else the one on PATH."""
    import os

    java_home = os.environ.get("JAVA_HOME")
    _run(str(Path(java_home) / "bin" / "keytool") if java_home else "keytool", *args)


def _run(*args: str | Path) -> str:
    """Run a tool; its stdout, or a FlinkctlError with its first line of complaint."""
    try:
        done = subprocess.run(
            [str(a) for a in args], capture_output=True, text=True, timeout=60, check=False
        )
    except FileNotFoundError:
        raise UsageError(
            f"--tls needs {args[0]!r}, which is not on PATH",
            hint="keytool comes with the JDK; openssl with the openssl package",
        ) from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise FlinkctlError(
            f"{Path(str(args[0])).name} {args[1]} failed: {said[0] if said else done.returncode}"
        )
    return done.stdout


def _write_private(path: Path, text: str) -> None:
    """Write TEXT to PATH readable by its owner only."""
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text if text.endswith("\n") else text + "\n")
