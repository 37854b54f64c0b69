"""Five real third-party Perspective clients (npm perspective-api-client; PyPI perspective,
perspectiveapi, pyperspective, perspective-py), pinned and installed from their registries
into a cache outside the repository, each redirected with only the lines of its migration
guide (docs/perspective.md), against a real ``hateproto serve`` subprocess.

One run of ``benchmarks/perspective_clients.py`` (one server) serves the whole module; a
client whose registry cannot be reached is skipped, with the reason."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "perspective_clients.py"
COMMITTED = ROOT / "benchmarks" / "results" / "perspective-clients.json"


def _benchmark():
    spec = importlib.util.spec_from_file_location("perspective_clients", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


BENCHMARK = _benchmark()
NAMES = [client.name for client in BENCHMARK.CLIENTS]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The benchmark's JSON: every client x request kind against one ``hateproto serve``."""
    out = tmp_path_factory.mktemp("clients") / "clients.json"
    cache = os.environ.get("HATEPROTO_PERSPECTIVE_CLIENTS") or str(BENCHMARK.default_cache())
    command = [sys.executable, str(SCRIPT), "--out", str(out), "--cache", cache]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def _client(results: dict, name: str) -> dict:
    entry = results["clients"][name]
    if "skipped" in entry:
        pytest.skip(f"{name} could not be installed: {entry['skipped']}")
    return entry


@pytest.mark.parametrize("name", NAMES)
def test_the_default_call_succeeds_after_only_the_documented_redirect(results, name):
    outcome = _client(results, name)["results"]
    assert "client run" not in outcome, outcome
    assert outcome["default call"]["ok"], outcome["default call"]
    assert outcome["default call"]["message"].startswith("score ")


@pytest.mark.parametrize("name", NAMES)
def test_every_request_kind_behaves_as_with_perspective(results, name):
    outcome = _client(results, name)["results"]
    failed = {kind: r["message"] for kind, r in outcome.items() if not r["ok"]}
    assert not failed, failed
    # each client asks for every attribute its API can name, and a bad key is told apart
    offered = set(outcome) | set(results["clients"][name]["not_offered"])
    assert set(BENCHMARK.ATTRIBUTES) <= offered and "bad key" in outcome


def test_the_served_detector_is_named_by_hash(results):
    assert results["detector"].startswith("tiny-six-attributes@sha256:")
    assert "/" not in results["detector"]


@pytest.mark.parametrize("name", NAMES)
def test_the_guide_quotes_each_redirect_verbatim(name):
    guide = (ROOT / "docs" / "perspective.md").read_text(encoding="utf-8")
    assert BENCHMARK.REDIRECTS[name] in guide, f"docs/perspective.md lacks the {name} redirect"


def test_the_committed_results_are_those_of_a_run(results):
    """benchmarks/results/perspective-clients.json has the same clients, kinds and outcomes
    as this run (messages hold scores and ports, so only ok/failed is compared)."""
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))

    def outcomes(document: dict) -> dict:
        return {
            name: {kind: r["ok"] for kind, r in entry.get("results", {}).items()}
            for name, entry in document["clients"].items()
            if "skipped" not in entry
        }

    ran = outcomes(results)
    assert {name: outcomes(committed)[name] for name in ran} == ran
    assert committed["summary"]["default calls ok"] == f"{len(NAMES)} of {len(NAMES)}"
