"""Output-path safety: never lose a user's data, never leave a half-written output.

Every command that writes a file or a folder goes through this package (:mod:`.files` for
one file, :mod:`.folders` for a folder):

* :func:`check_output_file` refuses an output that is the input (or a folder);
* :func:`atomic_output_file` / :func:`atomic_write_text` write through a temporary file in
  the same folder and rename it into place, with the mode the user's umask gives (not the
  0600 of :func:`tempfile.mkstemp`);
* :func:`check_output_folder` refuses to replace a non-empty folder that hateproto did not
  write (unless the user said ``--overwrite``), the current folder or one of its parents;
* :func:`replace_folder` writes a folder beside its destination and swaps it in with one
  atomic exchange (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames, which
  :func:`recover_folder` undoes if a crash fell between them), so a crash leaves either the
  old folder or the new one complete at the destination, never a mix.

Example:
    >>> check_output_folder("detectors/ihc", DETECTOR_FOLDER)            # doctest: +SKIP
    >>> replace_folder("detectors/ihc", detector.save_pretrained)        # doctest: +SKIP
"""

from hateproto.outputs.files import (
    atomic_output_file,
    atomic_write_text,
    check_output_file,
    check_writable,
    current_umask,
    make_public,
    remove_leftovers,
    remove_stale_temporaries,
    same_file,
)
from hateproto.outputs.folders import (
    CHECKPOINT_FOLDER,
    DETECTOR_FOLDER,
    PROTOTYPE_FOLDER,
    FolderKind,
    check_output_folder,
    read_folder_json,
    recover_folder,
    replace_folder,
)

__all__ = [
    "CHECKPOINT_FOLDER",
    "DETECTOR_FOLDER",
    "PROTOTYPE_FOLDER",
    "FolderKind",
    "atomic_output_file",
    "atomic_write_text",
    "check_output_file",
    "check_output_folder",
    "check_writable",
    "current_umask",
    "make_public",
    "read_folder_json",
    "recover_folder",
    "remove_leftovers",
    "remove_stale_temporaries",
    "replace_folder",
    "same_file",
]
