"""Output layer: render(data, view, settings) in json | yaml | table | wide | name."""

from flinkctl.output.render import FORMATS, Column, Settings, View, console, out, render

__all__ = ["FORMATS", "Column", "Settings", "View", "console", "out", "render"]
