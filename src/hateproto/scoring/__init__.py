"""Batch scoring of large files: chunked readers, resumable writers, ``classify_file``, and a
Ray Data engine for archives larger than one machine (:mod:`.ray_engine`)."""

from hateproto.scoring.classify import (
    ClassifySummary,
    classify_file,
    row_problems,
)
from hateproto.scoring.readers import Chunk, TableReader
from hateproto.scoring.writers import ChunkWriter, open_writer

__all__ = [
    "Chunk",
    "ChunkWriter",
    "ClassifySummary",
    "TableReader",
    "classify_file",
    "open_writer",
    "row_problems",
]
