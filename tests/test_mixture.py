"""Several sources at once: weights, de-duplication, leak-free splits, counterfactual copies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hateproto.data.augment import counterfactual_augment, swap_groups
from hateproto.data.groups import IDENTITY_TERMS, canonical_group, find_identity_terms
from hateproto.data.keys import normalise_text
from hateproto.data.keys import text_key as _key
from hateproto.data.mixture import load_mixture, parse_sources
from hateproto.data.types import LabeledTexts
from hateproto.errors import DataError


def _write(path: Path, rows: list[tuple[str, int]]) -> str:
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    return str(path)


def test_parse_sources_weights_and_errors(tmp_path: Path) -> None:
    sources = parse_sources("ihc, sbic:0.5 ,toxigen:2")
    assert [(s.name, s.weight) for s in sources] == [("ihc", 1.0), ("sbic", 0.5), ("toxigen", 2.0)]
    with pytest.raises(DataError, match="weight must be > 0"):
        parse_sources("ihc:0")
    with pytest.raises(DataError, match="given twice"):
        parse_sources("ihc,ihc:2")
    with pytest.raises(DataError, match="no data sources"):
        parse_sources(" , ")


def test_normalised_copies_compare_equal() -> None:
    assert normalise_text("@bob They ARE   here!! https://t.co/x") == "they are here"
    assert _key("They are here.") == _key("  they are HERE ")


def _posts(prefix: str, n: int) -> list[tuple[str, int]]:
    return [(f"{prefix} post number {i}", i % 2) for i in range(n)]


def test_user_files_never_share_a_text_across_splits(tmp_path: Path) -> None:
    shared = [("this exact text is in both files", 1)] * 3
    a = _write(tmp_path / "a.csv", _posts("alpha", 200) + shared)
    b = _write(tmp_path / "b.csv", _posts("beta", 200) + [("THIS exact text, is in both files", 1)])
    mixture = load_mixture(parse_sources([a, b]), seed=0)
    train = {_key(t) for t in mixture.train.texts}
    dev = {_key(t) for t in mixture.dev.texts}
    test = {_key(t) for data in mixture.tests.values() for t in data.texts}
    assert not train & dev and not train & test and not dev & test
    assert len(mixture.train.texts) == len(set(map(_key, mixture.train.texts)))  # no copies
    assert set(mixture.train.metadata["source"]) == {"a", "b"}


def test_weights_scale_a_source(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.csv", _posts("alpha", 300))
    b = _write(tmp_path / "b.csv", _posts("beta", 300))
    one = load_mixture(parse_sources([a, b]), seed=0)
    weighted = load_mixture(parse_sources([f"{a}:2", f"{b}:0.5"]), seed=0)
    count = lambda m, s: int((m.train.metadata["source"] == s).sum())  # noqa: E731
    assert count(weighted, "a") == 2 * count(one, "a")
    assert count(weighted, "b") == round(0.5 * count(one, "b"))


def test_conflicting_labels_are_dropped(tmp_path: Path) -> None:
    rows = _posts("alpha", 100) + [("same words", 0), ("Same words!", 1)] * 20
    mixture = load_mixture(parse_sources([_write(tmp_path / "a.csv", rows)]), seed=0)
    assert not any(normalise_text(t) == "same words" for t in mixture.train.texts)
    assert mixture.report["a"]["removed_conflicting_labels"] > 0


def test_canonical_groups_unify_benchmark_targets() -> None:
    assert canonical_group("African") == canonical_group("black people") == "black"
    assert canonical_group("homosexual") == canonical_group("lgbtq+") == "lgbtq"
    assert canonical_group("refugee") == "immigrant"
    assert canonical_group("non-white people") is None
    assert canonical_group(None) is None


def test_swapping_changes_the_group_and_keeps_the_rest() -> None:
    rng = np.random.default_rng(0)
    out = swap_groups("Muslims are welcome in our town", rng)
    assert out is not None and out.endswith(" are welcome in our town")
    assert [g for _, _, g in find_identity_terms(out)] != ["muslim"]
    assert swap_groups("nothing about anyone", rng) is None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(sorted(IDENTITY_TERMS)), min_size=1, max_size=3), st.integers(0, 9))
def test_every_named_group_is_replaced(groups: list[str], seed: int) -> None:
    text = " and ".join(IDENTITY_TERMS[g][0] for g in groups) + " live here"
    swapped = swap_groups(text, np.random.default_rng(seed))
    found = [g for _, _, g in find_identity_terms(swapped)]
    assert len(found) == len(groups)
    assert all(new != old for new, old in zip(found, groups, strict=True))


def test_augmentation_keeps_labels_and_marks_rows() -> None:
    data = LabeledTexts(
        ["muslims are lovely", "gay people are vermin", "the weather"], np.array([0, 1, 0])
    )
    out = counterfactual_augment(data, copies=2, seed=1)
    assert len(out) == 3 + 4
    assert out.labels.tolist() == [0, 1, 0, 0, 0, 1, 1]
    assert out.metadata["augmented"].tolist() == [False] * 3 + [True] * 4
    assert counterfactual_augment(data, copies=2, seed=1).texts == out.texts  # seeded


def _data_available() -> bool:
    from hateproto.paths import default_data_dir

    root = default_data_dir()
    return root is not None and (root / "olid").is_dir()


@pytest.mark.skipif(not _data_available(), reason="benchmark release files not present")
def test_general_protocol_relabels_from_the_release_annotations() -> None:
    from hateproto.data import load_benchmark
    from hateproto.data.general import load_general

    olid = load_general("olid", "test")
    levelc = pd.read_csv(
        Path(olid.notes["source_files"][0]).parent / "labels-levelc.csv", header=None
    )
    assert int(olid.labels.sum()) == int((levelc[1] == "GRP").sum())
    hatexplain = load_general("hatexplain", "test")
    original = load_benchmark("hatexplain", "test")
    offensive = int((original.metadata["category"] == "offensive").sum())
    assert len(hatexplain) == len(original) - offensive
    ihc = load_general("ihc", "test")
    explicit = ihc.metadata["category"] == "Explicit HS"
    assert explicit.sum() > 0 and ihc.labels[explicit.to_numpy()].all()  # explicit hate kept
