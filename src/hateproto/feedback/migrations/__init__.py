"""Alembic migrations of the feedback database (``script_location`` of :mod:`..store`)."""
