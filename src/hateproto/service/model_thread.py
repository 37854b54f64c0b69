"""The one thread that runs the model: loading, scoring and explaining alike.

PyTorch's CPU kernels run on OpenMP, and OpenMP keeps a team of helper threads for every
thread that has ever run a parallel kernel. When those threads outnumber the cores, OpenMP
(most likely) stops letting idle helpers spin and puts them to sleep, and every kernel then
pays to wake them. The service's event loop owns the main thread, so the model must run in
another one; if the detector was loaded (or anything else ran a kernel) in the main thread,
that makes two teams on a two-core machine. Measured on this project's 2-core CI machine
(``benchmarks/thread_latency.py`` -> ``benchmarks/results/thread-latency.json``), one post
took 12.5 ms in the main thread, 26.9 ms in a worker thread after loading in the main thread,
and 10.8 ms in a worker thread that also loaded the detector.

So ``hateproto serve`` loads the detector in a :class:`ModelThread` and hands the same
thread to the service, which runs every forward pass there (the micro-batcher's batches and
the review page's explanations).

Example:
    >>> thread = ModelThread()
    >>> thread.call(sum, [1, 2, 3])
    6
    >>> thread.close()
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class ModelThread:
    """A single worker thread for every model call; started on first use, and started again
    after :meth:`close` if used again."""

    def __init__(self, name: str = "hateproto-model") -> None:
        self.name = name
        self._executor: ThreadPoolExecutor | None = None

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.name)
        return self._executor

    def call(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in the model thread; blocks until it returns (or raises)."""
        return self._pool().submit(function, *args).result()

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in the model thread, awaited from the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), function, *args)

    def close(self) -> None:
        """Wait for the call under way, if any, and stop the thread."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
