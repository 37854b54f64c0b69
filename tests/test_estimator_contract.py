"""One estimator contract (issue 15): PrototypeClassifier, HateClassifier, EarlyExitClassifier.

Each: ``clone`` keeps ``get_params``, ``check_is_fitted`` before and after ``fit(X, y)``,
``predict`` / ``predict_proba`` / ``classes_``, a save/load round trip, and the old call forms
still working with a DeprecationWarning; plus one GridSearchCV.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted

from hateproto.data import LabeledTexts
from hateproto.early_exit import EarlyExitClassifier, FixedLayerPolicy, PrototypeScorer
from hateproto.models import Backbone
from hateproto.prototypes import PrototypeClassifier
from hateproto.training import HateClassifier, TrainingConfig

HATEFUL = "they are vermin dirty criminals evil lazy hate go back home out".split()
KIND = "welcome neighbours friends kind good love respect equal rights community".split()


def _data(n: int, seed: int) -> tuple[list[str], list[int]]:
    rng = np.random.default_rng(seed)
    labels = [int(v) for v in np.arange(n) % 2]
    texts = [" ".join(rng.choice(HATEFUL if y else KIND, size=rng.integers(3, 7))) for y in labels]
    return texts, labels


X, Y = _data(20, seed=0)


@pytest.fixture(scope="module")
def model_ref(tiny_encoder_dir: Path) -> str:
    return str(tiny_encoder_dir)


@pytest.fixture(scope="module")
def encoder(model_ref: str) -> Backbone:
    return Backbone.load(model_ref)


def _check_fit_predict(est, texts: list[str], labels: list[int]):  # noqa: ANN202
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    assert est.fit(texts, labels) is est
    check_is_fitted(est)
    assert est.classes_.tolist() == [0, 1]
    proba = est.predict_proba(texts)
    assert proba.shape == (len(texts), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    predicted = est.predict(texts)
    assert predicted.shape == (len(texts),) and set(predicted.tolist()) <= {0, 1}
    return proba


# ---------------------------------------------------------------------- PrototypeClassifier
def test_prototypes_contract(model_ref: str, tmp_path: Path) -> None:
    est = PrototypeClassifier(model=model_ref, layers="all", temperature=0.1, per_class=6)
    assert est.get_params()["layers"] == "all" and est.get_params()["model"] == model_ref
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    proba = _check_fit_predict(est, X, Y)
    assert est.layers == [1, 2, 3] and est.n_per_class_ == {0: 6, 1: 6}
    est.save_pretrained(tmp_path / "protos")
    loaded = PrototypeClassifier.from_pretrained(tmp_path / "protos")
    check_is_fitted(loaded)
    np.testing.assert_allclose(loaded.predict_proba(X), proba, atol=1e-6)
    assert clone(loaded).get_params() == loaded.get_params()


def test_prototypes_live_backbone_clone_and_set_params(encoder: Backbone) -> None:
    est = PrototypeClassifier(encoder, layers=[1, 3])
    twin = clone(est)
    assert isinstance(twin.model, Backbone) and twin.model is not encoder
    assert twin.get_params().keys() == est.get_params().keys()
    assert twin.get_params()["layers"] == [1, 3]
    np.testing.assert_allclose(
        twin.fit(X, Y).predict_proba(X), est.fit(X, Y).predict_proba(X), atol=1e-6
    )
    est.set_params(layers="last", temperature=0.5)
    assert est.get_params()["layers"] == "last" and est.layers == [3]
    assert est.temperature == 0.5


def test_prototypes_old_fit_form_warns(encoder: Backbone) -> None:
    with pytest.warns(DeprecationWarning, match=r"PrototypeClassifier\(model, per_class"):
        old = PrototypeClassifier(encoder).fit(X, Y, per_class=3, seed=1)
    new = PrototypeClassifier(encoder, per_class=3, seed=1).fit(X, Y)
    assert old.n_per_class_ == new.n_per_class_ == {0: 3, 1: 3}
    np.testing.assert_allclose(old.prototypes_, new.prototypes_)


def test_prototypes_grid_search(model_ref: str) -> None:
    search = GridSearchCV(
        PrototypeClassifier(model=model_ref, temperature=0.1),
        {"layers": [[1], [3]]},
        cv=2,
    )
    search.fit(X, Y)
    assert search.best_params_["layers"] in ([1], [3])
    assert search.predict(X[:3]).shape == (3,)


# ---------------------------------------------------------------------- HateClassifier
def _config(model_ref: str) -> TrainingConfig:
    return TrainingConfig(
        backbone=model_ref,
        mode="probe",
        epochs=2,
        batch_size=8,
        eval_batch_size=16,
        learning_rate=1e-2,
        max_length=32,
        show_progress=False,
    )


def test_hate_classifier_contract(model_ref: str, tmp_path: Path) -> None:
    dev = (X[:8], Y[:8])
    est = HateClassifier(_config(model_ref), dev=dev)
    with pytest.raises(Exception, match="no model yet"):
        est.predict_proba(X)
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    assert twin.config is not est.config and twin.config == est.config
    proba = _check_fit_predict(est, X, Y)
    assert len(est.history) == 2 and est.dev_metrics["epoch"] in (1, 2)
    est.save_pretrained(tmp_path / "ckpt")
    loaded = HateClassifier.from_pretrained(tmp_path / "ckpt")
    check_is_fitted(loaded)
    np.testing.assert_allclose(loaded.predict_proba(X), proba, atol=1e-6)
    assert clone(loaded).get_params()["config"] == loaded.config


def test_hate_classifier_old_fit_form_warns(model_ref: str) -> None:
    cfg = _config(model_ref)
    train = LabeledTexts(X, np.array(Y), name="toy")
    with pytest.warns(DeprecationWarning, match=r"HateClassifier\(config, dev=dev\)"):
        old = HateClassifier.from_config(cfg).fit(train, train)
    new = HateClassifier(cfg, dev=train).fit(X, Y)
    np.testing.assert_allclose(old.predict_proba(X), new.predict_proba(X), atol=1e-6)
    assert HateClassifier().get_params()["config"] is None  # as given; .config is the default
    assert HateClassifier().config == TrainingConfig()


# ---------------------------------------------------------------------- EarlyExitClassifier
def test_early_exit_contract(model_ref: str, tmp_path: Path) -> None:
    est = EarlyExitClassifier(model=model_ref, delta=0.02, batch_size=4, per_class=8)
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    proba = _check_fit_predict(est, X, Y)
    exits = est.exit_layers(X)
    assert ((exits >= 1) & (exits <= 3)).all()
    est.save_pretrained(tmp_path / "exits")
    loaded = EarlyExitClassifier.from_pretrained(tmp_path / "exits")
    check_is_fitted(loaded)
    np.testing.assert_allclose(loaded.predict_proba(X), proba, atol=1e-6)
    assert (loaded.exit_layers(X) == exits).all()


def test_early_exit_old_forms_still_work(encoder: Backbone) -> None:
    protos = PrototypeClassifier(encoder, batch_size=4).fit(X, Y)
    from_protos = EarlyExitClassifier.from_prototypes(protos, delta=0.02)
    check_is_fitted(from_protos)
    policy = FixedLayerPolicy(PrototypeScorer(protos), 2, encoder.num_layers)
    given = EarlyExitClassifier(encoder, policy, batch_size=4)
    check_is_fitted(given)  # a given policy needs no fitting
    assert (given.exit_layers(X) == 2).all()
    assert given.predict_proba(X).shape == (len(X), 2)
    with pytest.raises(Exception, match="leave policy=None"):
        given.fit(X, Y)
