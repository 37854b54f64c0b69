"""Choosing among general-recipe candidates on dev data only (issue 23).

For each detector folder: macro-F1 on each benchmark's dev split (general protocol, the
recipe's 2,000-post stratified cap), accuracy per functionality on the audit's **dev** half,
the FPR spread across groups there, and the FPR on CONAN's **dev** counter-speech. No test
split is read. Appends one JSON row per detector to ``--out``::

    python benchmarks/dev_choice.py --detector t1=~/dets/t1 --out benchmarks/results/dev-choice.json
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from hateproto.audit import build_suite
from hateproto.audit.suite import FPR_FUNCTIONALITIES
from hateproto.data.benchmarks import BENCHMARKS
from hateproto.data.contrast_sources import load_conan
from hateproto.data.mixture import load_mixture, parse_sources
from hateproto.detector import Detector
from hateproto.evaluation import classification_metrics
from hateproto.experiments.results import atomic_write_text
from hateproto.provenance import provenance


def dev_row(name: str, folder: str) -> dict[str, Any]:
    """Every dev figure of one detector folder."""
    detector = Detector.from_pretrained(Path(folder).expanduser())
    label = lambda texts: detector.score_arrays(texts).labels  # noqa: E731
    row: dict[str, Any] = {"detector": name, "folder": folder}
    row["train_seconds"] = detector.metadata.get("training", {}).get("train_seconds")
    dev = load_mixture(parse_sources(",".join(BENCHMARKS)), max_dev_per_source=2000).dev
    source = dev.metadata["source"].to_numpy()
    predicted = label(dev.texts)
    for bench in BENCHMARKS:
        rows = source == bench
        row[f"dev_{bench}"] = classification_metrics(dev.labels[rows], predicted[rows])["macro_f1"]
    row["dev_mean"] = float(np.mean([row[f"dev_{b}"] for b in BENCHMARKS]))
    cases = build_suite("dev")
    flags = label([c.text for c in cases])
    by_func: dict[str, list[int]] = {}
    by_group: dict[str, list[int]] = {}
    for case, flag in zip(cases, flags, strict=True):
        by_func.setdefault(case.functionality, []).append(int(flag == case.label_gold))
        if case.functionality in FPR_FUNCTIONALITIES and case.target_group:
            by_group.setdefault(case.target_group, []).append(int(flag))
    row["audit_dev"] = {f: float(np.mean(v)) for f, v in by_func.items()}
    gold = np.array([c.label_gold for c in cases])
    row["audit_dev_macro_f1"] = classification_metrics(gold, flags)["macro_f1"]
    row["audit_dev_hate_caught"] = float(flags[gold == 1].mean())
    row["audit_dev_nonhate_passed"] = float(1 - flags[gold == 0].mean())
    fpr = {g: float(np.mean(v)) for g, v in by_group.items()}
    row["audit_dev_group_fpr"] = fpr
    row["audit_dev_fpr_spread"] = max(fpr.values()) - min(fpr.values())
    conan = load_conan("dev", roles=("counter",))
    row["conan_dev_counter_fpr"] = float(label(conan.texts).mean())
    row["provenance"] = {**provenance(), "load": os.getloadavg()}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--detector", action="append", default=[], help="NAME=FOLDER")
    parser.add_argument("--out", default="benchmarks/results/dev-choice.json")
    args = parser.parse_args()
    out = Path(args.out)
    rows = json.loads(out.read_text())["rows"] if out.exists() else []
    if not args.detector:  # rewrite the Markdown table only
        atomic_write_text(out.with_suffix(".md"), markdown(rows))
        return
    for item in args.detector:
        name, _, folder = item.partition("=")
        row = dev_row(name, folder)
        rows = [r for r in rows if r["detector"] != name] + [row]
        atomic_write_text(out, json.dumps({"rows": rows}, indent=1) + "\n")
        summary = {k: round(v, 3) for k, v in row.items() if isinstance(v, float)}
        print(name, json.dumps(summary), flush=True)
        print("  audit dev:", {k: round(v, 2) for k, v in row["audit_dev"].items()}, flush=True)
        print("  group FPR:", {k: round(v, 2) for k, v in fpr_sorted(row).items()}, flush=True)
    atomic_write_text(out.with_suffix(".md"), markdown(rows))


def markdown(rows: list[dict[str, Any]]) -> str:
    """One line per candidate: the dev figures the choice was made on (points)."""
    funcs = ("negated_hate", "counter_quote", "counter_reference", "identity_positive")
    head = (
        "| candidate | benchmark dev mean | audit dev macro-F1 | hate caught | non-hate passed "
        "| " + " | ".join(funcs) + " | group FPR spread | CONAN dev counter FPR |"
    )
    lines = [
        "# Dev figures of the general-recipe candidates (issue 23)",
        "",
        "Written by `benchmarks/dev_choice.py` from `dev-choice.json`; dev splits and the "
        "audit's dev half only.",
        "",
        head,
        "|---" * (head.count("|") - 1) + "|",
    ]
    for r in rows:
        cells = [
            r["dev_mean"],
            r["audit_dev_macro_f1"],
            r["audit_dev_hate_caught"],
            r["audit_dev_nonhate_passed"],
            *(r["audit_dev"][f] for f in funcs),
            r["audit_dev_fpr_spread"],
            r["conan_dev_counter_fpr"],
        ]
        lines.append(f"| {r['detector']} | " + " | ".join(f"{100 * c:.1f}" for c in cells) + " |")
    return "\n".join(lines) + "\n"


def fpr_sorted(row: dict[str, Any]) -> dict[str, float]:
    """The audit dev group FPRs, highest first."""
    return dict(sorted(row["audit_dev_group_fpr"].items(), key=lambda kv: -kv[1]))


if __name__ == "__main__":
    main()
