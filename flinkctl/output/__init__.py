"""Output layer: render(data, view, settings, io) in json | yaml | table | wide | name."""

from flinkctl.output.render import FORMATS, Column, Page, Settings, View, render
from flinkctl.output.streams import IO

__all__ = ["FORMATS", "IO", "Column", "Page", "Settings", "View", "render"]
