"""Extra per-post features for fusion classifiers (emotion vectors)."""

from hateproto.features.emotion import (
    NRC_EMOTIONS,
    EmotionFeatures,
    NrcEmotion,
    TransformerEmotion,
    load_emotion_features,
    nrc_lexicon,
)

__all__ = [
    "NRC_EMOTIONS",
    "EmotionFeatures",
    "NrcEmotion",
    "TransformerEmotion",
    "load_emotion_features",
    "nrc_lexicon",
]
