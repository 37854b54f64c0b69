"""Typed settings of LLM context generation: model, prompt, decoding."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field

from hateproto.config import YamlConfig

DEFAULT_SYSTEM_PROMPT = (
    "You explain social media posts. In one short sentence, say what the post implies about "
    "people or groups, including any hidden or coded meaning."
)
DEFAULT_USER_TEMPLATE = 'Post: "{text}"\nWhat does this post imply?'
DEFAULT_RESPONSE_PREFIX = "This post implies that"


class ContextConfig(YamlConfig):
    """How an instruction-tuned causal LM writes a short explanation of a post.

    The prompt is the chat template of the model applied to ``system_prompt`` and
    ``user_template`` (``{text}`` is replaced by the post), followed by ``response_prefix``,
    which the model continues. Models without a chat template get a plain
    ``system\\n\\nuser\\n`` prompt. Decoding is greedy.

    Example:
        >>> ContextConfig(model="smollm2", max_new_tokens=32).max_new_tokens
        32
    """

    model: str = "smollm2"
    dtype: Literal["float32", "bfloat16"] = "bfloat16"
    device: str = "cpu"
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    user_template: str = DEFAULT_USER_TEMPLATE
    response_prefix: str = DEFAULT_RESPONSE_PREFIX
    max_input_tokens: int = Field(96, ge=8, description="posts are cut to this many tokens")
    max_new_tokens: int = Field(40, ge=1)
    batch_size: int = Field(16, ge=1)
    trim_to_sentence: bool = Field(
        True, description="cut an unfinished last sentence (applied on read, not cached)"
    )

    def prompt_settings(self) -> dict[str, object]:
        """The settings that change what the model generates (they are part of the cache key)."""
        return {
            "dtype": self.dtype,
            "system_prompt": self.system_prompt,
            "user_template": self.user_template,
            "response_prefix": self.response_prefix,
            "max_input_tokens": self.max_input_tokens,
            "max_new_tokens": self.max_new_tokens,
        }

    def prompt_json(self) -> str:
        """:meth:`prompt_settings` as canonical JSON."""
        return json.dumps(self.prompt_settings(), sort_keys=True)
