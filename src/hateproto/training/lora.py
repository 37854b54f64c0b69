"""LoRA adapters (PEFT) on a backbone, with the target modules found automatically.

The attention projections are the targets, whatever the family calls them: BERT
``query``/``key``/``value``, MPNet ``q``/``k``/``v``/``o``, Llama and Gemma
``q_proj``/``k_proj``/``v_proj``/``o_proj``. Found by scanning the model's ``nn.Linear``
modules, so other models that reuse one of these naming schemes work too.

Example:
    >>> from transformers import BertConfig, BertModel
    >>> m = BertModel(BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
    ...                          intermediate_size=8))
    >>> lora_target_modules(m)
    ['query', 'key', 'value']
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from hateproto.errors import ModelError

#: Naming schemes of attention projections, tried in this order.
ATTENTION_PROJECTIONS: tuple[tuple[str, ...], ...] = (
    ("q_proj", "k_proj", "v_proj", "o_proj"),  # Llama, Gemma, Mistral, Qwen...
    ("query", "key", "value"),  # BERT, RoBERTa, XLM-R, E5
    ("q", "k", "v", "o"),  # MPNet, T5
    ("q_lin", "k_lin", "v_lin", "out_lin"),  # DistilBERT
    ("c_attn", "c_proj"),  # GPT-2
)


def lora_target_modules(model: nn.Module) -> list[str]:
    """Names (last path component) of the attention projections of ``model``.

    Raises :class:`ModelError` when none of :data:`ATTENTION_PROJECTIONS` is found (then pass
    ``lora_target_modules`` explicitly).
    """
    linear_names = {
        name.rsplit(".", 1)[-1]
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) or type(module).__name__ == "Conv1D"
    }
    for scheme in ATTENTION_PROJECTIONS:
        found = [name for name in scheme if name in linear_names]
        if len(found) >= 2:
            return found
    raise ModelError(
        f"could not find the attention projections of {type(model).__name__} for LoRA "
        f"(linear layers: {sorted(linear_names)[:12]}); set lora_target_modules in the config"
    )


def apply_lora(
    model: nn.Module,
    r: int = 16,
    alpha: int = 32,
    dropout: float = 0.05,
    target_modules: Sequence[str] | None = None,
) -> nn.Module:
    """Wrap ``model`` in a PEFT LoRA model; only the adapter weights stay trainable."""
    from peft import LoraConfig, get_peft_model

    targets = list(target_modules) if target_modules else lora_target_modules(model)
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets)
    try:
        return get_peft_model(model, config)
    except ValueError as exc:
        raise ModelError(f"LoRA could not be applied with targets {targets}: {exc}") from None
