"""Experiments: one module per paper table or figure, each a function from a typed config to
a list of flat JSON rows, written with the shared helpers in :mod:`.results`."""

from hateproto.experiments.results import (
    ResultStore,
    atomic_write_text,
    markdown_matrix,
    markdown_table,
    save_figure,
)

__all__ = ["ResultStore", "atomic_write_text", "markdown_matrix", "markdown_table", "save_figure"]
