"""Plumbing the command modules share.

arguments    every argument type (JOB, VERTEX, TM, JAR, CONTEXT, ...) and its resolution
options      -o/--query (`with_output`), `options_from`, and options several nouns offer
operations   asynchronous operations: trigger output, --wait, the `*-status` commands
waiting      --wait/--timeout, the spinner, Ctrl-C and timeout hints
watching     --watch: re-fetch and re-render until Ctrl-C
confirm      --yes and the confirmation prompt
logs         log files: list, print, --tail, --follow
metrics      metric ids and values: --get, --agg
completers   shell-completion callbacks for arguments and options
failures     `run`: where exceptions become an error line and an exit code
"""
