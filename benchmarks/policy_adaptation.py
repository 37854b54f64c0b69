"""Policy adaptation: macro-F1 on a benchmark's test split against the number of a team's own
examples added to a general detector (``hateproto detector adapt``).

For each benchmark (HatePrototypes protocol), seed and size ``n`` (examples per class drawn
from the benchmark's train split; the draws are nested, so the 10 contain the 5), it scores
the test split with:

* ``base``: the base detector's prototypes at its decision layer (no team examples);
* ``served``: the base detector as ``hateproto serve`` runs it (its head, calibration and
  threshold), when that differs from ``base``;
* ``add-w<W>``: the team's examples added to the prototypes with weight ``W``
  (:func:`hateproto.detector.adapt.blend_prototypes`, what ``adapt --mode add`` computes);
  ``add-equal``: the weight that gives the team's examples the base prototypes' whole mass
  (``--weight class_mass / n``);
* ``replace``: the prototypes are the team's examples alone (``adapt --mode replace``);
* ``replace-kmeans``: ``k`` prototypes per class from the team's examples
  (:mod:`hateproto.prototypes.multi`), ``k`` in 1, 2, 4, 8 (at most ``n``) chosen on a
  stratified sample of the dev split.

Every text is encoded once at the decision layer; the adapted prototypes are computed from
those vectors exactly as ``adapt`` does, so no detector folder is written per condition.

    python benchmarks/policy_adaptation.py --base /root/dets/general \
        --out benchmarks/results/policy-adaptation.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from typing import Any

import numpy as np
import torch

from hateproto.data import load_benchmark
from hateproto.data.sampling import stratified_indices
from hateproto.detector import Detector
from hateproto.detector.adapt import blend_prototypes, class_directions
from hateproto.detector.policy import current_policy
from hateproto.evaluation import classification_metrics
from hateproto.prototypes.multi import choose_k
from hateproto.provenance import provenance

K_CANDIDATES = (1, 2, 4, 8)


def nested_draws(labels: np.ndarray, size: int, seed: int) -> dict[int, np.ndarray]:
    """Per class, a random order of its rows (first ``size``); prefixes give nested draws."""
    rng = np.random.default_rng(seed)
    return {c: rng.permutation(np.flatnonzero(labels == c))[:size] for c in (0, 1)}


def encode(detector: Detector, texts: list[str], layer: int) -> torch.Tensor:
    """Vectors ``[N, H]`` at ``layer`` with the detector's prototype settings."""
    protos = detector.prototypes
    assert protos is not None
    return detector.backbone.encode(
        texts,
        layers=[layer],
        pooling=protos.pooling,
        layer_norm=protos.layer_norm,
        batch_size=detector.settings.batch_size,
        max_length=detector.max_length,
        show_progress=False,
    )[:, 0]


def macro_f1(labels: np.ndarray, predicted: np.ndarray) -> float:
    return round(float(classification_metrics(labels, predicted)["macro_f1"]), 4)


def prototype_predict(prototypes: torch.Tensor, classes: np.ndarray, vectors: torch.Tensor):
    """Class of the most cosine-similar prototype (``prototypes`` ``[C, H]``)."""
    unit = torch.nn.functional.normalize(vectors.double(), dim=-1)
    return classes[(unit @ prototypes.double().T).argmax(dim=1).numpy()]


def adapted(
    base: torch.Tensor,
    mass: dict[int, float],
    classes: list[int],
    vectors: torch.Tensor,
    labels: np.ndarray,
    weight: float | None,
) -> torch.Tensor:
    """Prototypes ``[C, H]`` after adding (``weight``) or replacing with (``None``) examples."""
    directions = class_directions(vectors[:, None], labels)
    counts = {int(c): float((labels == c).sum()) * (weight or 1.0) for c in classes}
    current = None if weight is None else base[None]
    new, _ = blend_prototypes(current, mass, [(directions, counts)], classes)
    return new[0]


def run_benchmark(detector: Detector, name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Every condition, size and seed on one benchmark."""
    protos = detector.prototypes
    assert protos is not None
    layer = detector.decision_layer
    position = protos.layers.index(layer)
    classes = [int(c) for c in protos.classes_]
    base = protos.prototypes_[position]
    policy = current_policy(detector.metadata)
    mass = {int(k): float(v) for k, v in (policy.get("class_mass") or protos.n_per_class_).items()}
    train = load_benchmark(name, "train", "hateprototypes", args.data_dir)
    dev = load_benchmark(name, "dev", "hateprototypes", args.data_dir)
    test = load_benchmark(name, "test", "hateprototypes", args.data_dir)
    dev = dev.subset(stratified_indices(dev.labels, min(args.dev_limit, len(dev)), seed=0))
    started = time.perf_counter()
    draws = {seed: nested_draws(train.labels, max(args.sizes), seed) for seed in args.seeds}
    needed = sorted({int(i) for d in draws.values() for rows in d.values() for i in rows})
    train_vectors = dict(
        zip(needed, encode(detector, [train.texts[i] for i in needed], layer), strict=True)
    )
    test_vectors = encode(detector, test.texts, layer)
    dev_vectors = encode(detector, dev.texts, layer)
    encode_s = time.perf_counter() - started
    cls = np.asarray(classes)
    rows: list[dict[str, Any]] = [
        {
            "condition": "base",
            "n": 0,
            "seed": None,
            "macro_f1": macro_f1(test.labels, prototype_predict(base, cls, test_vectors)),
        }
    ]
    if detector.decides_with != "prototypes" or detector.calibration is not None:
        served = detector.predict(test.texts)
        rows.append(
            {"condition": "served", "n": 0, "seed": None, "macro_f1": macro_f1(test.labels, served)}
        )
    for seed, order in draws.items():
        for n in args.sizes:
            picked = np.concatenate([order[0][:n], order[1][:n]])
            labels = train.labels[picked]
            vectors = torch.stack([train_vectors[int(i)] for i in picked])
            equal = float(np.mean([mass[c] for c in classes])) / n
            named = [(f"add-w{w:g}", w) for w in args.weights]
            for condition, weight in [*named, ("add-equal", equal), ("replace", None)]:
                new = adapted(base, mass, classes, vectors, labels, weight)
                predicted = prototype_predict(new, cls, test_vectors)
                rows.append(
                    {
                        "condition": condition,
                        "n": n,
                        "seed": seed,
                        "macro_f1": macro_f1(test.labels, predicted),
                    }
                )
            candidates = [k for k in K_CANDIDATES if k <= n]
            k, dev_scores = choose_k(vectors, labels, dev_vectors, dev.labels, candidates, seed)
            from hateproto.prototypes.multi import MultiPrototypes

            multi = MultiPrototypes(k, seed).fit(vectors, labels)
            rows.append(
                {
                    "condition": "replace-kmeans",
                    "n": n,
                    "seed": seed,
                    "k": k,
                    "dev_macro_f1_by_k": dev_scores,
                    "macro_f1": macro_f1(test.labels, multi.predict(test_vectors)),
                }
            )
    return {
        "benchmark": name,
        "protocol": "hateprototypes",
        "n_train": len(train),
        "n_dev_used": len(dev),
        "n_test": len(test),
        "decision_layer": layer,
        "base_mass": mass,
        "encode_seconds": round(encode_s, 1),
        "rows": rows,
        "summary": summarise(rows),
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """``{condition: {n: {mean, std}}}`` over seeds."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for row in rows:
        out.setdefault(row["condition"], {}).setdefault(str(row["n"]), []).append(row["macro_f1"])
    return {
        c: {
            n: {"mean": round(float(np.mean(v)), 4), "std": round(float(np.std(v)), 4)}
            for n, v in by_n.items()
        }
        for c, by_n in out.items()
    }


def markdown(results: list[dict[str, Any]], sizes: list[int]) -> str:
    """One table per benchmark: condition × n, mean ± std macro-F1 over seeds."""
    lines = []
    for result in results:
        lines += [
            f"### {result['benchmark']} (test, n={result['n_test']})",
            "",
            "| condition | " + " | ".join(f"n={n}" for n in [0, *sizes]) + " |",
            "|---" * (len(sizes) + 2) + "|",
        ]
        for condition, by_n in result["summary"].items():
            cells = []
            for n in [0, *sizes]:
                v = by_n.get(str(n))
                cells.append(
                    ""
                    if v is None
                    else f"{v['mean']:.4f} ± {v['std']:.4f}"
                    if v["std"]
                    else f"{v['mean']:.4f}"
                )
            lines.append(f"| {condition} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="Base detector folder.")
    parser.add_argument("--benchmarks", nargs="+", default=["ihc", "olid"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[5, 10, 50, 200])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--weights", nargs="+", type=float, default=[1.0, 10.0])
    parser.add_argument("--dev-limit", type=int, default=500)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/policy-adaptation.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    started = time.perf_counter()
    detector = Detector.from_pretrained(args.base)
    results = [run_benchmark(detector, name, args) for name in args.benchmarks]
    report = {
        "base": os.path.abspath(args.base),
        "base_info": {
            k: detector.info()[k]
            for k in ("model", "decision_layer", "decides_with", "version", "decision_threshold")
        },
        "config": {k: v for k, v in vars(args).items()},
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "torch_threads": torch.get_num_threads(),
        },
        "wall_seconds": round(time.perf_counter() - started, 1),
        "results": results,
        "provenance": provenance(),
    }
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1)
    print(markdown(results, args.sizes))
    print(f"wall {report['wall_seconds']} s; load {load_before} -> {os.getloadavg()}")


if __name__ == "__main__":
    main()
