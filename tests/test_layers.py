"""The architecture holds: each module imports only from the layers below it, and nothing imports in a circle.

Every import is read from the source with ast, including imports inside functions, which Python would
otherwise let hide a circle until the day someone calls that function first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gradcore"

# The layers of docs/architecture.md, lowest first. A module may import from its own layer (when no
# circle results) and from any layer below; never from above.
LAYERS: dict[str, int] = {
    "errors": 0, "format": 0, "grad_mode": 0, "_version": 0,
    "ops": 1,
    "printing": 2, "_sympy": 2, "canonical": 2, "expr": 2, "parse": 2, "derivation": 2,
    "value": 3, "_value_kernels": 3, "tensors": 3, "codegen": 3,
    "calculus": 4, "check": 4, "optim": 4, "nn": 4, "datasets": 4, "optimize": 4, "fitting": 4, "data": 4, "utils": 4,
    "viz": 5,
    "cli": 6, "_flags": 6, "_argv": 6,
    "__init__": 7, "__main__": 7,
}


def _unit(module: str) -> str:
    """'gradcore.codegen._render' -> 'codegen': the top-level module or package it belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str | None = None) -> set[str]:
    """The gradcore modules that `path` (the module `name`) imports, anywhere in the file."""
    name = name or _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # Imports under `if TYPE_CHECKING:` never run; they name types for readers and checkers only.
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
                   for stmt in block.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "gradcore")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "gradcore":
                continue
            if node.module:  # `from . import ops` imports gradcore.ops, not gradcore itself
                found.add(target)
            # `from . import ops` names a module, not an attribute.
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                if _exists(candidate):
                    found.add(candidate)
    found.discard(name)
    return found


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").exists() or (PACKAGE / rel / "__init__.py").exists()


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_has_a_layer() -> None:
    units = {_unit(m) for m in _graph()}
    missing = sorted(units - set(LAYERS))
    assert not missing, f"add these to LAYERS here and to docs/architecture.md: {missing}"


def test_no_module_imports_from_a_layer_above_it() -> None:
    wrong = []
    for module, targets in _graph().items():
        for target in targets:
            here, there = LAYERS[_unit(module)], LAYERS[_unit(target)]
            if there > here:
                wrong.append(f"{module} (layer {here}) imports {target} (layer {there})")
    assert not wrong, "\n".join(sorted(wrong))


def test_there_is_no_import_circle() -> None:
    graph = _graph()
    # A package's __init__ re-exporting its own private modules is not a circle between units, but a
    # module importing its package's __init__ back would be; so the check runs over modules.
    state: dict[str, int] = {}
    for start in graph:
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            child = child if child in graph else child.rpartition(".")[0]
            if child not in graph:
                continue
            if state.get(child) == 1:
                cycle = path[path.index(child):] + [child]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if not state.get(child):
                state[child] = 1
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    # A test that cannot fail is a defect: the reader must catch a function-local upward import.
    hidden = tmp_path / "expr.py"
    hidden.write_text("def f():\n    from .cli import main\n    from . import ops\n    return main\n")
    found = _imports(hidden, "gradcore.expr")
    assert "gradcore.cli" in found and "gradcore.ops" in found
    assert LAYERS[_unit("gradcore.cli")] > LAYERS[_unit("gradcore.expr")]
