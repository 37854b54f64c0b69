"""Emotion features: the NRC lexicon vector and the transformer-model featurizer."""

from __future__ import annotations

import numpy as np
import pytest

from hateproto.errors import ConfigError
from hateproto.features import NRC_EMOTIONS, NrcEmotion, TransformerEmotion, load_emotion_features


def test_nrc_vector_is_normalised_and_ordered():
    nrc = NrcEmotion()
    vectors = nrc.transform(["they are dirty vermin", "asdf qwer", "Kill KILL"])
    assert vectors.shape == (3, 10) and vectors.dtype == np.float32
    assert nrc.labels == NRC_EMOTIONS
    np.testing.assert_allclose(vectors.sum(axis=1), [1.0, 0.0, 1.0], atol=1e-6)
    disgust, joy = NRC_EMOTIONS.index("disgust"), NRC_EMOTIONS.index("joy")
    assert vectors[0, disgust] > 0 and vectors[0, joy] == 0


def test_nrc_crude_lemmas_find_inflected_words():
    words = NrcEmotion().emotion_words("criminals killed immigrants, the hated ones")
    assert {"criminals", "killed", "immigrants"} <= set(words)


def test_spec_roundtrip_and_errors():
    assert isinstance(load_emotion_features(NrcEmotion().spec()), NrcEmotion)
    with pytest.raises(ConfigError, match="unknown emotion"):
        load_emotion_features({"kind": "vibes"})


def test_transformer_emotion_model(tiny_encoder_dir, tmp_path):
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    config = BertConfig.from_pretrained(tiny_encoder_dir)
    config.id2label = {0: "Anger", 1: "Joy", 2: "Fear"}
    config.label2id = {v: k for k, v in config.id2label.items()}
    BertForSequenceClassification(config).save_pretrained(tmp_path / "emo")
    AutoTokenizer.from_pretrained(tiny_encoder_dir).save_pretrained(tmp_path / "emo")

    emo = load_emotion_features(str(tmp_path / "emo"))
    assert isinstance(emo, TransformerEmotion) and emo.labels == ("anger", "joy", "fear")
    vectors = emo.transform(["they are vermin", "welcome neighbours", "hi"])
    assert vectors.shape == (3, 3)
    np.testing.assert_allclose(vectors.sum(axis=1), 1.0, atol=1e-5)
    assert load_emotion_features(emo.spec()).labels == emo.labels
