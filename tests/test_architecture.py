"""The layer contract: data flows one way, and no module imports a higher layer.

Layers, lowest first (a module may import its own layer and any lower one)::

    0  errors, paths, config, optional, provenance, outputs, progress,  (generic, no ML)
       lazy, dtypes, configs
    1  data, evaluation                                                  (LabeledTexts, metrics)
    2  models                                                            (Backbone, stepping)
    3  prototypes, training, features, context, fusion                  (fitting)
    4  early_exit
    5  detector
    6  scoring, service, audit, experiments, feedback
    7  cli

Imports inside functions count too, and so do relative imports (``from ..models import x``,
resolved against the module's package) and string imports (``importlib.import_module`` and
``__import__`` of a literal; of an f-string, its constant prefix: ``f"hateproto.cli.{name}"``
imports ``hateproto.cli``). No two modules may import each other, directly or through others
(no import cycles). Inside a layer, :data:`ORDER` pins an order: among the layer-3 packages,
and among the modules of ``detector/`` and ``cli/``, a module may import only the tiers below
its own (every module of those two packages must have a tier). ``KNOWN`` lists the layer
violations that remain (issue 15); the test fails when a new one appears *and* when a
listed one is gone (then delete it from the list), so the list can only shrink.
"""

from __future__ import annotations

import ast
from pathlib import Path

import hateproto

LAYERS = {
    "errors": 0,
    "paths": 0,
    "config": 0,
    "optional": 0,
    "provenance": 0,
    "outputs": 0,
    "progress": 0,
    "lazy": 0,
    "dtypes": 0,
    "data": 1,
    "evaluation": 1,
    "models": 2,
    "prototypes": 3,
    "training": 3,
    "features": 3,
    "context": 3,
    "fusion": 3,
    "early_exit": 4,
    "detector": 5,
    "scoring": 6,
    "service": 6,
    "audit": 6,
    "experiments": 6,
    "feedback": 6,
    "configs": 0,
    "cli": 7,
    "__main__": 7,
}

KNOWN: set[tuple[str, str]] = set()


#: Inside a layer, tiers lowest first: a module may import only modules of lower tiers of
#: its scope (its own package's modules; for ``hateproto``, the listed packages).
ORDER: dict[str, list[list[str]]] = {
    "hateproto": [["prototypes"], ["training"], ["features"], ["context"], ["fusion"]],
    "hateproto.detector": [
        ["calibration", "components", "inputs", "policy", "probe", "results", "settings"],
        ["attributes", "engines", "explanation", "manifest", "neighbours", "routing", "scoring"],
        ["artifact"],
        ["loading", "transfer", "writing"],
        ["detector"],
        ["adapt", "attribute_fit", "autotune", "spec"],
        ["build"],
        ["recipe"],
    ],
    "hateproto.cli": [
        ["lazy", "messages", "options", "quickstart_sentences"],
        [
            "adapt_cmd",
            "common",
            "early_exit_experiment_cmd",
            "prototype_experiments_cmd",
            "quickstart_demo",
            "recipe_cmd",
        ],
        [
            "audit_cmd",
            "classify_cmd",
            "context_cmd",
            "data_cmd",
            "detector_cmd",
            "early_exit_cmd",
            "evaluate_cmd",
            "experiment_cmd",
            "feedback_cmd",
            "models_cmd",
            "prototypes_cmd",
            "quickstart_cmd",
            "serve_cmd",
            "train_cmd",
            "triage_cmd",
        ],
        ["main"],
    ],
}

ROOT = Path(hateproto.__file__).parent


def _top(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "hateproto":
        return None
    return parts[1] if len(parts) > 1 else ""


def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, is a package) of every module under the package folder ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if package else parts)] = (path, package)
    return out


def _string_import(node: ast.Call) -> str | None:
    """The module a ``importlib.import_module(...)``/``__import__(...)`` call names: a string
    literal, or an f-string's constant prefix up to its last dot; else ``None``."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        text = arg.value
    elif isinstance(arg, ast.JoinedStr):
        prefix = ""
        for part in arg.values:
            if not isinstance(part, ast.Constant):
                break
            prefix += str(part.value)
        text = prefix.rpartition(".")[0]
    else:
        return None
    return text if text and not text.startswith(".") else None


def _imports(path: Path, name: str, package: bool, known: set[str] | frozenset[str]) -> set[str]:
    """Every module ``path`` (module ``name``) imports, anywhere in its body: ``from M import
    x`` counts as ``M.x`` where that is a module in ``known``, else as ``M``."""
    here = name.split(".") if package else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                module = ".".join(base + ([module] if module else []))
            subs = {f"{module}.{a.name}" for a in node.names} & set(known)
            found |= subs or {module}
        elif isinstance(node, ast.Call):
            named = _string_import(node)
            if named:
                found.add(named)
    return found


def _dependencies(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> everything it imports (resolved as :func:`_imports` says)."""
    modules = _modules(root)
    known = frozenset(modules)
    return {name: _imports(path, name, package, known) for name, (path, package) in modules.items()}


def violations(root: Path = ROOT) -> set[tuple[str, str]]:
    """(module, imported) for every import of a higher layer or of the package root."""
    out = set()
    for name, imported in _dependencies(root).items():
        parts = name.split(".")[1:]
        if not parts:
            continue  # the package root re-exports the public API
        layer = LAYERS[parts[0]]
        for module in imported:
            target = _top(module)
            if target is None:
                continue
            if target == "" or LAYERS.get(target, 99) > layer:
                out.add((name, module))
    return out


def _unit(module: str, scope: str) -> str | None:
    """The first name below ``scope`` of ``module`` (None outside it or for ``scope`` itself)."""
    if not module.startswith(scope + "."):
        return None
    return module[len(scope) + 1 :].split(".")[0]


def order_violations(
    root: Path = ROOT, order: dict[str, list[list[str]]] | None = None
) -> set[tuple[str, str]]:
    """(module, imported) for every import, inside a scope of ``order``, of the same or a
    higher tier."""
    order = ORDER if order is None else order
    out = set()
    dependencies = _dependencies(root)
    for scope, tiers in order.items():
        tier = {unit: i for i, names in enumerate(tiers) for unit in names}
        for name, imported in dependencies.items():
            unit = _unit(name, scope)
            if unit not in tier:
                continue
            for module in imported:
                target = _unit(module, scope)
                if target in tier and target != unit and tier[target] >= tier[unit]:
                    out.add((name, module))
    return out


def unordered(root: Path = ROOT, order: dict[str, list[list[str]]] | None = None) -> set[str]:
    """Modules of a package scope of ``order`` (not the top one) that have no tier."""
    order = ORDER if order is None else order
    listed = {scope: {u for names in tiers for u in names} for scope, tiers in order.items()}
    out = set()
    for name in _modules(root):
        for scope, units in listed.items():
            unit = _unit(name, scope)
            if scope != root.name and unit is not None and unit not in units:
                out.add(name)
    return out


def test_every_top_level_module_has_a_layer() -> None:
    root = ROOT
    names = {p.stem if p.is_file() else p.name for p in root.iterdir()}
    names = {n for n in names if not n.startswith(("_", ".")) or n == "__main__"}
    names -= {"py"}  # py.typed
    missing = {n for n in names if n not in LAYERS and not n.endswith("typed")}
    assert not missing, f"give these a layer in LAYERS: {sorted(missing)}"


def test_no_module_imports_a_higher_layer() -> None:
    found = violations()
    new = sorted(found - KNOWN)
    assert not new, "upward imports (module, imported):\n" + "\n".join(map(str, new))
    fixed = sorted(KNOWN - found)
    assert not fixed, "fixed: delete these from KNOWN:\n" + "\n".join(map(str, fixed))


def test_import_hateproto_is_cheap() -> None:
    import subprocess
    import sys

    code = (
        "import sys, hateproto; heavy = [m for m in ('torch', 'sklearn', 'pandas', 'transformers')"
        " if m in sys.modules]; print(heavy); hateproto.Backbone"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]", f"import hateproto loaded {done.stdout.strip()}"


def _module_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the hateproto modules (or packages) it imports, anywhere in its body."""
    modules = _modules(root)
    return {
        name: {d for d in imported if d in modules and d != name}
        for name, imported in _dependencies(root).items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in stack:
                low[node] = min(low[node], index[child])
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    cycles = _cycles(_module_graph())
    assert not cycles, "import cycles (imports inside functions count):\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


def test_imports_keep_their_order_inside_a_layer() -> None:
    found = order_violations()
    assert not found, "imports of the same or a higher tier of ORDER (module, imported):\n" + (
        "\n".join(map(str, sorted(found)))
    )


def test_every_detector_and_cli_module_has_a_tier() -> None:
    missing = unordered()
    assert not missing, f"give these a tier in ORDER: {sorted(missing)}"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    """A synthetic ``hateproto`` package under ``tmp_path`` with ``files`` (path -> source)."""
    root = tmp_path / "hateproto"
    for relative, source in {"__init__.py": "", **files}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in path.relative_to(root).parents:
            (root / folder / "__init__.py").touch()
        path.write_text(source, encoding="utf-8")
    return root


def test_relative_imports_are_resolved_and_checked(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "data/loader.py": "from . import tables\nfrom .tables import read\n",
            "data/tables.py": "def read(): ...\n",
            "data/upward.py": "from ..models import backbone\n",
            "data/up_package.py": "from .. import detector\n",
            "models/backbone.py": "",
            "detector/__init__.py": "",
        },
    )
    assert _dependencies(root)["hateproto.data.loader"] == {"hateproto.data.tables"}
    assert violations(root) == {
        ("hateproto.data.upward", "hateproto.models.backbone"),
        ("hateproto.data.up_package", "hateproto.detector"),
    }


def test_string_imports_are_checked(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "data/a.py": "import importlib\nimportlib.import_module('hateproto.detector.spec')\n",
            "data/b.py": "def f(n):\n    return __import__(f'hateproto.cli.{n}_cmd')\n",
            "data/c.py": "from importlib import import_module\n"
            "import_module(f'hateproto.data.{1}')\n",
            "detector/spec.py": "",
            "cli/x_cmd.py": "",
        },
    )
    assert violations(root) == {
        ("hateproto.data.a", "hateproto.detector.spec"),
        ("hateproto.data.b", "hateproto.cli"),
    }
    assert "hateproto.detector.spec" in _module_graph(root)["hateproto.data.a"]


def test_an_upward_import_inside_a_layer_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "prototypes/a.py": "from hateproto.fusion import head\n",
            "fusion/head.py": "from hateproto.prototypes import a\n",
            "detector/settings.py": "from .spec import X\n",
            "detector/spec.py": "from hateproto.detector.settings import Y\n",
            "detector/stray.py": "",
        },
    )
    assert order_violations(root) == {
        ("hateproto.prototypes.a", "hateproto.fusion.head"),
        ("hateproto.detector.settings", "hateproto.detector.spec"),
    }
    assert unordered(root) == {"hateproto.detector.stray"}
