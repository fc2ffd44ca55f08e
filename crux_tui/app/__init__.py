"""The Textual app: ``run_tui(url)`` / ``make_app(url)`` live in :mod:`crux_tui.app.main`."""
