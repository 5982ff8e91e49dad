"""`python -m flinkctl`."""

from flinkctl.cli.main import main

main()
