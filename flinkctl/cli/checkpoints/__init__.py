"""`flinkctl checkpoints`: the history, one checkpoint and the configuration (list, show,
config) from `read`; triggering a checkpoint (trigger, trigger-status) from `trigger`."""

import typer

from flinkctl.cli.checkpoints import read, trigger

app = typer.Typer(no_args_is_help=True)
app.add_typer(read.app)
app.add_typer(trigger.app)
