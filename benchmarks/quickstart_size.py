"""Sizing the README's main job (issue 30): candidate subsamples of the general recipe.

Each candidate is the packaged ``quickstart`` recipe with some fields overridden
(``NAME:field=value,field=value``). It is built the way a new user's first run builds it:
``hateproto detector build --recipe quickstart`` in a fresh ``HATEPROTO_HOME`` (empty model
and feature caches; the model is fetched first and that time recorded apart), under
``/usr/bin/time`` for the wall time and the peak resident memory. Then its **dev** figures
(``benchmarks/dev_choice.py``: each benchmark's dev split, the audit's dev half, CONAN dev
counter-speech) are added. No test split is read. One JSON row per candidate::

    python benchmarks/quickstart_size.py --candidate q20k:probe_max_train=20000 \\
        --out benchmarks/results/quickstart-size.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dev_choice import dev_row  # noqa: E402

from hateproto.experiments.results import atomic_write_text  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HATEPROTO = str(ROOT / ".venv" / "bin" / "hateproto")


def parse_candidate(spec: str) -> tuple[str, dict[str, Any]]:
    """``NAME:field=value,field=value`` -> (name, overrides), values read as YAML."""
    name, _, rest = spec.partition(":")
    overrides = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        overrides[key.strip()] = yaml.safe_load(value)
    return name, overrides


def timed(command: list[str], env: dict[str, str], log: Path) -> dict[str, float]:
    """Run ``command`` under /usr/bin/time; its wall seconds and peak RSS (MB)."""
    stats = log.with_suffix(".time")
    full = ["/usr/bin/time", "-f", "%e %M", "-o", str(stats), *command]
    with log.open("w") as handle:
        done = subprocess.run(full, env=env, stdout=handle, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{log.read_text()[-4000:]}")
    wall, rss_kb = stats.read_text().split()[-2:]
    return {"wall_s": float(wall), "peak_rss_mb": int(rss_kb) / 1024}


def candidate_row(
    name: str, overrides: dict[str, Any], keep: Path | None, home: Path | None
) -> dict[str, Any]:
    """Build one candidate (from empty caches unless ``home``) and measure it on dev."""
    with tempfile.TemporaryDirectory(prefix="qs-size-") as tmp_name:
        tmp = Path(tmp_name)
        env = {**os.environ, "HATEPROTO_HOME": str(home or tmp / "home")}
        config = tmp / "overrides.yaml"
        config.write_text(yaml.safe_dump(overrides))
        load_before = os.getloadavg()
        fetch = timed([HATEPROTO, "models", "fetch", "minilm"], env, tmp / "fetch.log")
        out = tmp / "detector"
        build = timed(
            [HATEPROTO, "detector", "build", "--recipe", "quickstart"]
            + ["--recipe-config", str(config), "--out", str(out)],
            env,
            tmp / "build.log",
        )
        load_after = os.getloadavg()
        os.environ["HATEPROTO_HOME"] = env["HATEPROTO_HOME"]
        row = dev_row(name, str(out))
        row.update(
            overrides=overrides,
            fetch_s=fetch["wall_s"],
            build_s=build["wall_s"],
            build_peak_rss_mb=build["peak_rss_mb"],
            load_before_build=load_before,
            load_after_build=load_after,
            build_log_tail=(tmp / "build.log").read_text().splitlines()[-12:],
            caches="warm: shared home" if home else "empty",
        )
        if keep is not None:
            shutil.copytree(out, keep / name, dirs_exist_ok=True)
        return row


def markdown(rows: list[dict[str, Any]]) -> str:
    """One line per candidate: its cold build and the dev figures the choice is made on."""
    head = (
        "| candidate | overrides | cold build s | peak RSS MB | load before/after | "
        "benchmark dev mean | audit dev macro-F1 | hate caught | non-hate passed | "
        "group FPR spread | CONAN dev counter FPR |"
    )
    lines = [
        "# Sizing the main job: dev figures of quickstart-recipe candidates (issue 30)",
        "",
        "Written by `benchmarks/quickstart_size.py` from `quickstart-size.json`. Each "
        "candidate built from empty model and feature caches (`hateproto detector build "
        "--recipe quickstart`, model fetched before and not counted here); dev splits and "
        "the audit's dev half only. Figures in points.",
        "",
        head,
        "|---" * (head.count("|") - 1) + "|",
    ]
    for r in rows:
        overrides = ", ".join(f"{k}={v}" for k, v in r["overrides"].items())
        load = f"{r['load_before_build'][0]:.1f}/{r['load_after_build'][0]:.1f}"
        cells = [
            r["dev_mean"],
            r["audit_dev_macro_f1"],
            r["audit_dev_hate_caught"],
            r["audit_dev_nonhate_passed"],
            r["audit_dev_fpr_spread"],
            r["conan_dev_counter_fpr"],
        ]
        build = f"{r['build_s']:.0f}" + (" (warm)" if r.get("caches", "empty") != "empty" else "")
        lines.append(
            f"| {r['detector']} | {overrides} | {build} | "
            f"{r['build_peak_rss_mb']:.0f} | {load} | "
            + " | ".join(f"{100 * c:.1f}" for c in cells)
            + " |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candidate", action="append", default=[], help="NAME:k=v,k=v")
    parser.add_argument("--out", default="benchmarks/results/quickstart-size.json")
    parser.add_argument("--keep", type=Path, default=None, help="copy detectors here")
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="build in this HATEPROTO_HOME (its feature cache warm: quality only, not timing)",
    )
    args = parser.parse_args()
    out = Path(args.out)
    rows = json.loads(out.read_text())["rows"] if out.exists() else []
    for spec in args.candidate:
        name, overrides = parse_candidate(spec)
        start = time.perf_counter()
        row = candidate_row(name, overrides, args.keep, args.home)
        row["command"] = " ".join(sys.argv)
        rows = [r for r in rows if r["detector"] != name] + [row]
        atomic_write_text(out, json.dumps({"rows": rows}, indent=1) + "\n")
        figures = {k: round(v, 3) for k, v in row.items() if isinstance(v, float)}
        print(name, f"{time.perf_counter() - start:.0f} s", json.dumps(figures), flush=True)
    atomic_write_text(out.with_suffix(".md"), markdown(rows))


if __name__ == "__main__":
    main()
