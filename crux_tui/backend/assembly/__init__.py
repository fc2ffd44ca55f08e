"""Stored records -> the projection's input, pure (no SQLite): a run's canonical
:class:`~crux_tui.contract.models.Graph` (``graph``) and an operation member with its
``run:start`` links and definition references (``members``). The store reads and decodes
records; these modules put them together."""
