"""The general detector recipe (``hateproto detector build --recipe general``).

One detector meant to hold up on hate no benchmark here contains, built in one command:

1. **Data**: a mixture of all six benchmarks under the ``general`` protocol (one definition
   of hate; :mod:`hateproto.data.general`), weighted, de-duplicated, with train/dev/test
   splits that never share a text (:mod:`hateproto.data.mixture`). DynaHate brings adversarial
   and contrastive posts, ToxiGen benign statements about groups.
2. **Identity fairness in training**: group-swapped copies of every training post that names
   a group, with its label (:mod:`hateproto.data.augment`), so that naming a group stops
   predicting the label.
3. **Model**: ``probe`` (default): a logistic-regression head on the frozen model's features
   (``pool_layers``: several layers pooled, normalised and concatenated), its regularisation
   chosen on the dev split; or ``full``: fine-tuning (a stratified ``max_train_examples`` of
   the augmented mixture).
4. **Prototypes** of every layer from ``per_class`` training examples (explanations, early
   exit), **calibration** of the hate probability on dev, and the **decision threshold**
   (best dev macro-F1, or a target precision/recall).

Every choice is made on dev splits, never on test sets. The defaults are in
``configs/general.yaml`` inside the package; any field can be overridden.

Example:
    >>> recipe = GeneralRecipe(model="minilm")                   # doctest: +SKIP
    >>> detector = build_general_detector(recipe)                 # doctest: +SKIP
    >>> detector.save_pretrained("detectors/general")             # doctest: +SKIP
"""

from __future__ import annotations

import gc
import hashlib
import os
import random
import time
from collections.abc import Callable
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from hateproto.config import YamlConfig
from hateproto.data.augment import counterfactual_augment
from hateproto.data.mixture import Mixture, concat, load_mixture, parse_sources
from hateproto.data.multilingual_sources import source_language
from hateproto.data.spelling import normalizer, obfuscate
from hateproto.data.types import LabeledTexts
from hateproto.detector.build import build_detector
from hateproto.detector.calibration import (
    DetectorCalibration,
    ScoredSets,
    calibrate_detector,
    choose_language_thresholds,
    choose_other_languages_threshold,
    score_language_dev_sets,
)
from hateproto.detector.detector import Detector
from hateproto.detector.probe import (
    fit_mlp_head,
    fit_probe,
    load_probe_weights,
)
from hateproto.detector.settings import DetectorSettings
from hateproto.errors import ConfigError
from hateproto.paths import home_dir
from hateproto.training import HateClassifier, Trainer, TrainingConfig
from hateproto.training.consistency import group_subspace, group_swapped_twins
from hateproto.training.features import FeatureStore

Echo = Callable[[str], None]
AuditDev = Callable[[str], LabeledTexts | None]
"""Language code -> our audit's dev half in it as labelled texts, or ``None``."""

RECIPES = ("general", "quickstart", "ihc-paper", "perspective", "multilingual")
"""Recipes packaged in ``hateproto/configs`` (``<name>.yaml``): the general detector, the
README's main job (the general recipe on a stratified subsample sized to about five minutes
on 2 CPU cores), the HatePrototypes paper's IHC probe, and Perspective's six attributes (the
quickstart's hate head plus five attribute heads on the same features)."""


class GeneralRecipe(YamlConfig):
    """Settings of the general detector recipe (defaults: ``configs/general.yaml``)."""

    model: str = Field("minilm", description="alias, Hugging Face id or folder")
    data: str = Field(
        "ihc,olid,hatexplain,sbic:0.5,dynahate,toxigen:2,conan,davidson:0.3,contrast_pairs:4",
        description="sources with sampling weights (see hateproto.data.mixture)",
    )
    data_dir: str | None = None
    protocol: str = Field(
        "general", description="labels of benchmark sources: general or a paper's protocol"
    )
    mode: Literal["probe", "full"] = "probe"
    dtype: Literal["float32", "bfloat16"] = "bfloat16"
    counterfactual_copies: int = Field(
        1, ge=0, description="group-swapped copies per post (none when consistency_weight > 0)"
    )
    consistency_weight: float = Field(
        0.0,
        ge=0.0,
        description="full: group-swapped twins in the same batch, their logit margins pulled "
        "together with this weight (hateproto.training.consistency); replaces the copies",
    )
    normalize: Literal["none", "deobfuscate"] = Field(
        "deobfuscate", description="text normalisation for training and, recorded, at inference"
    )
    spelling_augment: float = Field(
        0.03, ge=0.0, le=1.0, description="share of training posts added again, obfuscated"
    )
    probe_head: Literal["logistic", "mlp"] = Field(
        "mlp",
        description="probe: logistic regression (C from regularization) or a two-layer head "
        "trained on the stored features (hateproto.training.feature_head)",
    )
    probe_hidden: int = Field(256, ge=1, description="probe_head mlp: hidden units")
    probe_epochs: int = Field(10, ge=1, description="probe_head mlp: epochs (best dev kept)")
    group_projection: int = Field(
        16,
        ge=0,
        description="probe: project out this many feature directions that change when only "
        "the named group changes (hateproto.training.consistency.group_subspace); 0 = off",
    )
    probe_max_train: int | None = Field(
        None,
        ge=2,
        description="probe: at most this many of the mixture's training posts, drawn in "
        "proportion from every source and label (before group-swapped copies and spelling "
        "augmentation); None: every post",
    )
    group_basis_posts: int = Field(
        3000,
        ge=1,
        description="group_projection: training posts naming a group drawn for each of the "
        "two twin draws that estimate the group directions",
    )
    regularization: list[float] = Field(
        default_factory=lambda: [0.3, 1.0, 3.0], description="probe: C values tried on dev"
    )
    epochs: int = Field(1, ge=1, description="full: epochs")
    learning_rate: float = Field(5e-5, gt=0, description="full: learning rate")
    max_train_examples: int | None = Field(40000, ge=2, description="full: stratified cap")
    max_length: int = Field(96, ge=8)
    pool_layers: list[int] | None = Field(
        default_factory=lambda: [1, 2, 3, 4, 5, 6],
        description="pool these layers (normalised, concatenated); None: the last layer only",
    )
    max_dev_per_source: int | None = Field(2000, ge=10, description="None: all dev rows")
    per_class: int = Field(500, ge=1, description="prototype examples per class")
    calibration: Literal["platt", "isotonic"] = "platt"
    target_precision: float | None = Field(None, gt=0, le=1)
    target_recall: float | None = Field(0.69, gt=0, le=1)
    language_thresholds: list[Annotated[str, Field(pattern="^[a-z]{2,3}$")]] = Field(
        default_factory=list,
        description="languages that get a decision threshold of their own, chosen on their "
        "dev sets (threshold_dev_sets) by the best mean macro-F1; the others keep the pooled one",
    )
    other_languages_threshold: bool = Field(
        False,
        description="give languages with no threshold of their own (and not in 'languages') "
        "the median of the per-language thresholds, if leaving each language out of that "
        "median in turn beats the pooled threshold on its dev sets; the validated languages "
        "without their own keep the pooled one",
    )
    threshold_dev_sets: list[Literal["sources", "audit"]] = Field(
        default_factory=lambda: ["sources", "audit"],
        description="the dev sets a language's threshold is chosen on: 'sources', the dev rows "
        "of each of its data sources; 'audit', the dev half of our functional audit in it",
    )
    attributes: list[Literal["TOXICITY", "SEVERE_TOXICITY", "INSULT", "PROFANITY", "THREAT"]] = (
        Field(
            default_factory=list,
            description="Perspective attributes to add as heads on the same features "
            "(hateproto.data.attributes has their data; IDENTITY_ATTACK is the hate head)",
        )
    )
    attribute_max_per_source: int | None = Field(
        20000, ge=10, description="attributes: at most this many posts per source and split"
    )
    attribute_repeats: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict,
        description="attributes: copies of each training post of these sources (default: "
        "hateproto.data.attributes, x4 for our generated pairs)",
    )
    languages: list[Annotated[str, Field(pattern="^[a-z]{2,3}$")]] = Field(
        default_factory=lambda: ["en"],
        min_length=1,
        description="the languages the detector is built and validated for (ISO 639-1): the "
        "service answers these and refuses others; attribute heads learn from the sources "
        "in these languages; every source of `data` must be in one of them",
    )
    seed: int = 0

    @model_validator(mode="after")
    def _sources_in_languages(self) -> GeneralRecipe:
        """Every named source of ``data`` is in one of ``languages`` (a German source in a
        detector declared English-only would be served to no German speaker)."""
        for source in parse_sources(self.data):
            language = source_language(source.name)
            if not source.is_file and language not in self.languages:
                raise ValueError(
                    f"data source {source.name!r} is in language {language!r}, which is not "
                    f"among languages {self.languages}; add it to languages"
                )
        return self

    @classmethod
    def default(
        cls, name: str = "general", overrides_from: str | None = None, **overrides: Any
    ) -> GeneralRecipe:
        """The packaged recipe ``configs/<name>.yaml`` with ``overrides`` applied (read from
        the file ``overrides_from``, which errors then name)."""
        if name not in RECIPES:
            raise ConfigError(f"unknown recipe {name!r}; known: {', '.join(RECIPES)}")
        text = resources.files("hateproto.configs").joinpath(f"{name}.yaml").read_text()
        import yaml

        source = f"{name}.yaml" if overrides_from is None else f"{overrides_from} (on {name}.yaml)"
        return cls.from_dict({**yaml.safe_load(text), **overrides}, source=source)

    def key(self) -> str:
        """A short hash of the settings that determine the trained model, and of the content
        (not the path) of every data file among its sources."""
        fields = self.model_dump(
            exclude={
                "target_precision",
                "target_recall",
                "calibration",
                "language_thresholds",
                "other_languages_threshold",
                "threshold_dev_sets",
            }
        )
        files = [s.name for s in parse_sources(self.data) if s.is_file]
        fields["file_contents"] = [_file_digest(Path(name)) for name in files]
        return hashlib.sha256(repr(sorted(fields.items())).encode()).hexdigest()[:12]


def _file_digest(path: Path) -> str:
    """SHA-256 of a data file's bytes (``missing`` when it does not exist)."""
    if not path.is_file():
        return "missing"
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _training_config(recipe: GeneralRecipe) -> TrainingConfig:
    return TrainingConfig(
        backbone=recipe.model,
        mode=recipe.mode,
        head="mlp" if recipe.mode == "probe" and recipe.probe_head == "mlp" else "linear",
        mlp_hidden_size=recipe.probe_hidden,
        dtype=recipe.dtype,
        bf16=recipe.dtype == "bfloat16" and recipe.mode == "full",
        epochs=recipe.epochs,
        learning_rate=recipe.learning_rate,
        max_length=recipe.max_length,
        pool_layers=recipe.pool_layers,
        consistency_weight=recipe.consistency_weight if recipe.mode == "full" else 0.0,
        seed=recipe.seed,
        show_progress=False,
    )


def prepare_texts(data: LabeledTexts, recipe: GeneralRecipe, augment: bool) -> LabeledTexts:
    """``data`` as the recipe trains on it: with ``augment``, a share ``spelling_augment`` of
    its posts added again with one word obfuscated (:func:`hateproto.data.spelling.obfuscate`,
    same label); then every text normalised as the detector will normalise it."""
    if augment and recipe.spelling_augment > 0:
        rng = random.Random(recipe.seed)
        rows = sorted(rng.sample(range(len(data)), round(recipe.spelling_augment * len(data))))
        noisy = LabeledTexts(
            [obfuscate(data.texts[i], rng) for i in rows],
            data.labels[rows],
            data.name,
            data.protocol,
            data.split,
            data.metadata.iloc[rows] if len(data.metadata) else pd.DataFrame(),
        )
        data = concat([data, noisy], data.name, data.split)
    prepare = normalizer(recipe.normalize)
    return replace(data, texts=[prepare(text) for text in data.texts])


def group_basis(store: FeatureStore, train: LabeledTexts, recipe: GeneralRecipe) -> np.ndarray:
    """The ``group_projection`` feature directions of group identity, from up to
    ``group_basis_posts`` training posts that name a group and their group-swapped twins, in
    each of two draws (6,000 pairs by default)."""
    prepare = normalizer(recipe.normalize)
    texts, twins = [], []
    for draw in range(2):
        swapped = group_swapped_twins(train.texts, recipe.seed + draw)
        pairs = [(t, s) for t, s in zip(train.texts, swapped, strict=True) if s is not None]
        rng = random.Random(recipe.seed + draw)
        for text, twin in rng.sample(pairs, min(recipe.group_basis_posts, len(pairs))):
            texts.append(prepare(text))
            twins.append(prepare(twin))
    return group_subspace(store.vectors(texts), store.vectors(twins), recipe.group_projection)


def stratified_cap(data: LabeledTexts, n: int | None, seed: int = 0) -> LabeledTexts:
    """At most ``n`` rows of ``data``, drawn in proportion from every (source, label) stratum
    (largest-remainder rounding; the ``source`` metadata column, one stratum when absent), so
    the subsample keeps the mixture's weights and each source's label balance. ``data``
    itself when ``n`` is ``None`` or not smaller than it."""
    from hateproto.data.mixture import select_rows
    from hateproto.data.sampling import stratified_indices

    if n is None or n >= len(data):
        return data
    sources = (
        data.metadata["source"].astype(str).tolist()
        if "source" in data.metadata
        else [""] * len(data)
    )
    labels = data.labels.tolist()
    strata = [f"{source}\t{label}" for source, label in zip(sources, labels, strict=True)]
    codes = np.unique(np.asarray(strata), return_inverse=True)[1]
    capped = select_rows(data, stratified_indices(codes, n, seed))
    capped.notes.update(subsampled_from=len(data), subsample_seed=seed)
    return capped


def train_general_model(
    recipe: GeneralRecipe, mixture: Mixture, echo: Echo = print
) -> tuple[HateClassifier, dict[str, Any]]:
    """The recipe's classifier, trained on the (augmented) mixture; returns it and facts."""
    config = _training_config(recipe)
    classifier = HateClassifier.from_config(config)
    copies = 0 if config.consistency_weight > 0 else recipe.counterfactual_copies
    posts = mixture.train
    if recipe.mode == "probe":
        posts = stratified_cap(posts, recipe.probe_max_train, recipe.seed)
    train = counterfactual_augment(posts, copies, recipe.seed)
    train = prepare_texts(train, recipe, augment=True)
    dev = prepare_texts(mixture.dev, recipe, augment=False)
    start = time.perf_counter()
    facts: dict[str, Any] = {
        "n_train": len(train),
        "n_dev": len(mixture.dev),
        "n_train_posts": len(posts),
        "n_train_posts_available": len(mixture.train),
    }
    if recipe.mode == "probe":
        store = FeatureStore(classifier)
        echo(f"encoding {len(train):,} training and {len(mixture.dev):,} dev posts")
        basis = group_basis(store, posts, recipe) if recipe.group_projection else None
        facts["group_projection"] = 0 if basis is None else len(basis)
        if recipe.probe_head == "mlp":
            x_train, x_dev = store.vectors(train.texts), store.vectors(dev.texts)
            del store  # its copy of every vector is not needed to train: free it first
            facts.update(
                fit_mlp_head(classifier, x_train, train.labels, x_dev, dev.labels, recipe, basis)
            )
        else:
            model, per_c = fit_probe(store, train, dev, recipe.regularization, recipe.seed, basis)
            load_probe_weights(classifier, model)
            facts.update(dev_macro_f1_per_C=per_c, chosen_C=float(model.C))
    else:
        if recipe.max_train_examples is not None and len(train) > recipe.max_train_examples:
            from hateproto.training.data import stratified_subsample

            train = stratified_subsample(train, recipe.max_train_examples, recipe.seed)
        result = Trainer(config).fit(classifier, train, dev)
        facts.update(best_epoch=result.best_epoch, dev_metrics=result.dev_metrics)
    facts["train_seconds"] = time.perf_counter() - start
    classifier.run_info = {"recipe": recipe.model_dump(mode="json"), **facts}
    return classifier, facts


def build_general_detector(
    recipe: GeneralRecipe,
    checkpoint: str | Path | None = None,
    echo: Echo = print,
    audit_dev: AuditDev | None = None,
) -> Detector:
    """Run the whole recipe (or reuse a trained ``checkpoint``) and return the detector.
    ``audit_dev`` gives per-language thresholds our audit's dev halves
    (:func:`language_dev_sets`)."""
    sources = parse_sources(recipe.data)
    echo(f"loading {', '.join(f'{s.name} (x{s.weight:g})' for s in sources)}")
    mixture = load_mixture(
        sources,
        recipe.data_dir,
        recipe.seed,
        recipe.max_dev_per_source,
        protocol=recipe.protocol,
    )
    # what the build needs: the (capped) training posts, dev and the report; the test splits
    # and the posts beyond the cap are let go before the model's memory is needed
    train = mixture.train
    if recipe.mode == "probe":
        train = stratified_cap(train, recipe.probe_max_train, recipe.seed)
    available = len(mixture.train)
    mixture = Mixture(train, mixture.dev, {}, mixture.report)
    gc.collect()
    facts: dict[str, Any] = {}
    if checkpoint is None:
        classifier, facts = train_general_model(recipe, mixture, echo)
        facts["n_train_posts_available"] = available
        # a new folder per build: a rebuild never changes what an older detector reads
        stamp = time.strftime("%Y%m%d-%H%M%S")
        checkpoint = home_dir() / "checkpoints" / f"recipe-{recipe.key()}-{stamp}-{os.getpid()}"
        classifier.save_pretrained(checkpoint)
        echo(f"model saved to {checkpoint}")
    settings = DetectorSettings(
        dtype=recipe.dtype, max_length=recipe.max_length, normalize=recipe.normalize
    )
    echo(f"prototypes from {recipe.per_class} training posts per class, every layer")
    detector = build_detector(
        str(checkpoint),
        prepare_texts(mixture.train, recipe, augment=False),
        per_class=recipe.per_class,
        seed=recipe.seed,
        decision_layer=None,
        settings=settings,
    )
    echo(f"calibrating on {len(mixture.dev):,} dev posts ({recipe.calibration})")
    detector.calibration = calibrate_detector(
        detector, mixture.dev, recipe.calibration, recipe.target_precision, recipe.target_recall
    )
    if recipe.language_thresholds:
        calibration = detector.calibration
        scored = score_language_dev_sets(
            detector, language_dev_sets(recipe, mixture.dev, audit_dev)
        )
        chosen = choose_language_thresholds(scored, calibration.threshold)
        calibration.language_thresholds = {
            code: facts["threshold"] for code, facts in chosen.items()
        }
        calibration.dev["language_threshold_choice"] = chosen
        for code, facts in chosen.items():
            echo(
                f"threshold for {code}: {facts['threshold']:.3f} (mean dev macro-F1 "
                f"{facts['dev_mean_macro_f1']:.3f}; at the pooled threshold "
                f"{facts['dev_mean_macro_f1_at_pooled_threshold']:.3f})"
            )
        if recipe.other_languages_threshold:
            adopt_other_languages_threshold(calibration, recipe, scored, chosen, echo)
    if recipe.attributes:
        detector.attribute_heads = attribute_heads(detector, mixture.train, recipe, echo)
    detector.metadata.update(
        languages=list(recipe.languages),
        recipe=recipe.model_dump(mode="json"),
        training=facts,
        mixture=mixture.report,
    )
    return detector


def adopt_other_languages_threshold(
    calibration: DetectorCalibration,
    recipe: GeneralRecipe,
    scored: ScoredSets,
    chosen: dict[str, dict[str, Any]],
    echo: Echo,
) -> None:
    """Choose (:func:`choose_other_languages_threshold`, on the ``scored`` dev sets) and,
    where it passes its check, set the threshold for languages outside ``recipe.languages``;
    the validated languages with no threshold of their own are then listed at the pooled
    threshold."""
    choice = choose_other_languages_threshold(scored, chosen, calibration.threshold)
    if choice is None:
        return
    calibration.dev["other_languages_threshold_choice"] = choice
    verdict = "adopted" if choice["adopted"] else "not adopted"
    echo(
        f"threshold for other languages: {choice['threshold']:.3f}, {verdict} (mean dev "
        f"macro-F1 gain leaving each language out: "
        f"{choice['mean_gain_leaving_one_language_out']:+.3f})"
    )
    if choice["adopted"]:
        calibration.other_languages_threshold = choice["threshold"]
        for code in recipe.languages:
            calibration.language_thresholds.setdefault(code, calibration.threshold)


def language_dev_sets(
    recipe: GeneralRecipe, dev: LabeledTexts, audit_dev: AuditDev | None = None
) -> dict[str, list[LabeledTexts]]:
    """The dev sets each of ``recipe.language_thresholds`` is chosen on: the dev rows of each
    data source in that language, and our audit's dev half in it where the audit has it.

    ``audit_dev``: language code -> our audit's dev half in it (``None`` where there is no
    audit in that language), e.g. :func:`hateproto.audit.audit_dev_texts`. The audit is a
    layer above this module, so the caller passes it in (the CLI does); a recipe whose
    ``threshold_dev_sets`` names ``audit`` without it is refused."""
    meta = dev.metadata
    sources = np.asarray(meta["source"]) if "source" in meta else np.array([], dtype=object)
    sets: dict[str, list[LabeledTexts]] = {code: [] for code in recipe.language_thresholds}
    if "sources" in recipe.threshold_dev_sets:
        for source in parse_sources(recipe.data):
            language = Path(source.name).stem if source.is_file else source.name
            code = source_language(source.name)
            rows = np.flatnonzero(sources == language)
            if code in sets and len(rows):
                sets[code].append(replace(dev.subset(rows), name=language))
    if "audit" in recipe.threshold_dev_sets and sets:
        if audit_dev is None:
            raise ConfigError(
                "threshold_dev_sets names 'audit', but no audit dev halves were given "
                "(audit_dev=hateproto.audit.audit_dev_texts); or drop 'audit' from it"
            )
        for code in sets:
            half = audit_dev(code)
            if half is not None:
                sets[code].append(half)
    return sets


def attribute_heads(
    detector: Detector, posts: LabeledTexts, recipe: GeneralRecipe, echo: Echo = print
) -> Any:
    """The recipe's ``attributes`` as heads on ``detector``'s classifier features
    (:func:`hateproto.detector.attribute_fit.fit_attribute_heads`), with the same group
    directions projected out as the hate head (from the training ``posts``)."""
    from hateproto.detector.attribute_fit import fit_attribute_heads

    if detector.classifier is None:
        raise ConfigError("attributes need a classifier head (mode probe or full)")
    store = FeatureStore(detector.classifier)
    basis = group_basis(store, posts, recipe) if recipe.group_projection else None
    echo(f"attribute heads: {', '.join(recipe.attributes)}")
    return fit_attribute_heads(
        store.vectors,
        recipe.attributes,
        recipe.data_dir,
        basis,
        hidden=recipe.probe_hidden,
        epochs=recipe.probe_epochs,
        max_per_source=recipe.attribute_max_per_source,
        counterfactual_copies=recipe.counterfactual_copies,
        repeats=recipe.attribute_repeats or None,
        prepare=normalizer(recipe.normalize),
        seed=recipe.seed,
        echo=echo,
        languages=tuple(recipe.languages),
    )
