"""The install contract: tested ranges in pyproject.toml, exact versions in the lock, extras."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from hateproto.optional import EXTRAS, MissingExtraError, require

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _locked() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {m[1].lower(): m[2] for m in re.finditer(r"(?m)^([A-Za-z0-9_.-]+)==(\S+) \\$", text)}


def test_core_ranges_have_both_bounds_and_torch_is_not_pinned() -> None:
    for requirement in _pyproject()["project"]["dependencies"]:
        assert ">=" in requirement and "<" in requirement, requirement
        assert "==" not in requirement, f"pin {requirement!r} in requirements.lock, not here"


def test_lock_pins_every_dependency_with_hashes_and_the_cpu_torch() -> None:
    locked = _locked()
    project = _pyproject()["project"]
    named = list(project["dependencies"])
    for requirements in project["optional-dependencies"].values():
        named += [r for r in requirements if not r.startswith("hateproto")]
    missing = {_name(r) for r in named} - set(locked)
    assert not missing, f"not in requirements.lock: {missing} (run: bash scripts/lock)"
    assert locked["torch"] == "2.13.0+cpu"
    text = (ROOT / "requirements.lock").read_text()
    assert text.count("==") == text.count("==") and "--hash=sha256:" in text
    assert "hateproto @" not in text, "the project itself must not be in the lock"


def test_lock_versions_satisfy_the_ranges() -> None:
    from packaging.requirements import Requirement

    locked = _locked()
    project = _pyproject()["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += [r for r in extra if not r.startswith("hateproto")]
    for text in requirements:
        requirement = Requirement(text)
        version = locked[_name(text)]
        assert requirement.specifier.contains(version, prereleases=True), (text, version)


def test_extras_declared_in_pyproject_match_the_code() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]
    for extra in EXTRAS:
        assert extra in extras, f"extra {extra} used in hateproto.optional, not in pyproject"


def test_require_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'hateproto\[plots\]'"):
        require("matplotlib", extra="plots", purpose="figures")


def test_figures_without_matplotlib_name_the_plots_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import numpy as np

    from hateproto.experiments import plots

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtraError, match=r"hateproto\[plots\]"):
        plots.heatmap(np.eye(2), ["a", "b"], ["a", "b"], "t", tmp_path / "f.png", "x", "y")
    assert not (tmp_path / "f.png").exists()


# Every core feature must import with none of the optional packages installed.
_BLOCK_EXTRAS = """
import importlib.abc, sys
blocked = {blocked!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in blocked:
            raise ImportError(f'blocked optional module {{name}}')
        return None
sys.meta_path.insert(0, Block())
import hateproto
import hateproto.cli.main
import hateproto.detector, hateproto.scoring.classify, hateproto.prototypes, hateproto.early_exit
import hateproto.training, hateproto.data
from hateproto.cli.main import main
code = main(['serve', '--help'])
print('ok', code)
"""


def test_core_imports_without_any_extra() -> None:
    blocked = sorted({m for modules in EXTRAS.values() for m in modules})
    script = _BLOCK_EXTRAS.format(blocked=blocked)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ok 0" in done.stdout


def test_serve_without_the_service_extra_names_it(tmp_path: Path) -> None:
    script = _BLOCK_EXTRAS.format(blocked=["fastapi", "uvicorn"]).replace(
        "code = main(['serve', '--help'])", "code = main(['serve', '--model', 'x'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert "ok 2" in done.stdout, done.stdout + done.stderr[-2000:]
    assert "hateproto[service]" in done.stderr
