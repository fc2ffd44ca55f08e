"""Allow ``python -m crux_tui``."""

from crux_tui.cli import main

raise SystemExit(main())
