"""crux-tui: a terminal trace viewer for Crux devtools, with an embedded devtools backend."""

__version__ = "0.1.0"
