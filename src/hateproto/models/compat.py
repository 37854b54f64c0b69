"""The one place where hateproto adapts to changes between ``transformers`` releases.

Layer stepping (:mod:`hateproto.models.stepping`) builds attention masks the way the models do
inside their ``forward``. It uses the public mask builders of ``transformers.masking_utils``
(``create_bidirectional_mask``, ``create_causal_mask``, ``create_sliding_window_causal_mask``)
rather than private model methods. Their signatures still move between releases: the cache
argument was called ``past_key_values`` until transformers 5.2x and is ``cache`` since (the old
name deprecated until 5.40), and ``inputs_embeds`` was ``input_embeds`` in 5.0. :func:`build_mask`
reads the installed signature and passes each argument under the name it declares, so no caller
has to know.

Loading (:mod:`hateproto.models.loading`) asks two more things of ``transformers`` that are not
part of its documented API, both answered here: which model types are masked-LM encoders
(:func:`masked_lm_model_types`) and how to drop the quantizer a GGUF load leaves behind
(:func:`drop_gguf_quantizer`).

The exactness tests in ``tests/test_stepping.py`` (per-layer states equal to
``output_hidden_states``) guard every function here; ``bash scripts/test-newest-transformers``
runs them against the newest release the version range in ``pyproject.toml`` allows.

Example:
    >>> from transformers import BertConfig
    >>> import torch
    >>> from transformers.masking_utils import create_bidirectional_mask
    >>> config = BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=2)
    >>> config._attn_implementation = "eager"
    >>> mask = build_mask(
    ...     create_bidirectional_mask, config=config, inputs_embeds=torch.zeros(2, 3, 8),
    ...     attention_mask=torch.tensor([[1, 1, 0], [1, 1, 1]]))
    >>> tuple(mask.shape)
    (2, 1, 3, 3)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection
from typing import Any

from hateproto.errors import ModelError

# Arguments of the mask builders that transformers renamed: today's name -> earlier names.
_RENAMED = {"inputs_embeds": ("input_embeds",), "cache": ("past_key_values",)}


def build_mask(function: Callable[..., Any], **kwargs: Any) -> Any:
    """Call a ``transformers.masking_utils`` mask builder with no cache (a fresh forward pass).

    ``kwargs`` are the builder's other arguments under today's names (``config``,
    ``inputs_embeds``, ``attention_mask``, ``position_ids``, ...); they are passed under the
    name the installed version declares (``input_embeds`` before transformers 5.x's rename).
    Arguments the installed version does not declare at all raise
    :class:`~hateproto.errors.ModelError` naming the argument and the version, instead of a
    ``TypeError`` deep inside a forward pass.
    """
    parameters = inspect.signature(function).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    call: dict[str, Any] = {}
    for name, value in {**kwargs, "cache": None}.items():
        declared = [n for n in (name, *_RENAMED.get(name, ())) if n in parameters]
        if declared:
            call[declared[0]] = value
        elif name == "cache":
            continue  # a builder without a cache argument
        elif accepts_any:
            call[name] = value
        else:
            raise ModelError(
                f"transformers {_transformers_version()}: {function.__name__} takes no {name}; "
                "hateproto supports the versions in pyproject.toml "
                "(reinstall with: bash scripts/install)"
            )
    return function(**call)


def _transformers_version() -> str:
    import transformers

    return transformers.__version__


def gemma3_bidirectional_window(sliding_window: int) -> Callable[..., Any]:
    """Gemma 3's mask overlay for bidirectional sliding-window attention (EmbeddingGemma).

    transformers keeps it private (``modeling_gemma3._bidirectional_window_overlay``); a release
    that renames it raises :class:`~hateproto.errors.ModelError` here, not an ``AttributeError``
    mid-batch.
    """
    from transformers.models.gemma3 import modeling_gemma3

    overlay = getattr(modeling_gemma3, "_bidirectional_window_overlay", None)
    if overlay is None:
        raise ModelError(
            f"transformers {_transformers_version()} has no Gemma 3 bidirectional window overlay; "
            "layer stepping of bidirectional Gemma 3 models needs transformers in the range of "
            "pyproject.toml (reinstall with: bash scripts/install)"
        )
    return overlay(sliding_window)


def cache_keyword(model: Any) -> str:
    """The keyword under which ``model.forward`` takes a key/value cache in this version
    (``cache`` since transformers 5.2x, ``past_key_values`` before)."""
    parameters = inspect.signature(model.forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


def returned_cache(output: Any) -> Any:
    """The key/value cache a forward pass with ``use_cache=True`` returned (``output.cache``
    since transformers 5.2x, ``output.past_key_values`` before)."""
    for name in ("cache", "past_key_values"):
        value = getattr(output, name, None)
        if value is not None:
            return value
    raise ModelError("the model returned no key/value cache although use_cache=True was passed")


def masked_lm_model_types() -> Collection[str]:
    """Model types (``config.model_type``) that ``transformers`` has a masked-LM class for:
    the bidirectional encoders."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    return MODEL_FOR_MASKED_LM_MAPPING_NAMES


def drop_gguf_quantizer(model: Any) -> None:
    """Forget the quantizer ``transformers`` attaches to a model loaded from a GGUF file.

    The GGUF weights are dequantized while they load, so the result is a plain model; without
    the quantizer attribute it is treated as one.
    """
    model.hf_quantizer = None
