"""Attribute heads (TOXICITY, INSULT...) on the detector's own features: files, scoring in
one encoder pass, facts, and the proxy labels each attribute is trained on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tiny_detector import rehash, tiny_detector

from hateproto.data.attributes import ATTRIBUTE_DATA, DEFINITIONS, load_attribute
from hateproto.data.types import LabeledTexts
from hateproto.detector import Detector
from hateproto.detector.attributes import AttributeHeads, HeadRecord
from hateproto.detector.results import PERSPECTIVE_ATTRIBUTES
from hateproto.errors import DataError, ModelError
from hateproto.paths import default_data_dir

FIVE = ("TOXICITY", "SEVERE_TOXICITY", "INSULT", "PROFANITY", "THREAT")


def _with_heads(model_dir: Path) -> Detector:
    detector = tiny_detector(model_dir)
    width = detector.backbone.hidden_size * len(detector.prototypes.layers)
    detector.attribute_heads = AttributeHeads.untrained(FIVE, width, 0, "prototype_layers")
    return detector


def test_a_detector_with_heads_answers_all_six_in_perspectives_order(tiny_encoder_dir) -> None:
    detector = _with_heads(tiny_encoder_dir)
    assert detector.facts().attributes == PERSPECTIVE_ATTRIBUTES
    prediction = detector.predict_one("they are vermin")
    assert set(prediction.attributes) == set(FIVE)
    assert prediction.attribute("IDENTITY_ATTACK") == prediction.hate_probability
    assert all(0.0 <= prediction.attribute(name) <= 1.0 for name in FIVE)


def test_heads_survive_save_and_load_exactly(tiny_encoder_dir, tmp_path) -> None:
    detector = _with_heads(tiny_encoder_dir)
    texts = ["they are vermin", "good game today"]
    before = detector.score_arrays(texts).attributes
    folder = detector.save_pretrained(tmp_path / "d")
    manifest = json.loads((folder / "detector.json").read_text())
    assert manifest["attributes"] == "attributes.json"
    assert {"attributes.json", "attributes.safetensors"} <= set(manifest["files"])
    after = Detector.from_pretrained(folder).score_arrays(texts).attributes
    for name in FIVE:
        np.testing.assert_allclose(after[name], before[name], rtol=1e-6)
    assert "attributes" in Detector.from_pretrained(folder).info()


def test_a_damaged_heads_file_is_refused_in_one_line(tiny_encoder_dir, tmp_path) -> None:
    folder = _with_heads(tiny_encoder_dir).save_pretrained(tmp_path / "d")
    record = json.loads((folder / "attributes.json").read_text())
    record["heads"][0]["threshold"] = 7.0
    (folder / "attributes.json").write_text(json.dumps(record))
    rehash(folder)
    with pytest.raises(ModelError, match="attributes.json: not a valid attribute heads file"):
        Detector.from_pretrained(folder)


def test_heads_of_the_wrong_width_or_names_are_refused() -> None:
    good = AttributeHeads.untrained(("TOXICITY",), feature_size=4).tensors
    with pytest.raises(ModelError, match="does not fit 2 heads"):
        AttributeHeads([HeadRecord(name="TOXICITY"), HeadRecord(name="INSULT")], good)
    with pytest.raises(ModelError, match="not IDENTITY_ATTACK"):
        AttributeHeads([HeadRecord(name="IDENTITY_ATTACK")], good)
    with pytest.raises(ModelError, match="finite"):
        AttributeHeads([HeadRecord(name="TOXICITY")], {**good, "out.bias": np.array([np.nan])})
    heads = AttributeHeads([HeadRecord(name="TOXICITY")], good)
    with pytest.raises(ModelError, match="4 features"):
        heads.probabilities(np.zeros((1, 5)))


def test_a_stored_head_scores_exactly_what_the_trained_head_scores() -> None:
    """The stored head gives the trained MLPHead's hate-minus-not logit, and folding the group
    directions into its first layer equals projecting them out of the features."""
    import torch

    from hateproto.detector.attribute_fit import two_layer_tensors
    from hateproto.training.consistency import project_out
    from hateproto.training.heads import build_head

    torch.manual_seed(0)
    head = build_head("mlp", 6, hidden_size=5).eval()
    x = np.random.default_rng(0).normal(size=(64, 6)).astype(np.float32)
    tensors = two_layer_tensors(head)
    heads = AttributeHeads([HeadRecord(name="T")], {k: v[None] for k, v in tensors.items()})
    with torch.no_grad():
        logits = head(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(heads.score(x, 0), logits[:, 1] - logits[:, 0], atol=1e-5)
    basis = np.linalg.qr(np.random.default_rng(1).normal(size=(6, 2)))[0].T
    folded = {**tensors, "dense.weight": project_out(tensors["dense.weight"], basis)}
    folded_heads = AttributeHeads([HeadRecord(name="T")], {k: v[None] for k, v in folded.items()})
    projected = project_out(x, basis).astype(np.float32)
    np.testing.assert_allclose(folded_heads.score(x, 0), heads.score(projected, 0), atol=1e-4)


def test_the_head_path_scores_attributes_in_the_same_encoder_pass(
    tiny_encoder_dir, tmp_path
) -> None:
    """A classifier-head detector encodes each text once for the decision and every
    attribute (the pooled features are shared)."""
    from tiny_detector import tiny_train

    from hateproto.training import HateClassifier, TrainingConfig

    config = TrainingConfig(backbone=str(tiny_encoder_dir), mode="probe", pool_layers=[1, 2, 3])
    classifier = HateClassifier.from_config(config)
    data = tiny_train()
    detector = Detector(classifier.backbone, classifier=classifier)
    detector.attribute_heads = AttributeHeads.untrained(FIVE, classifier.feature_size)
    calls = []
    original = classifier.encode
    classifier.encode = lambda texts, *a, **k: calls.append(len(texts)) or original(texts, *a, **k)
    scores = detector.score_arrays(data.texts)
    assert calls == [len(data.texts)]
    assert set(scores.attributes) == set(FIVE)
    assert set(FIVE) <= set(scores.columns())


def _frame(categories: list[object], labels: list[int]) -> LabeledTexts:
    meta = pd.DataFrame({"category": categories, "target": [None] * len(labels)})
    return LabeledTexts([f"t{i}" for i in range(len(labels))], np.array(labels), "x", metadata=meta)


def test_olid_maps_to_insult_profanity_and_toxicity_as_documented() -> None:
    olid = _frame([None, "TIN/IND", "TIN/GRP", "UNT"], [0, 0, 1, 0])
    by_source = {a: {s.source: s for s in specs} for a, specs in ATTRIBUTE_DATA.items()}
    assert by_source["INSULT"]["olid"].relabel(olid).tolist() == [0, 1, 1, 0]
    assert by_source["PROFANITY"]["olid"].relabel(olid).tolist() == [0, -1, -1, 1]
    assert by_source["TOXICITY"]["olid"].relabel(olid).tolist() == [0, 1, 1, 1]
    assert by_source["SEVERE_TOXICITY"]["olid"].relabel(olid).tolist() == [0, 0, -1, 0]


def test_every_attribute_has_perspectives_definition_and_an_unknown_one_is_named() -> None:
    assert set(DEFINITIONS) == set(PERSPECTIVE_ATTRIBUTES)
    with pytest.raises(DataError, match="IDENTITY_ATTACK is the detector's hate probability"):
        load_attribute("IDENTITY_ATTACK")


@pytest.mark.skipif(default_data_dir() is None, reason="needs ../shared/datasets")
def test_attribute_splits_share_no_text_within_a_source() -> None:
    for attribute in ("INSULT", "THREAT", "PROFANITY"):
        splits = {s: load_attribute(attribute, s) for s in ("train", "test")}
        for source in set(splits["test"].metadata["source"]):
            seen = {
                s: {
                    t for t, src in zip(d.texts, d.metadata["source"], strict=True) if src == source
                }
                for s, d in splits.items()
            }
            assert not seen["train"] & seen["test"], (attribute, source)
        assert splits["test"].labels.sum() > 0
