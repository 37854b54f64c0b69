"""Error messages of the command line: one line, unwrapped, with hints the user can type.

Library errors sometimes suggest a Python argument (``allow_fewer=True``, "a label map");
:func:`cli_message` rewrites those into the command's options, and :func:`print_error`
writes the message as one line: never wrapped at the terminal width (so ``grep`` finds it
in a log), with colour only on a terminal.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

#: Commands that take ``--label-map``.
LABEL_MAP_COMMANDS = {"data check", "detector build", "prototypes build"}

_LABEL_MAP_HINT = re.compile(r"pass a label map \(e\.g\. \{'hate': 1, 'not_hate': 0\}\)")
_ALLOW_FEWER_HINT = re.compile(r"\(pass allow_fewer=True to take all\)")


def command_name(args: Sequence[str]) -> str:
    """The command path of ``args`` (``["detector", "build", "--out", "x"]`` → ``detector
    build``): the leading words that are not options, at most two."""
    words: list[str] = []
    for arg in args:
        if arg.startswith("-") or len(words) == 2:
            break
        words.append(arg)
    return " ".join(words)


def cli_message(message: str, command: str = "") -> str:
    """``message`` as one line, its Python-only hints replaced by options of ``command``.

    Example:
        >>> cli_message("class 1 has 3 examples (pass allow_fewer=True to take all)")
        'class 1 has 3 examples (lower --per-class to take fewer)'
    """
    message = " ".join(line.strip() for line in str(message).splitlines() if line.strip())
    if command in LABEL_MAP_COMMANDS:
        label_hint = "give --label-map 'hate=1,not_hate=0'"
    else:
        label_hint = (
            "recode the column to 0/1 (`hateproto data check FILE --label-map "
            "'hate=1,not_hate=0'` checks a mapping)"
        )
    message = _LABEL_MAP_HINT.sub(label_hint, message)
    return _ALLOW_FEWER_HINT.sub("(lower --per-class to take fewer)", message)


def print_error(message: str, stream=None) -> None:  # noqa: ANN001 - a text stream
    """Write ``error: MESSAGE`` as one line; red on a terminal, plain otherwise."""
    stream = stream or sys.stderr
    if getattr(stream, "isatty", lambda: False)():
        from rich.console import Console
        from rich.markup import escape

        console = Console(file=stream, soft_wrap=True, highlight=False)
        console.print(f"[bold red]error:[/] {escape(message)}")
        return
    stream.write(f"error: {message}\n")
    stream.flush()
