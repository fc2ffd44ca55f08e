"""A Go-shaped `crux dev` v5 stand-in for tests (see ``server.py``)."""
