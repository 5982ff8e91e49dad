"""The Typer command tree: one module per noun."""
