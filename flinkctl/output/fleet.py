"""Views over several contexts (`-A/--all-contexts`): the same view with a CONTEXT column first."""

from __future__ import annotations

from dataclasses import replace

from flinkctl.output.render import Column, View


def per_context(view: View, all_contexts: bool = True) -> View:
    """VIEW with a leading CONTEXT column (the rows' `context` key) under ALL_CONTEXTS."""
    if not all_contexts:
        return view
    return replace(view, columns=[Column("CONTEXT", "context"), *view.columns])
