"""`flinkctl checkpoints`: the history, one checkpoint and the configuration (list, show,
config) from `read`; triggering a checkpoint (trigger, trigger-status) from `trigger`.

A part is imported only when the command that runs is not in the parts before it."""

PARTS = ("flinkctl.cli.checkpoints.read", "flinkctl.cli.checkpoints.trigger")
