"""Output layer: render(data, view, settings, io) in json | yaml | table | wide | name."""

from flinkctl.output.formats import FORMATS, OutputFormat
from flinkctl.output.render import Column, Page, Settings, View, render
from flinkctl.output.streams import IO

__all__ = ["FORMATS", "IO", "Column", "OutputFormat", "Page", "Settings", "View", "render"]
