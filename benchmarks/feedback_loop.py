"""The feedback loop on a simulated community policy: does labelling the review queue's posts
(closest to the threshold first) teach a detector more than labelling random posts?

The community's policy is OLID's "offensive" (subtask A: OFF = 1, NOT = 0); the starting
point is a general detector (the quickstart one). Per seed:

1. a pool of ``--pool`` posts is drawn from OLID's train split and scored by the detector;
2. every pool post is queued in a fresh feedback database (``QueuePolicy(band=1)``: all
   of them, ordered by distance to the threshold, as ``serve`` orders its queue);
3. ``queue``: a simulated moderator takes ``--labels`` posts through
   :meth:`FeedbackStore.next_post` and labels each with OLID's gold label
   (:meth:`FeedbackStore.add_label`); ``random``: the same number of pool posts drawn at
   random, labelled the same way in a second database; ``mixed``: half through the queue,
   half drawn at random from the rest of the pool (what ``serve``'s policy of a band plus a
   random sample approaches), in a third;
4. each labelled set is read back with :func:`labelled_examples` (what
   ``detector adapt --from-feedback`` reads) and adapted with
   :func:`hateproto.detector.adapt.adapt_detector` (``--mode add`` and ``replace``,
   weight 1);
5. OLID's test split (860 posts) is scored by the base detector as served and by each
   adapted one: macro-F1.

    HATEPROTO_DATA=../shared/datasets .venv/bin/python benchmarks/feedback_loop.py \
        --detector ~/.cache/hateproto/detectors/quickstart --seeds 0 1 2 \
        --out benchmarks/results/feedback-loop.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from hateproto.data import load_benchmark
from hateproto.data.types import LABEL_NAMES, LabeledTexts
from hateproto.detector import Detector
from hateproto.detector.adapt import ExampleSource, adapt_detector
from hateproto.evaluation import classification_metrics
from hateproto.feedback.export import labelled_examples
from hateproto.feedback.store import FeedbackStore, PostRecord
from hateproto.provenance import provenance


def macro_f1(detector: Detector, test: LabeledTexts) -> dict[str, float]:
    """Macro-F1 (and accuracy, PR-AUC) of ``detector`` on ``test``."""
    scores = detector.score_arrays(test.texts)
    metrics = classification_metrics(test.labels, scores.labels, scores.proba[:, 1])
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}


def fill_store(url: str, pool: LabeledTexts, proba: np.ndarray, threshold: float) -> FeedbackStore:
    """A fresh database with every pool post queued."""
    store = FeedbackStore.open(url)
    records = [
        PostRecord(text, float(p), threshold, "low_margin", "quickstart")
        for text, p in zip(pool.texts, proba, strict=True)
    ]
    store.add_posts(records)
    return store


def label_queue(store: FeedbackStore, gold: dict[str, int], n: int) -> list[int]:
    """A moderator labels the first ``n`` posts of the queue with the gold labels; the
    post ids in the order labelled."""
    taken = []
    for step in range(n):
        post = store.next_post("simulated")
        if post is None:
            break
        label = LABEL_NAMES[gold[post["text"]]]
        store.add_label(post["id"], label, "simulated", f"queue-{step}")
        taken.append(post["id"])
    return taken


def label_random(store: FeedbackStore, gold: dict[str, int], texts: list[str]) -> None:
    """A moderator labels ``texts`` (drawn at random) with the gold labels."""
    ids = store.post_ids(texts)
    for step, text in enumerate(texts):
        store.add_label(ids[text], LABEL_NAMES[gold[text]], "simulated", f"random-{step}")


def label_mixed(
    store: FeedbackStore, gold: dict[str, int], pool: LabeledTexts, n: int, rng: Any
) -> None:
    """Half of ``n`` through the queue, the other half at random from the rest."""
    taken = set(label_queue(store, gold, n // 2))
    ids = store.post_ids(pool.texts)
    rest = [t for t in pool.texts if ids[t] not in taken]
    chosen = rng.choice(len(rest), size=n - n // 2, replace=False)
    picked = [rest[i] for i in chosen]
    for step, text in enumerate(picked):
        store.add_label(ids[text], LABEL_NAMES[gold[text]], "simulated", f"mixed-{step}")


def adapted_scores(
    base: Detector, store: FeedbackStore, test: LabeledTexts, modes: list[str]
) -> dict[str, Any]:
    """The labelled set's make-up and the test metrics of each adapt mode."""
    data, _ = labelled_examples(store)
    out: dict[str, Any] = {
        "labels": len(data),
        "hate_share": round(float(data.labels.mean()), 4),
    }
    for mode in modes:
        detector = adapt_detector(base, [ExampleSource(data)], mode)
        out[mode] = macro_f1(detector, test)
    return out


def run_seed(base: Detector, seed: int, args: argparse.Namespace, test: LabeledTexts) -> dict:
    """One seed: pool draw, both labelling strategies, both adapt modes."""
    train = load_benchmark("olid", "train", data_dir=args.data_dir)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(train), size=min(args.pool, len(train)), replace=False)
    texts = list(dict.fromkeys(train.texts[i] for i in rows))
    gold = {train.texts[i]: int(train.labels[i]) for i in rows}
    pool = LabeledTexts(texts, np.asarray([gold[t] for t in texts]), "olid-pool")
    started = time.perf_counter()
    proba = base.score_arrays(pool.texts).proba[:, 1]
    scored_s = time.perf_counter() - started
    result: dict[str, Any] = {"seed": seed, "pool": len(pool), "pool_scored_s": round(scored_s, 1)}
    with tempfile.TemporaryDirectory() as tmp:
        queue = fill_store(f"sqlite:///{tmp}/queue.db", pool, proba, base.threshold)
        taken = label_queue(queue, gold, args.labels)
        distances = np.abs(proba - base.threshold)
        result["queue_max_distance"] = round(float(np.sort(distances)[len(taken) - 1]), 4)
        result["queue"] = adapted_scores(base, queue, test, args.modes)
        queue.close()
        chosen = rng.choice(len(pool), size=args.labels, replace=False)
        randomly = fill_store(f"sqlite:///{tmp}/random.db", pool, proba, base.threshold)
        label_random(randomly, gold, [pool.texts[i] for i in chosen])
        result["random"] = adapted_scores(base, randomly, test, args.modes)
        randomly.close()
        mixed = fill_store(f"sqlite:///{tmp}/mixed.db", pool, proba, base.threshold)
        label_mixed(mixed, gold, pool, args.labels, rng)
        result["mixed"] = adapted_scores(base, mixed, test, args.modes)
        mixed.close()
    print(json.dumps(result), flush=True)
    return result


def summary(runs: list[dict], modes: list[str]) -> dict[str, Any]:
    """Mean and standard deviation of test macro-F1 per strategy and mode, and the queue's
    gain over random per seed."""
    out: dict[str, Any] = {}
    for mode in modes:
        queue = np.array([r["queue"][mode]["macro_f1"] for r in runs])
        rand = np.array([r["random"][mode]["macro_f1"] for r in runs])
        mixed = np.array([r["mixed"][mode]["macro_f1"] for r in runs if "mixed" in r])
        out[mode] = {
            "queue_macro_f1_mean": round(float(queue.mean()), 4),
            "queue_macro_f1_std": round(float(queue.std()), 4),
            "random_macro_f1_mean": round(float(rand.mean()), 4),
            "random_macro_f1_std": round(float(rand.std()), 4),
            "queue_minus_random_per_seed": [round(float(d), 4) for d in queue - rand],
            "queue_wins": int((queue > rand).sum()),
            "seeds": len(runs),
        }
        if len(mixed) == len(runs):
            out[mode].update(
                mixed_macro_f1_mean=round(float(mixed.mean()), 4),
                mixed_macro_f1_std=round(float(mixed.std()), 4),
                mixed_minus_random_per_seed=[round(float(d), 4) for d in mixed - rand],
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", type=Path, required=True)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--pool", type=int, default=3000)
    parser.add_argument("--labels", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--modes", nargs="+", default=["add", "replace"])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    base = Detector.from_pretrained(args.detector)
    test = load_benchmark("olid", "test", data_dir=args.data_dir)
    served = macro_f1(base, test)
    print(json.dumps({"base_served": served}), flush=True)
    runs = [run_seed(base, seed, args, test) for seed in args.seeds]
    report = {
        "what": "OLID subtask A (offensive) as a community's policy; a general detector "
        "adapted (detector adapt's adapt_detector) with labels taken through the review "
        "queue (closest to the threshold first) vs the same number of random labels, and "
        "half of each (mixed)",
        "detector": str(args.detector),
        "detector_version": base.version,
        "threshold": base.threshold,
        "labels": args.labels,
        "pool": args.pool,
        "test": {"dataset": "olid", "split": "test", "n": len(test)},
        "base_served": served,
        "summary": summary(runs, args.modes),
        "runs": runs,
        "seconds": round(time.perf_counter() - started, 1),
        "provenance": provenance(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["summary"], indent=2))


if __name__ == "__main__":
    main()
