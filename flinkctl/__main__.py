"""`python -m flinkctl`."""

from flinkctl.cli import entry

entry()
