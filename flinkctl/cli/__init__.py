"""The Typer command tree: one module per noun. `entry` is the program's entry point."""


def entry() -> None:
    """Run flinkctl (`flinkctl.cli.main.main`). Ctrl-C is held back while the program is
    imported (Python would print a traceback, or lose it in an import's callback) and exits 130
    as quietly as one later on."""
    import os
    import signal

    mask = getattr(signal, "pthread_sigmask", None)  # POSIX
    try:
        held = mask(signal.SIG_BLOCK, {signal.SIGINT}) if mask else None
        try:
            from flinkctl.cli.main import main
        finally:
            if mask and held is not None:
                mask(signal.SIG_SETMASK, held)  # a Ctrl-C meanwhile takes effect now
        main()
    except KeyboardInterrupt:
        os._exit(130)
