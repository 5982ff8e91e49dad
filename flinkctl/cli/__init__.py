"""The Typer command tree: one module per noun. `entry` is the program's entry point."""


def entry() -> None:
    """Run flinkctl (`flinkctl.cli.main.main`). Ctrl-C, SIGTERM and SIGHUP are held back while
    the program is imported (Python would print a traceback, or lose the signal in an import's
    callback); from then on SIGTERM and SIGHUP raise as Ctrl-C does (`flinkctl.signals`), and
    each exits as quietly (143, 130) as one later on."""
    import os
    import signal

    mask = getattr(signal, "pthread_sigmask", None)  # POSIX
    imported = False
    try:
        held = (
            mask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}) if mask else None
        )
        try:
            from flinkctl.cli.main import exit_at_once, main
            from flinkctl.signals import RAISED, catch, exit_code

            for sig in RAISED:
                catch(sig)
            imported = True
        finally:
            if mask and held is not None:
                mask(signal.SIG_SETMASK, held)  # a signal meanwhile takes effect now
        main()
    except KeyboardInterrupt as exc:  # between the import and main's own handling, or after it
        if not imported:
            os._exit(130)
        exit_at_once(exit_code((), exc))
