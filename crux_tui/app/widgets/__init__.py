"""Widgets of the crux-tui app (the timeline lives in ``timeline_view``)."""
