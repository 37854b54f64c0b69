"""Issue 23's data: CONAN and Davidson loaders (leak-free splits), the minimal-pair generator
(disjoint from the audit), the spelling normaliser, and group-consistency training."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from hateproto.audit import build_suite
from hateproto.audit.templates_contrast import CONTRAST_TEMPLATES
from hateproto.audit.templates_hate import FILLERS as AUDIT_FILLERS
from hateproto.audit.templates_hate import HATE_TEMPLATES
from hateproto.data import LabeledTexts
from hateproto.data.contrast_pairs import FILLERS, TEMPLATES, generate_contrast_pairs
from hateproto.data.keys import normalise_text
from hateproto.data.mixture import load_mixture, parse_sources
from hateproto.data.spelling import deobfuscate, obfuscate
from hateproto.errors import DataError
from hateproto.training.consistency import consistency_penalty, group_swapped_twins

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
needs_data = pytest.mark.skipif(not (DATA / "conan").is_dir(), reason="no ../shared/datasets")


# ---------------------------------------------------------------- real contrast sources
@needs_data
@pytest.mark.parametrize("name", ["conan", "davidson"])
def test_contrast_sources_never_share_a_text_across_splits(name: str) -> None:
    from hateproto.data.contrast_sources import load_contrast_source

    keys = {s: {normalise_text(t) for t in load_contrast_source(name, s).texts} for s in
            ("train", "dev", "test")}  # fmt: skip
    assert all(len(k) > 100 for k in keys.values())
    assert not keys["train"] & keys["test"] and not keys["train"] & keys["dev"]
    assert not keys["dev"] & keys["test"]


@needs_data
def test_conan_labels_follow_the_role() -> None:
    from hateproto.data.contrast_sources import load_conan

    data = load_conan("dev")
    roles = data.metadata["role"].to_numpy()
    assert set(roles) == {"hate", "counter"}
    assert (data.labels == (roles == "hate")).all()
    counter = load_conan("test", roles=("counter",))
    assert counter.labels.sum() == 0 and len(counter) > 1000


@needs_data
def test_davidson_offensive_is_not_hate() -> None:
    from hateproto.data.contrast_sources import load_davidson

    data = load_davidson("train")
    category = data.metadata["category"].to_numpy()
    assert (data.labels[category == "offensive"] == 0).all()
    assert (data.labels[category == "hate"] == 1).all()


def test_an_unknown_source_name_is_an_error() -> None:
    with pytest.raises(DataError, match="unknown data source 'ihcc'"):
        load_mixture(parse_sources("ihcc"))


# ---------------------------------------------------------------- generated minimal pairs
def test_generated_pairs_are_deterministic_and_split_by_template() -> None:
    train = generate_contrast_pairs("train", per_template=5, seed=3)
    again = generate_contrast_pairs("train", per_template=5, seed=3)
    dev = generate_contrast_pairs("dev", per_template=5, seed=3)
    assert train.texts == again.texts
    assert not set(train.metadata["template"]) & set(dev.metadata["template"])
    assert len(generate_contrast_pairs("test")) == 0
    for kind, (label, _) in TEMPLATES.items():
        rows = train.metadata["kind"].to_numpy() == kind
        assert rows.any() and (train.labels[rows] == label).all(), kind


def test_every_group_gets_hateful_and_contrast_rows() -> None:
    data = generate_contrast_pairs("train")
    meta = data.metadata
    for kind in ("hate", "negated", "counter_quote", "positive"):
        groups = set(meta.loc[meta["kind"] == kind, "target"])
        assert len(groups) >= 10, kind


def _words(texts) -> set[str]:
    return {w for t in texts for w in re.findall(r"[a-z]+", t.lower())}


def test_generated_pairs_are_disjoint_from_the_audit() -> None:
    audit = {normalise_text(c.text) for c in build_suite("all")}
    generated = generate_contrast_pairs("train").texts + generate_contrast_pairs("dev").texts
    assert not audit & {normalise_text(t) for t in generated}
    # no filler word of ours is a filler of the audit's
    assert not _words(v for vs in FILLERS.values() for v in vs) & _words(
        v for vs in AUDIT_FILLERS.values() for v in vs
    )

    # no template shares a run of five words with an audit template
    def grams(template: str) -> set[tuple[str, ...]]:
        words = re.findall(r"[a-z']+", re.sub(r"\{[^}]*\}", " ", template.lower()))
        return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}

    audit_templates = [t for ts in (*HATE_TEMPLATES.values(), *CONTRAST_TEMPLATES.values())
                       for t in ts]  # fmt: skip
    ours = [t for _, ts in TEMPLATES.values() for t in ts]
    theirs = set().union(*(grams(t) for t in audit_templates))
    assert not set().union(*(grams(t) for t in ours)) & theirs


# ---------------------------------------------------------------- spelling
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("they are v3rm1n", "they are vermin"),
        ("k i l l them", "kill them"),
        ("wh@t a $hit day", "what a shit day"),
        ("sooooo bad", "soo bad"),
        ("a\u200bb\u00adc", "abc"),
        ("covid19 b4 2day 100%", "covid19 b4 2day 100%"),
        ("they are d4ng3r0u5 and d a n g e r o u s", "they are dangerous and dangerous"),
    ],
)
def test_deobfuscate(text: str, expected: str) -> None:
    assert deobfuscate(text) == expected


@given(st.lists(st.from_regex(r"[a-z]{2,8}", fullmatch=True), min_size=1, max_size=8))
def test_plain_words_are_left_alone(words: list[str]) -> None:
    text = " ".join(re.sub(r"(.)\1\1+", r"\1\1", w) for w in words)
    assert deobfuscate(text) == text


@given(st.integers(0, 10_000))
def test_obfuscation_disguises_one_word_and_deobfuscation_keeps_the_rest(seed: int) -> None:
    text = "immigrants are dangerous criminals"
    noisy = obfuscate(text, random.Random(seed))
    assert noisy != text
    cleaned = deobfuscate(noisy)
    changed = [w for w in text.split() if w not in cleaned.split()]
    assert len(changed) <= 2  # one word disguised (or run into its neighbour)


# ---------------------------------------------------------------- group consistency
def test_twins_swap_the_group_and_skip_posts_without_one() -> None:
    twins = group_swapped_twins(["muslims are here", "the weather"], seed=0)
    assert twins[1] is None and twins[0] is not None and "muslims" not in twins[0].lower()


def test_consistency_penalty_is_zero_only_for_equal_margins() -> None:
    a = torch.tensor([[0.0, 1.0], [2.0, 0.0]])
    assert float(consistency_penalty(a, a + 5.0)) == 0.0
    assert float(consistency_penalty(a, a.flip(1))) > 0.0


def test_consistency_training_pulls_twins_together(tiny_encoder_dir: Path) -> None:
    """Trained with a strong pairing weight, a post and its group-swapped twin score closer
    than without it (same data, seed and steps)."""
    from hateproto.training import HateClassifier, Trainer, TrainingConfig

    rng = np.random.default_rng(0)
    groups = rng.choice(["muslims", "women", "jews", "immigrants"], 96)
    words = rng.choice(["hate", "love", "vermin", "kind", "evil", "good"], 96)
    texts = [f"the {g} {w}" for g, w in zip(groups, words, strict=True)]
    labels = np.array([int("muslims" in t or "jews" in t) for t in texts])  # group = label
    data = LabeledTexts(texts, labels)
    gaps = {}
    for weight in (0.0, 10.0):
        cfg = TrainingConfig(backbone=str(tiny_encoder_dir), epochs=3, batch_size=16,
                             learning_rate=1e-3, max_length=16, show_progress=False,
                             consistency_weight=weight, seed=0)  # fmt: skip
        clf = HateClassifier.from_config(cfg)
        Trainer(cfg).fit(clf, data)
        probe = ["the muslims hate", "the women hate", "the jews love", "the immigrants love"]
        p = clf.predict_proba(probe)[:, 1]
        gaps[weight] = abs(p[0] - p[1]) + abs(p[2] - p[3])
    assert gaps[10.0] < gaps[0.0]


def test_the_recipe_key_follows_the_data_files_content(tmp_path: Path) -> None:
    from hateproto.detector.recipe import GeneralRecipe

    path = tmp_path / "posts.csv"
    path.write_text("text,label\nthey are vermin,1\nhello,0\n")
    recipe = GeneralRecipe(data=str(path))
    before = recipe.key()
    path.write_text("text,label\nthey are vermin,0\nhello,0\n")
    assert recipe.key() != before


def test_projected_probe_ignores_the_group_direction_and_keeps_its_head_linear() -> None:
    """Features = content + group direction: after projection, posts that differ only in
    the group get the same score, and the projected weights on raw features equal the
    weights fitted on projected features."""
    from sklearn.linear_model import LogisticRegression

    from hateproto.training.consistency import group_subspace, project_out

    rng = np.random.default_rng(0)
    content, groups = rng.normal(size=(400, 8)), rng.normal(size=(4, 8))
    group = rng.integers(0, 4, 400)
    labels = (content[:, 0] + 2.0 * (group == 0) > 0.5).astype(int)  # group 0 over-flagged
    x = content + groups[group]
    twin = content + groups[(group + 1) % 4]
    basis = group_subspace(x, twin, k=3)
    assert basis.shape == (3, 8)
    assert np.allclose(project_out(x - twin, basis), 0, atol=1e-5)
    top = np.linalg.svd(x - twin, full_matrices=False)[2][:3]  # the same subspace as the SVD's
    assert np.allclose(basis.T @ basis, top.T @ top, atol=1e-5)
    model = LogisticRegression().fit(project_out(x, basis), labels)
    raw_weights = project_out(model.coef_, basis)
    assert np.allclose(project_out(x, basis) @ model.coef_[0], x @ raw_weights[0], atol=1e-4)
    assert np.allclose(x @ raw_weights[0], twin @ raw_weights[0], atol=1e-4)
    unprojected = LogisticRegression().fit(x, labels).coef_[0]
    assert not np.allclose(x @ unprojected, twin @ unprojected, atol=1e-2)


@pytest.mark.parametrize("field", ["head", "label_names", "training_config"])
def test_a_checkpoint_with_a_field_of_the_wrong_type_is_one_clear_error(
    tmp_path: Path, field: str
) -> None:
    import json

    from hateproto.errors import ModelError
    from hateproto.training.checkpoint import CLASSIFIER_FILE, FORMAT_VERSION, read_classifier_meta

    meta = {"format_version": FORMAT_VERSION, "head": {"num_labels": 2}, "pooling": "mean",
            "label_names": ["not_hate", "hate"], "mode": "full", "training_config": {}}  # fmt: skip
    meta[field] = 5
    (tmp_path / CLASSIFIER_FILE).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="wrong type"):
        read_classifier_meta(tmp_path)
