"""TCP ports on the loopback interface for local clusters (and for tests that start them)."""

from __future__ import annotations

import socket

from flinkctl.errors import UsageError


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_port_free(port: int) -> None:
    """UsageError unless PORT on the loopback interface is free."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise UsageError(
                f"port {port} is already in use", hint="choose another one with --port"
            ) from None
