"""The layout of the package, checked: one-way flow between stages, one solver seam, one
place for each target, modules a reader can hold in mind (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from computeplan.model.targets import TARGETS

SRC = Path(__file__).resolve().parent.parent / "src" / "computeplan"

# Each stage may import from its own package and from the stages before it.
LAYERS = ["errors", "io", "model", "solvers", "heuristics", "plan", "analysis", "present", "cli"]


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(SRC.rglob("*.py")):
        rel = p.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def _imports(path: Path, module: str) -> list[tuple[str, int]]:
    """Every computeplan module ``path`` imports (at any depth of the code), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level] if path.name != "__init__.py" else module.split(".")
                if path.name == "__init__.py" and node.level > 1:
                    base = module.split(".")[: -(node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out.append((name, node.lineno))
            for a in node.names:  # "from computeplan.x import y" where y is a module
                if f"{name}.{a.name}" in MODULES:
                    out.append((f"{name}.{a.name}", node.lineno))
    return [(n, line) for n, line in out if n == "computeplan" or n.startswith("computeplan.")]


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_stages_import_only_from_earlier_stages() -> None:
    bad = []
    for mod, path in MODULES.items():
        stage = _stage(mod)
        if stage is None or stage == "__main__":
            continue
        for name, line in _imports(path, mod):
            other = _stage(name)
            if other is None or other == stage:
                continue
            if other not in LAYERS or stage not in LAYERS or LAYERS.index(other) > LAYERS.index(stage):
                bad.append(f"{path.relative_to(SRC)}:{line}: {stage} imports {name}")
    assert bad == []


def test_no_import_cycle() -> None:
    graph = {m: {n for n, _ in _imports(p, m) if n in MODULES and n != m} for m, p in MODULES.items()}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(m: str, stack: list[str]) -> bool:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycle.extend([*stack[stack.index(n):], n] if n in stack else [m, n])
                return True
            if state.get(n) is None and visit(n, [*stack, n]):
                return True
        state[m] = 2
        return False

    for m in sorted(graph):
        if state.get(m) is None and visit(m, [m]):
            break
    assert cycle == []


def test_only_the_adapter_imports_highspy() -> None:
    users = []
    for mod, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "highspy" or n.startswith("highspy.") for n in names):
                users.append(mod)
    assert sorted(set(users)) == ["computeplan.solvers.highs"]


def _strings(path: Path) -> list[tuple[str, int]]:
    """String constants of a module, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    return [(n.value, n.lineno) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


@pytest.mark.parametrize("target", list(TARGETS))
def test_a_target_is_named_only_in_the_registry_and_the_schema(target: str) -> None:
    allowed = {SRC / "model" / "targets.py", SRC / "io" / "schema.py"}
    found = []
    for path in MODULES.values():
        if path in allowed:
            continue
        found += [f"{path.relative_to(SRC)}:{line}" for text, line in _strings(path) if target in text]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{path.relative_to(SRC)}:{n.lineno}" for n in ast.walk(tree)
                  if isinstance(n, ast.Attribute) and n.attr == target]
    assert found == []


def test_modules_stay_small() -> None:
    big = {str(p.relative_to(SRC)): n for p in MODULES.values()
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600 and p.name != "kernels.py"}
    assert big == {}
