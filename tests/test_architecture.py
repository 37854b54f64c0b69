"""The layer contract: data flows one way, and no module imports a higher layer.

Layers, lowest first (a module may import its own layer and any lower one)::

    0  errors, paths, config, optional, provenance, outputs, progress   (generic, no ML)
    1  data, evaluation                                                  (LabeledTexts, metrics)
    2  models                                                            (Backbone, stepping)
    3  prototypes, training, features, context, fusion                  (fitting)
    4  early_exit
    5  detector
    6  scoring, service, audit, experiments
    7  cli

Imports inside functions count too, and no two modules may import each other, directly or
through others (no import cycles). ``KNOWN`` lists the violations that remain (issue 15);
the test fails when a new one appears *and* when a listed one is gone (then delete it from
the list), so the list can only shrink.
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
    "configs": 0,
    "cli": 7,
    "__main__": 7,
}

KNOWN: set[tuple[str, str]] = set()


def _top(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "hateproto":
        return None
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def violations() -> set[tuple[str, str]]:
    root = Path(hateproto.__file__).parent
    out = set()
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).with_suffix("")
        parts = relative.parts
        if parts == ("__init__",):
            continue  # the package root re-exports the public API
        layer = LAYERS[parts[0]]
        for module in _imports(path):
            target = _top(module)
            if target is None:
                continue
            if target == "" or LAYERS.get(target, 99) > layer:
                out.add((".".join(parts), module))
    return out


def test_every_top_level_module_has_a_layer() -> None:
    root = Path(hateproto.__file__).parent
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


def _module_graph() -> dict[str, set[str]]:
    """Module -> the hateproto modules (or packages) it imports, anywhere in its body."""
    root = Path(hateproto.__file__).parent
    names = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in names.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found = {f"{node.module}.{a.name}" for a in node.names}
                deps |= {d for d in found if d in names} or {node.module}
            elif isinstance(node, ast.Import):
                deps |= {alias.name for alias in node.names}
        graph[name] = {d for d in deps if d in names and d != name}
    return graph


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
