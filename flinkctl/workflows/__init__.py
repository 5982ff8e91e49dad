"""Multi-step work over FlinkClient (deploy, rollback, history): no typer or rich; progress goes
to callbacks and results are plain objects the CLI renders."""
