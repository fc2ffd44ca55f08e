"""Screens of the crux-tui app."""
