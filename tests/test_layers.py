"""The package's modules import one another top-down: no import circle, counting imports inside functions.

A lazy import only hides a circle from Python's start-up; the two modules still cannot be read or changed
one without the other, which is what the house style rules out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import nlp_wire

PACKAGE = Path(nlp_wire.__file__).parent


def module_names(root: Path) -> dict[str, Path]:
    names = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its text (``from . import x`` counts both the
    package and ``x`` when ``x`` is a module)."""
    modules = module_names(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (the first repeated at the end), or ``None``."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_import_circle_in_the_package():
    circle = find_circle(import_graph(PACKAGE))
    assert circle is None, "import circle: " + " -> ".join(circle)


@pytest.mark.parametrize("lazy", [False, True])
def test_the_check_finds_a_circle_even_through_a_lazy_import(tmp_path, lazy):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from .b import f\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from .. import c\n" if lazy else "from ..c import g\n")
    (pkg / "c.py").write_text("from .sub import f\n")
    circle = find_circle(import_graph(pkg))
    assert circle is not None and circle[0] == circle[-1]
    assert {"pkg.sub.b", "pkg.c"} <= set(circle)
    (pkg / "c.py").write_text("")
    assert find_circle(import_graph(pkg)) is None
