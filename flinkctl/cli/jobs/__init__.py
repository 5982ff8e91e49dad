"""`flinkctl jobs`: read commands (list, show, status, plan, config, jobmanager-config,
exceptions, result, accumulators, metrics, rescales, log-url, logs) from `read`, the commands that
change a job (cancel, stop, submit, rescale) from `lifecycle`, and `history` (deploy revisions).

A part is imported only when the command that runs is not in the parts before it: `jobs list`
imports `read` alone."""

PARTS = ("flinkctl.cli.jobs.read", "flinkctl.cli.jobs.lifecycle", "flinkctl.cli.jobs.history")
