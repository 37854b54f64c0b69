"""LLM-generated context: a short explanation of each post's implied meaning, cached on disk.

Example:
    >>> from hateproto.context import ContextConfig, ContextGenerator
    >>> gen = ContextGenerator(ContextConfig(model="smollm2", max_new_tokens=32))  # doctest: +SKIP
    >>> gen.generate(["go back home"]), gen.stats.examples_per_second  # doctest: +SKIP
"""

from hateproto.context.cache import ContextCache, cache_file, context_key
from hateproto.context.config import ContextConfig
from hateproto.context.generator import ContextGenerator, GenerationStats

__all__ = [
    "ContextCache",
    "ContextConfig",
    "ContextGenerator",
    "GenerationStats",
    "cache_file",
    "context_key",
]
