"""Output layer: render(data, view) in json | yaml | table | wide | name."""

from flinkctl.output.render import FORMATS, Column, View, console, out, render, settings

__all__ = ["FORMATS", "Column", "View", "console", "out", "render", "settings"]
