"""A causal language model used as a safety guard (Llama-Guard style).

Each post is wrapped in a moderation prompt; one forward pass gives both

* the guard's own verdict: the probability of ``unsafe`` against ``safe`` as the next token
  after the prompt (first token of each word), and
* per-layer hidden states at the last prompt token (the position that produces the verdict),
  normalised like :meth:`Backbone.encode` (final norm on intermediate decoder layers), from
  which prototypes are built.

The prompt: a model whose own chat template already is a guard template (it mentions
``unsafe``, as Llama-Guard-3's does) gets the raw post as the user message; any other chat
model gets a Llama-Guard-style instruction (task, the hate category, the conversation, "First
line must read 'safe' or 'unsafe'") as the user message of its chat template; a model without
a chat template gets the instruction as plain text. The instruction follows Llama Guard's
layout but is kept short (about 70 tokens plus the post). ``template="llama_guard"`` or
``"instruction"`` forces either.

Speed: the part of the prompt before the post is the same for every post, so it is run once
and its key/value cache reused for every batch (``prefix_cache=True``, default); only the post
and the end of the prompt are computed per post, which makes long guard templates affordable.

Example:
    >>> guard = GuardModel.load("smollm2", dtype="bfloat16")  # doctest: +SKIP
    >>> out = guard.score(["they are vermin"], layers="all")    # doctest: +SKIP
    >>> out.p_unsafe, out.vectors.shape                         # doctest: +SKIP
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from hateproto.errors import ModelError
from hateproto.models.backbone import Backbone
from hateproto.models.compat import cache_keyword, returned_cache
from hateproto.models.device import to_device
from hateproto.models.pooling import pool
from hateproto.models.texts import validate_texts
from hateproto.progress import progress_bar

Template = Literal["auto", "llama_guard", "instruction"]
_MARK = "\u2063POST\u2063"

INSTRUCTION = (
    "Task: Check if there is unsafe content in the User message according to our safety "
    "policy.\n<BEGIN UNSAFE CONTENT CATEGORIES>\nS10: Hate (including implicit hate: "
    "stereotypes, irony, coded language, calls for exclusion).\n<END UNSAFE CONTENT "
    "CATEGORIES>\n<BEGIN CONVERSATION>\nUser: {text}\n<END CONVERSATION>\n"
    "First line must read 'safe' or 'unsafe'."
)
"""The Llama-Guard-style instruction given to chat models whose template is not a guard's."""

SYSTEM = "You are a content safety classifier."
"""System message put before the instruction (replaces a chat template's default one)."""


@dataclass
class GuardOutput:
    """What one scoring pass returns: ``p_unsafe`` ``[N]`` and ``vectors`` ``[N, layers, H]``."""

    p_unsafe: np.ndarray
    vectors: torch.Tensor
    layers: list[int]


class GuardModel:
    """A causal LM with its LM head, a moderation prompt and the safe/unsafe verdict tokens."""

    def __init__(
        self, backbone: Backbone, template: Template = "auto", system: str | None = SYSTEM
    ) -> None:
        if backbone.lm is None:
            raise ModelError(
                f"{backbone.info.name_or_path}: a guard needs the LM head; load it with "
                "Backbone.load(ref, with_lm_head=True) or GuardModel.load(ref)"
            )
        self.backbone = backbone
        self.tokenizer = backbone.tokenizer
        self.system = system
        self.template = self._resolve_template(template)
        self.safe_id, self.unsafe_id = self._verdict_ids()

    @classmethod
    def load(
        cls, reference: str, dtype: str = "float32", template: Template = "auto"
    ) -> GuardModel:
        """Load ``reference`` (alias, hub id, folder, GGUF) with its LM head."""
        return cls(Backbone.load(reference, dtype=dtype, with_lm_head=True), template)

    # ------------------------------------------------------------------ prompt
    def _resolve_template(self, template: Template) -> str:
        if template not in ("auto", "llama_guard", "instruction"):
            raise ModelError(f"unknown guard template {template!r}: auto, llama_guard, instruction")
        own = getattr(self.tokenizer, "chat_template", None) or ""
        if template == "llama_guard" and "unsafe" not in own:
            raise ModelError(
                f"{self.backbone.info.name_or_path}: its chat template is not a guard template; "
                "use template='instruction'"
            )
        if template == "auto":
            return "llama_guard" if "unsafe" in own else "instruction"
        return template

    def prompt(self, text: str) -> str:
        """The full prompt for one post, ending where the verdict's first token is predicted."""
        if self.template == "llama_guard":
            return self._chat([{"role": "user", "content": text}], text)
        content = INSTRUCTION.format(text=text)
        if getattr(self.tokenizer, "chat_template", None):
            system = [{"role": "system", "content": self.system}] if self.system else []
            return self._chat([*system, {"role": "user", "content": content}], text)
        return content + "\n"

    def _chat(self, messages: list[dict], text: str) -> str:
        """Render with the chat template; templates that want a list of content parts (as
        Llama-Guard-3-1B's does) get one when the plain string form fails or drops the text."""
        render = self.tokenizer.apply_chat_template
        try:
            rendered = render(messages, tokenize=False, add_generation_prompt=True)
        except Exception:  # noqa: BLE001 - jinja raises several types for the wrong form
            rendered = ""
        if text not in rendered:
            parts = [
                {"role": m["role"], "content": [{"type": "text", "text": m["content"]}]}
                for m in messages
            ]
            rendered = render(parts, tokenize=False, add_generation_prompt=True)
        if text not in rendered:
            raise ModelError("the chat template dropped the post from the guard prompt")
        return rendered

    def _verdict_ids(self) -> tuple[int, int]:
        ids = []
        for word in ("safe", "unsafe"):
            tokens = self.tokenizer.encode(word, add_special_tokens=False)
            if not tokens:
                raise ModelError(f"the tokenizer turns {word!r} into no tokens")
            ids.append(tokens[0])
        if ids[0] == ids[1]:
            raise ModelError("'safe' and 'unsafe' start with the same token; cannot score")
        return ids[0], ids[1]

    # ------------------------------------------------------------------ scoring
    def split_prompt(self) -> tuple[str, str]:
        """``(prefix, template)``: the prompt text before the post (no trailing whitespace)
        and the rest with ``{text}`` where the post goes."""
        rendered = self.prompt(_MARK)
        if rendered.count(_MARK) != 1:
            raise ModelError("the guard prompt must contain the post exactly once")
        before, after = rendered.split(_MARK)
        prefix = before.rstrip()
        gap = before[len(prefix) :]
        return prefix, gap.replace("{", "{{").replace("}", "}}") + "{text}" + after.replace(
            "{", "{{"
        ).replace("}", "}}")

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def tokenize(
        self, texts: Sequence[str], max_length: int = 1024, prefix_cache: bool = True
    ) -> tuple[list[int], list[list[int]]]:
        """``(prefix_ids, per-post ids)``. With ``prefix_cache`` the shared prefix is returned
        once and each post's ids hold only the rest; otherwise the prefix is empty and each
        post's ids hold its whole prompt. Over-long posts are cut at the end (the prompt's
        ending is kept)."""
        if prefix_cache:
            prefix, rest = self.split_prompt()
            prefix_ids = self._ids(prefix)
            budget = max_length - len(prefix_ids)
            if budget < 8:
                raise ModelError(f"max_length {max_length} leaves no room after the prompt")
            return prefix_ids, [self._fit(lambda t: rest.format(text=t), t, budget) for t in texts]
        return [], [self._fit(self.prompt, t, max_length) for t in texts]

    def _fit(self, render, text: str, budget: int) -> list[int]:
        ids = self._ids(render(text))
        words = text.split()
        while len(ids) > budget and len(words) > 1:
            words = words[: max(1, len(words) - max(1, (len(ids) - budget) // 2))]
            ids = self._ids(render(" ".join(words)))
        return ids

    def _verdict_head(self) -> torch.nn.Module:
        """The LM head restricted to the safe/unsafe rows, in float32 (two logits only)."""
        full = self.backbone.lm.get_output_embeddings()
        rows = [self.safe_id, self.unsafe_id]
        bias = getattr(full, "bias", None)
        layer = torch.nn.Linear(full.weight.shape[1], 2, bias=bias is not None)
        with torch.no_grad():
            layer.weight.copy_(full.weight[rows].float())
            if bias is not None:
                layer.bias.copy_(bias[rows].float())
        return layer.eval()

    def _forward(
        self, batch: dict[str, torch.Tensor], prefix: tuple[int, object] | None
    ) -> tuple[torch.Tensor, ...]:
        """Hidden states of the batch's tokens (after the cached prefix, if any)."""
        if prefix is None:
            return self.backbone.forward_hidden_states(batch)
        length, cache = prefix
        rows = batch["input_ids"].shape[0]
        mask_device = batch["attention_mask"].device
        past = copy.deepcopy(cache)
        past.batch_repeat_interleave(rows)
        mask = torch.cat(
            [
                torch.ones(rows, length, dtype=batch["attention_mask"].dtype, device=mask_device),
                batch["attention_mask"],
            ],
            dim=1,
        )
        model = self.backbone.model
        out = model(
            input_ids=batch["input_ids"],
            attention_mask=mask,
            use_cache=True,
            output_hidden_states=True,
            **{cache_keyword(model): past},
        )
        return out.hidden_states

    @torch.inference_mode()
    def score(
        self,
        texts: Sequence[str],
        layers: Sequence[int] | str | None = "all",
        batch_size: int = 16,
        max_length: int = 1024,
        show_progress: bool = False,
        prefix_cache: bool = True,
    ) -> GuardOutput:
        """The verdict probability and last-prompt-token vectors of every post, one pass each."""
        texts = validate_texts(texts)
        layer_ids = self.backbone.resolve_layers(layers)
        prefix_ids, ids = self.tokenize(texts, max_length, prefix_cache)
        prefix = None
        if prefix_ids:
            prompt = torch.tensor([prefix_ids], device=self.backbone.device)
            out = self.backbone.model(input_ids=prompt, use_cache=True)
            prefix = (len(prefix_ids), returned_cache(out))
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        vectors = torch.empty(len(texts), len(layer_ids), self.backbone.hidden_size)
        p_unsafe = np.empty(len(texts))
        verdict = self._verdict_head().to(self.backbone.device)
        with progress_bar(len(texts), "guard", enabled=show_progress) as advance:
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                batch = to_device(self.backbone.pad([ids[i] for i in rows]), self.backbone.device)
                states = self._forward(batch, prefix)
                mask = batch["attention_mask"]
                final = pool(states[-1], mask, "last")
                logits = verdict(final.float())
                p_unsafe[rows] = torch.softmax(logits, dim=-1)[:, 1].cpu().numpy()
                picked = self.backbone.layer_states(states, layer_ids, "final_norm")
                pooled = torch.stack([pool(s, mask, "last") for s in picked], 1)
                vectors[rows] = pooled.float().cpu()  # back to the host once per batch
                advance(len(rows))
        return GuardOutput(p_unsafe, vectors, layer_ids)
