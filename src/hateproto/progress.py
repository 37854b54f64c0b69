"""Rich progress bars shared by every long-running loop (encoding, training, scoring)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Advance(Protocol):
    """Callable that moves a progress bar forward (and optionally updates its text)."""

    def __call__(self, steps: int = 1, **fields: object) -> None: ...


@contextmanager
def progress_bar(
    total: int | None, description: str, enabled: bool = True, unit: str = "texts"
) -> Iterator[Advance]:
    """Show a progress bar with rate and ETA on stderr while the block runs.

    Yields a function ``advance(steps=1, **fields)``; extra fields are shown after the bar
    (``advance(32, info="loss 0.41")``). With ``enabled=False`` nothing is drawn.

    Example:
        >>> with progress_bar(3, "demo", enabled=False) as advance:
        ...     for _ in range(3):
        ...         advance()
    """
    if not enabled:
        yield lambda steps=1, **fields: None
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=Console(file=sys.stderr),
        transient=False,
    )
    with progress:
        task = progress.add_task(description, total=total, rate="", info="")

        def advance(steps: int = 1, **fields: object) -> None:
            speed = progress.tasks[task].speed
            rate = f"{speed:,.1f} {unit}/s" if speed else ""
            progress.update(
                task, advance=steps, rate=rate, **{k: str(v) for k, v in fields.items()}
            )

        yield advance
