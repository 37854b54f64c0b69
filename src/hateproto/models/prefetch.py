"""Length-sorted dynamic batches, prepared off the critical path.

:func:`iter_batches` turns texts into padded batches the way every inference path in
hateproto batches them: texts are tokenised, sorted by token length and cut into batches of
``batch_size`` with just enough padding. Inputs longer than one *chunk* (``chunk_batches``
batches: 64 on the CPU, 8 on a GPU) are sorted within each chunk, and a background thread
tokenises and pads the next chunk while the caller runs the current one (the fast tokenizers
release the GIL); batches are pinned and copied with ``non_blocking`` on CUDA. An input of
one chunk is prepared in the calling thread, in exactly the order a global length sort gives.

Example:
    >>> fake_tokenize = lambda texts: [[1] * len(t.split()) for t in texts]
    >>> def fake_pad(ids):
    ...     width = max(map(len, ids))
    ...     rows = [x + [0] * (width - len(x)) for x in ids]
    ...     return {"input_ids": torch.tensor(rows), "attention_mask": torch.tensor(rows)}
    >>> [b.rows for b in iter_batches(fake_tokenize, fake_pad, ["a b c", "a", "a b"], 2)]
    [[1, 2], [0]]
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from hateproto.models.device import to_device

Tokenize = Callable[[list[str]], list[list[int]]]
Pad = Callable[[list[list[int]]], dict[str, torch.Tensor]]
CHUNK_BATCHES = 64
"""Batches per chunk on the CPU: inputs up to this many batches are sorted as a whole."""
CUDA_CHUNK_BATCHES = 8
"""Batches per chunk on a GPU, where tokenising is a large share of the time: the thread
starts on the next chunk after 8 batches (sorting 8 x 256 texts still pads little)."""
_DONE = object()


@dataclass
class Batch:
    """One padded batch.

    Attributes:
        rows: positions of its texts in the input.
        lengths: tokens of each text.
        tensors: ``input_ids`` and ``attention_mask`` on the target device.
    """

    rows: list[int]
    lengths: list[int]
    tensors: dict[str, torch.Tensor]


def pad_token_ids(
    ids: Sequence[Sequence[int]], pad_id: int, side: str = "right", multiple: int = 1
) -> dict[str, torch.Tensor]:
    """``input_ids`` and ``attention_mask`` ``[B, T]`` (int64) for token-id lists, padded with
    ``pad_id`` on ``side`` to the longest (rounded up to a ``multiple``); what
    ``tokenizer.pad(..., return_tensors="pt", pad_to_multiple_of=multiple)`` returns, built
    with one vectorised copy instead of a Python loop per row.

    Example:
        >>> pad_token_ids([[5, 6, 7], [8]], pad_id=0)["input_ids"].tolist()
        [[5, 6, 7], [8, 0, 0]]
        >>> pad_token_ids([[5, 6, 7], [8]], pad_id=0, side="left")["attention_mask"].tolist()
        [[1, 1, 1], [0, 0, 1]]
    """
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    width = -(-int(lengths.max()) // multiple) * multiple if len(lengths) else 0
    positions = np.arange(width)
    if side == "left":
        mask = positions[None, :] >= (width - lengths)[:, None]
    else:
        mask = positions[None, :] < lengths[:, None]
    input_ids = np.full((len(ids), width), pad_id, dtype=np.int64)
    input_ids[mask] = np.fromiter(itertools.chain.from_iterable(ids), np.int64, lengths.sum())
    return {
        "input_ids": torch.from_numpy(input_ids),
        "attention_mask": torch.from_numpy(mask.astype(np.int64)),
    }


def _chunk_batches(
    tokenize: Tokenize, pad: Pad, texts: Sequence[str], offset: int, batch_size: int
) -> list[Batch]:
    """Tokenise one chunk, sort it by length and pad its batches (host tensors)."""
    ids = tokenize(list(texts))
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    batches = []
    for start in range(0, len(order), batch_size):
        local = order[start : start + batch_size]
        tensors = pad([ids[i] for i in local])
        batches.append(Batch([offset + i for i in local], [len(ids[i]) for i in local], tensors))
    return batches


def _produce(
    tokenize: Tokenize,
    pad: Pad,
    texts: Sequence[str],
    batch_size: int,
    chunk: int,
    pin: bool,
    out: queue.Queue,
    stop: threading.Event,
) -> None:
    """Background thread: put every chunk's batches on ``out``, then ``_DONE`` (or the error)."""
    try:
        for offset in range(0, len(texts), chunk):
            for batch in _chunk_batches(
                tokenize, pad, texts[offset : offset + chunk], offset, batch_size
            ):
                if pin:
                    batch.tensors = {k: v.pin_memory() for k, v in batch.tensors.items()}
                while not stop.is_set():
                    try:
                        out.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        out.put(_DONE)
    except BaseException as exc:  # handed to the consumer, raised there
        out.put(exc)


def _threaded(
    tokenize: Tokenize,
    pad: Pad,
    texts: Sequence[str],
    batch_size: int,
    chunk: int,
    device: torch.device,
) -> Iterator[Batch]:
    out: queue.Queue = queue.Queue(maxsize=max(2, chunk // batch_size + 2))
    stop = threading.Event()
    pin = device.type == "cuda"
    args = (tokenize, pad, texts, batch_size, chunk, pin, out, stop)
    worker = threading.Thread(target=_produce, args=args, name="hateproto-batches", daemon=True)
    worker.start()
    try:
        while True:
            item = out.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            item.tensors = {k: v.to(device, non_blocking=pin) for k, v in item.tensors.items()}
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def iter_batches(
    tokenize: Tokenize,
    pad: Pad,
    texts: Sequence[str],
    batch_size: int,
    device: torch.device | None = None,
    chunk_batches: int | None = None,
) -> Iterator[Batch]:
    """Length-sorted padded batches of ``texts`` on ``device`` (default CPU).

    Args:
        tokenize: texts → token-id lists (no padding).
        pad: token-id lists → ``input_ids``/``attention_mask`` host tensors.
        batch_size: texts per batch.
        chunk_batches: batches per sorting chunk (default :data:`CHUNK_BATCHES`, on CUDA
            :data:`CUDA_CHUNK_BATCHES`); later chunks are prepared in a background thread
            while the caller works.
    """
    device = device or torch.device("cpu")
    default = CUDA_CHUNK_BATCHES if device.type == "cuda" else CHUNK_BATCHES
    chunk_batches = chunk_batches or default
    chunk = max(1, batch_size * chunk_batches)
    if len(texts) <= chunk:
        for batch in _chunk_batches(tokenize, pad, texts, 0, batch_size):
            batch.tensors = to_device(batch.tensors, device)
            yield batch
        return
    yield from _threaded(tokenize, pad, texts, batch_size, chunk, device)
