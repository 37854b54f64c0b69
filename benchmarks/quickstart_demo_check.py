"""Issue 30: the main job's demo sentences are in no split of any source the recipes train on
(the general mixture's sources, every split, and the papers' protocol splits), nor in the
functional audit's suite or the generated contrast pairs. Compares normalised texts
(``hateproto.data.keys.text_key``) and, as a looser check, each sentence's 5-word runs
(lower case, letters and digits only). Prints one line per sentence::

    python benchmarks/quickstart_demo_check.py > benchmarks/results/quickstart-demo-check.txt
"""

from __future__ import annotations

import os
import re

from hateproto.audit import build_suite
from hateproto.cli.quickstart_sentences import DEMO_SENTENCES
from hateproto.data.benchmarks import PROTOCOLS, load_benchmark
from hateproto.data.keys import text_key
from hateproto.data.mixture import load_mixture, parse_sources
from hateproto.detector.recipe import GeneralRecipe
from hateproto.provenance import provenance


def grams(text: str, n: int = 5) -> set[str]:
    words = re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def main() -> None:
    recipe = GeneralRecipe.default("general")
    mixture = load_mixture(parse_sources(recipe.data), max_dev_per_source=None)
    texts = list(mixture.train.texts) + list(mixture.dev.texts)
    texts += [t for test in mixture.tests.values() for t in test.texts]
    for protocol, names in PROTOCOLS.items():
        for name in names:
            for split in ("train", "dev", "test"):
                texts += load_benchmark(name, split, protocol).texts
    texts += [case.text for case in build_suite("all")]
    keys = {text_key(t) for t in texts}
    all_grams: set[str] = set()
    for text in texts:
        all_grams |= grams(text)
    print(f"# {len(keys):,} distinct texts checked; {provenance()}; load {os.getloadavg()}")
    for sentence in DEMO_SENTENCES:
        exact = text_key(sentence.text) in keys
        shared = sorted(grams(sentence.text) & all_grams)
        found = "FOUND" if exact else "absent"
        print(f"{found}\t{len(shared)} shared 5-word runs {shared}\t{sentence.text}")


if __name__ == "__main__":
    main()
