"""The Typer command tree: one module per noun. `entry` is the program's entry point."""


def entry() -> None:
    """Run flinkctl (`flinkctl.cli.main.main`); a Ctrl-C while it is still being imported
    exits 130 as quietly as one later on."""
    try:
        from flinkctl.cli.main import main
    except KeyboardInterrupt:
        import os

        os._exit(130)
    main()
