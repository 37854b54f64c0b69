"""Per-post emotion vectors behind one interface: the NRC affect lexicon or a transformer model.

Every featurizer maps texts to a float32 array ``[N, dim]`` and describes itself with a
``spec()`` dict, from which :func:`load_emotion_features` rebuilds it (fusion checkpoints
store that spec).

Example:
    >>> nrc = NrcEmotion()
    >>> nrc.labels[:3]
    ('fear', 'anger', 'anticipation')
    >>> vec = nrc.transform(["they are dirty vermin"])
    >>> vec.shape, round(float(vec.sum()), 3)
    ((1, 10), 1.0)
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import torch

from hateproto.errors import ConfigError, ModelError
from hateproto.optional import require

NRC_EMOTIONS: tuple[str, ...] = (
    "fear",
    "anger",
    "anticipation",
    "trust",
    "surprise",
    "positive",
    "negative",
    "sadness",
    "disgust",
    "joy",
)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


class EmotionFeatures(ABC):
    """Turns texts into emotion vectors ``[N, dim]`` (float32, one named column per label)."""

    labels: tuple[str, ...]

    @property
    def dim(self) -> int:
        """Length of each vector."""
        return len(self.labels)

    @abstractmethod
    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """The emotion vectors of ``texts``, ``[N, dim]`` float32."""

    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """A JSON-able description from which :func:`load_emotion_features` rebuilds this."""


@lru_cache(maxsize=1)
def nrc_lexicon() -> dict[str, tuple[str, ...]]:
    """The NRC affect lexicon as shipped in the ``nrclex`` package (word -> emotions).

    Read directly from the package data, so neither TextBlob nor NLTK corpora are needed.
    """
    require("nrclex.data", extra="fusion", purpose="the NRC emotion lexicon")
    source = resources.files("nrclex.data").joinpath("nrc_en.json")
    with source.open("r", encoding="utf-8") as handle:
        return {word: tuple(emotions) for word, emotions in json.load(handle).items()}


def _candidates(word: str) -> list[str]:
    """The word and a few crude lemmas (plurals, past tense, -ing), most specific first."""
    out = [word]
    if word.endswith("'s"):
        word = word[:-2]
        out.append(word)
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        out.append(word[:-1])
    for suffix in ("ed", "ing"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)]
            out += [stem, stem + "e"]
            if len(stem) > 2 and stem[-1] == stem[-2]:
                out.append(stem[:-1])
    if word.endswith("ied") and len(word) > 4:
        out.append(word[:-3] + "y")
    return out


class NrcEmotion(EmotionFeatures):
    """Normalised NRC affect frequencies: for each of the 10 NRC categories, the share of the
    post's affect-word associations (all zeros when no word is in the lexicon).

    Tokenisation is a lower-cased word regex with crude lemmatisation (plural, -ed, -ing), so
    it runs offline without TextBlob corpora.
    """

    labels = NRC_EMOTIONS

    def emotion_words(self, text: str) -> dict[str, tuple[str, ...]]:
        """The lexicon entries matched in ``text`` (token -> its emotions), in text order."""
        lexicon = nrc_lexicon()
        found: dict[str, tuple[str, ...]] = {}
        for token in _WORD.findall(text.lower()):
            match = next((c for c in _candidates(token) if c in lexicon), None)
            if match is not None:
                found[token] = lexicon[match]
        return found

    def counts(self, text: str) -> np.ndarray:
        """Raw association counts per category (a repeated word counts again)."""
        lexicon = nrc_lexicon()
        index = {name: i for i, name in enumerate(self.labels)}
        counts = np.zeros(self.dim, dtype=np.float32)
        for token in _WORD.findall(text.lower()):
            match = next((c for c in _candidates(token) if c in lexicon), None)
            for emotion in lexicon.get(match, ()) if match else ():
                counts[index[emotion]] += 1
        return counts

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Counts divided by their total (10 columns summing to 1, or 0 without affect words)."""
        counts = np.stack([self.counts(text) for text in texts]).astype(np.float32)
        totals = counts.sum(axis=1, keepdims=True)
        return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)

    def spec(self) -> dict[str, Any]:
        """``{"kind": "nrc"}``."""
        return {"kind": "nrc"}


class TransformerEmotion(EmotionFeatures):
    """Class probabilities of a sequence-classification emotion model (any HF model id or
    folder, e.g. a GoEmotions or Ekman classifier): softmax, or sigmoid for multi-label models.

    Example:
        >>> model = "j-hartmann/emotion-english-distilroberta-base"
        >>> emo = TransformerEmotion(model)  # doctest: +SKIP
        >>> emo.labels  # doctest: +SKIP
        ('anger', 'disgust', 'fear', 'joy', 'neutral', 'sadness', 'surprise')
    """

    def __init__(self, model: str, batch_size: int = 32, max_length: int = 128) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from hateproto.models.backbone import resolve_model_reference

        path, _ = resolve_model_reference(model)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.model = AutoModelForSequenceClassification.from_pretrained(path).eval()
        except (OSError, ValueError) as exc:
            raise ModelError(f"could not load emotion model {model!r}: {exc}") from None
        self.model_ref = model
        self.batch_size = batch_size
        self.max_length = max_length
        id2label = self.model.config.id2label
        self.labels = tuple(str(id2label[i]).lower() for i in range(len(id2label)))
        self.multi_label = self.model.config.problem_type == "multi_label_classification"

    @torch.inference_mode()
    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Per-label probabilities ``[N, labels]``."""
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = self.tokenizer(
                list(texts[start : start + self.batch_size]),
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
            logits = self.model(**batch).logits.float()
            probs = logits.sigmoid() if self.multi_label else logits.softmax(-1)
            out.append(probs.numpy())
        return np.concatenate(out).astype(np.float32)

    def spec(self) -> dict[str, Any]:
        """``{"kind": "transformer", "model": ...}``."""
        return {"kind": "transformer", "model": self.model_ref, "max_length": self.max_length}


def load_emotion_features(spec: str | dict[str, Any]) -> EmotionFeatures:
    """Build a featurizer from a spec: ``"nrc"``, ``{"kind": "nrc"}``, or
    ``{"kind": "transformer", "model": "<HF id or folder>"}`` (a bare model reference also
    works as a string).

    Example:
        >>> load_emotion_features("nrc").dim
        10
    """
    if isinstance(spec, str):
        spec = {"kind": "nrc"} if spec == "nrc" else {"kind": "transformer", "model": spec}
    kind = spec.get("kind")
    if kind == "nrc":
        return NrcEmotion()
    if kind == "transformer":
        if not spec.get("model"):
            raise ConfigError("a transformer emotion featurizer needs a 'model'")
        return TransformerEmotion(spec["model"], max_length=int(spec.get("max_length", 128)))
    raise ConfigError(f"unknown emotion features {kind!r}; use 'nrc' or 'transformer'")
