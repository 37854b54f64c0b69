"""Every docstring example in ``hateproto`` runs, with the standard library's ``doctest``.

One test per module under ``src/hateproto`` (found on disk, so a new module is picked up).
A module whose import needs an optional extra that is not installed is skipped, naming the
extra's module; any other import error fails. A failing module's test lists each failing
example: where it is, its source, what was expected and what came out.
"""

from __future__ import annotations

import doctest
import importlib
import types
from pathlib import Path

import pytest

import hateproto
from hateproto.optional import EXTRAS, MissingExtraError

OPTIONAL_MODULES = {name for modules in EXTRAS.values() for name in modules}

# Doctests that fail in modules this test's owners may not edit; each is reported upstream.
# Not strict: the test starts passing (XPASS) as soon as the example is fixed.
KNOWN_FAILING: dict[str, str] = {}


def module_names() -> list[str]:
    """Every module of the installed ``hateproto`` package, found on disk."""
    root = Path(hateproto.__file__).parent
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and parts[-1] == "__main__":
            continue
        names.append(".".join(("hateproto", *parts)))
    return names


def import_or_skip(name: str) -> types.ModuleType:
    """Import ``name``; skip only when an optional extra's module is missing."""
    try:
        return importlib.import_module(name)
    except MissingExtraError as exc:
        pytest.skip(f"{name}: {exc}")
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in OPTIONAL_MODULES:
            pytest.skip(f"{name} needs the optional module {exc.name}, which is not installed")
        raise


def failing_examples(module: types.ModuleType) -> tuple[int, list[str]]:
    """Run every doctest of ``module``; return the number of examples run and one report per
    failing example."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    failures: list[str] = []
    examples = 0
    for test in finder.find(module, module.__name__):
        output: list[str] = []
        result = runner.run(test, out=output.append, clear_globs=True)
        examples += result.attempted
        if result.failed:
            failures.append("".join(output))
    return examples, failures


def _param(name: str) -> object:
    if name in KNOWN_FAILING:
        return pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_FAILING[name]))
    return name


@pytest.mark.parametrize("name", [_param(n) for n in module_names()])
def test_doctests(name: str) -> None:
    module = import_or_skip(name)
    _, failures = failing_examples(module)
    assert not failures, f"{len(failures)} failing doctest(s) in {name}:\n\n" + "\n".join(failures)


def test_collection_finds_the_package_and_its_examples() -> None:
    names = module_names()
    assert "hateproto" in names and "hateproto.early_exit.scorers" in names
    assert not any(n.endswith("__main__") for n in names)
    examples, failures = failing_examples(importlib.import_module("hateproto.early_exit.scorers"))
    assert examples >= 2 and failures == []


def test_a_failing_example_is_reported() -> None:
    module = types.ModuleType("hateproto_fake_doctest_module")
    module.__doc__ = ">>> 1 + 1\n3\n>>> 2 * 2\n4\n"
    examples, failures = failing_examples(module)
    assert examples == 2 and len(failures) == 1
    assert "Failed example:\n    1 + 1\nExpected:\n    3\nGot:\n    2" in failures[0]


def test_only_missing_optional_modules_are_skipped(monkeypatch) -> None:
    def missing(module: str) -> None:
        raise ModuleNotFoundError(f"No module named {module!r}", name=module)

    monkeypatch.setattr(importlib, "import_module", lambda name: missing("matplotlib"))
    with pytest.raises(pytest.skip.Exception, match="optional module matplotlib"):
        import_or_skip("hateproto.experiments.plots")
    monkeypatch.setattr(importlib, "import_module", lambda name: missing("numpy"))
    with pytest.raises(ModuleNotFoundError):
        import_or_skip("hateproto.experiments.plots")
