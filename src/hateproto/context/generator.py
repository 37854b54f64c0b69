"""Generate a short explanation of each post's implied meaning with a causal LM, cached."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from hateproto.context.cache import ContextCache, cache_file, context_key
from hateproto.context.config import ContextConfig
from hateproto.errors import ModelError
from hateproto.models.backbone import Backbone
from hateproto.models.texts import validate_texts
from hateproto.progress import progress_bar

_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_FINGERPRINTS: dict[tuple[str, str], str] = {}
"""Fingerprints of the LMs loaded in this process, so that a second generator (a reloaded
FusionClassifier) finds its cached contexts without loading the model again."""


@dataclass
class GenerationStats:
    """What the last :meth:`ContextGenerator.generate` call did: posts requested, distinct
    posts, contexts found in the cache, contexts generated, and seconds spent generating."""

    requested: int = 0
    unique: int = 0
    cached: int = 0
    generated: int = 0
    seconds: float = 0.0

    @property
    def examples_per_second(self) -> float:
        """Newly generated examples per second of generation (0 when nothing was generated)."""
        return self.generated / self.seconds if self.seconds > 0 else 0.0


class ContextGenerator:
    """Writes, caches and returns an LLM explanation ("context") for every post.

    The model is loaded on first use; contexts are cached on disk per model and prompt
    (see :mod:`hateproto.context.cache`), so a rerun generates only the missing ones.

    Example:
        >>> gen = ContextGenerator(ContextConfig(model="smollm2"))  # doctest: +SKIP
        >>> gen.generate(["they should all go back home"])  # doctest: +SKIP
        ['This post implies that immigrants are not welcome in the country.']
    """

    def __init__(
        self,
        config: ContextConfig | None = None,
        cache_root: Path | None = None,
        backbone: Backbone | None = None,
    ) -> None:
        self.config = config or ContextConfig()
        self.cache_root = cache_root
        self._backbone = backbone
        self._cache: ContextCache | None = None
        self._fingerprint: str | None = None
        self.stats = GenerationStats()

    # ------------------------------------------------------------------ model and cache
    @property
    def backbone(self) -> Backbone:
        """The causal LM (loaded with its LM head on first use)."""
        if self._backbone is None:
            self._backbone = Backbone.load(
                self.config.model, dtype=self.config.dtype, with_lm_head=True
            )
        if self._backbone.lm is None:
            raise ModelError(f"{self.config.model}: context generation needs a causal LM head")
        return self._backbone

    @property
    def fingerprint(self) -> str:
        """The LM's weight fingerprint (kept after :meth:`release`)."""
        if self._fingerprint is None:
            key = (self.config.model, self.config.dtype)
            if key not in _FINGERPRINTS or self._backbone is not None:
                _FINGERPRINTS[key] = self.backbone.fingerprint
            self._fingerprint = _FINGERPRINTS[key]
        return self._fingerprint

    def release(self) -> None:
        """Drop the loaded LM to free memory; it is loaded again only if a context is missing."""
        if self._backbone is not None and self._fingerprint is None:
            self._fingerprint = self._backbone.fingerprint
        self._backbone = None

    @property
    def cache(self) -> ContextCache:
        """The SQLite cache of this model + prompt."""
        if self._cache is None:
            path = cache_file(
                self.config.model,
                self.fingerprint,
                self.config.prompt_json(),
                self.cache_root,
            )
            self._cache = ContextCache(path)
        return self._cache

    def key(self, text: str) -> str:
        """The cache key of ``text`` under this model and prompt."""
        return context_key(self.fingerprint, self.config.prompt_json(), text)

    # ------------------------------------------------------------------ prompting
    def _truncate(self, text: str) -> str:
        tokenizer = self.backbone.tokenizer
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) <= self.config.max_input_tokens:
            return text
        return tokenizer.decode(ids[: self.config.max_input_tokens], skip_special_tokens=True)

    def prompt(self, text: str) -> str:
        """The full prompt string for one post (chat template + response prefix)."""
        cfg = self.config
        user = cfg.user_template.replace("{text}", self._truncate(text))
        tokenizer = self.backbone.tokenizer
        if getattr(tokenizer, "chat_template", None):
            messages = [{"role": "user", "content": user}]
            if cfg.system_prompt:
                messages.insert(0, {"role": "system", "content": cfg.system_prompt})
            head = tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
        else:
            head = f"{cfg.system_prompt}\n\n{user}\n" if cfg.system_prompt else f"{user}\n"
        return head + cfg.response_prefix

    def _uses_chat_template(self) -> bool:
        return bool(getattr(self.backbone.tokenizer, "chat_template", None))

    # ------------------------------------------------------------------ generation
    def generate(self, texts: Sequence[str], show_progress: bool = True) -> list[str]:
        """Contexts of ``texts`` (in order): cached ones are read, missing ones generated.

        Generation runs in batches of ``config.batch_size`` prompts of similar length, left
        padded, greedy; each finished batch is committed to the cache, so an interrupted run
        resumes where it stopped. :attr:`stats` tells what was cached and generated.
        """
        texts = validate_texts(texts)
        unique = list(dict.fromkeys(texts))
        keys = {text: self.key(text) for text in unique}
        found = self.cache.get_many(list(keys.values()))
        raw = {text: found[keys[text]] for text in unique if keys[text] in found}
        missing = [text for text in unique if text not in raw]
        self.stats = GenerationStats(requested=len(texts), unique=len(unique), cached=len(raw))
        if missing:
            raw.update(self._generate_missing(missing, keys, show_progress))
        return [self.finish(raw[text]) for text in texts]

    def _generate_missing(
        self, missing: list[str], keys: dict[str, str], show_progress: bool
    ) -> dict[str, str]:
        prompts = {text: self.prompt(text) for text in missing}
        tokenizer = self.backbone.tokenizer
        lengths = {text: len(tokenizer(prompts[text])["input_ids"]) for text in missing}
        order = sorted(missing, key=lengths.__getitem__)
        out: dict[str, str] = {}
        start_time = time.perf_counter()
        size = self.config.batch_size
        with progress_bar(
            len(order), "generating context", enabled=show_progress, unit="examples"
        ) as advance:
            for start in range(0, len(order), size):
                batch = order[start : start + size]
                continuations = self._generate_batch([prompts[t] for t in batch])
                pairs = list(zip(batch, continuations, strict=True))
                self.cache.put_many((keys[t], t, c) for t, c in pairs)
                out.update(pairs)
                self.stats.generated += len(batch)
                self.stats.seconds = time.perf_counter() - start_time
                advance(len(batch))
        return out

    @torch.inference_mode()
    def _generate_batch(self, prompts: list[str]) -> list[str]:
        from transformers import GenerationConfig

        backbone = self.backbone
        tokenizer = backbone.tokenizer
        side, tokenizer.padding_side = tokenizer.padding_side, "left"
        try:
            batch = tokenizer(
                prompts,
                return_tensors="pt",
                padding=True,
                add_special_tokens=not self._uses_chat_template(),
            )
        finally:
            tokenizer.padding_side = side
        lm: Any = backbone.lm
        device = torch.device(self.config.device)
        lm.to(device)
        generation = GenerationConfig(
            max_new_tokens=self.config.max_new_tokens,
            do_sample=False,
            num_beams=1,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=lm.generation_config.eos_token_id or tokenizer.eos_token_id,
        )
        output = lm.generate(
            input_ids=batch["input_ids"].to(device),
            attention_mask=batch["attention_mask"].to(device),
            generation_config=generation,
        )
        new_tokens = output[:, batch["input_ids"].shape[1] :].cpu()
        decoded = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        return [" ".join(text.split()) for text in decoded]

    def finish(self, continuation: str) -> str:
        """Prefix + continuation, cut after the last finished sentence if configured."""
        text = " ".join(f"{self.config.response_prefix} {continuation}".split())
        if self.config.trim_to_sentence:
            ends = list(_SENTENCE_END.finditer(text))
            if ends and ends[-1].end() > len(self.config.response_prefix):
                text = text[: ends[-1].end()]
        return text
