"""`flinkctl jobs`: read commands (list, show, status, plan, config, jobmanager-config,
exceptions, result, accumulators, metrics, rescales, log-url) from `read`, the commands that
change a job (cancel, stop, submit, rescale) from `lifecycle`, and `history` (deploy revisions)."""

import typer

from flinkctl.cli.jobs import history, lifecycle, read

app = typer.Typer(no_args_is_help=True)
app.add_typer(read.app)
app.add_typer(lifecycle.app)
app.add_typer(history.app)
