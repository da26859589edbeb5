"""The import structure of diffrast_cli, read from the source with ast (nothing is imported).

* The graph of module-level imports between diffrast_cli's modules is acyclic.
  Module level means what runs when the module is imported: top-level
  statements and class bodies, including ``try``/``if`` blocks, except
  ``if TYPE_CHECKING:`` blocks (never run). Imports inside functions run when
  the function is called, after every module has finished importing, so they
  cannot meet a half-initialised module; they are left out of the graph. A
  function-level import that would close a cycle of the graph is allowed only
  where DEFERRED_CYCLES lists it (the registry loading the shipped kinds,
  which register themselves through it as plug-ins do).
* No module imports a ``_private`` name from another module, wherever the
  import stands (module level or in a function).

Importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` first, so an
edge to a module is also an edge to each package above it (except the packages
above the importing module itself, which are already being imported).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "diffrast_cli"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE


def _modules() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package)."""
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


MODULES = _modules()


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
           (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """(import node, at module level) for every import statement of a module."""
    def walk(node, module_level):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                yield from walk(child, False)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    yield from walk(ast.Module(body=[stmt], type_ignores=[]), False)
                for stmt in child.orelse:
                    yield from walk(ast.Module(body=[stmt], type_ignores=[]), module_level)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, module_level
            else:
                yield from walk(child, module_level)
    yield from walk(tree, True)


def _targets(module: str, is_package: bool, node) -> list[tuple[str, str | None]]:
    """(imported diffrast_cli module, name taken from it or None) per imported thing."""
    out = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] == PACKAGE:
                out.append((alias.name, None))
        return out
    source = _absolute(module, is_package, node)
    if source.split(".")[0] != PACKAGE:
        return out
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        if submodule in MODULES:
            out.append((submodule, None))       # `from pkg import submodule`
        else:
            out.append((source, alias.name))
    return out


def _with_parents(target: str, importer: str) -> list[str]:
    """The target and the packages above it that importing it runs (not the importer's own)."""
    parts = target.split(".")
    chain = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    own = {".".join(importer.split(".")[:i]) for i in range(1, importer.count(".") + 2)}
    return [m for m in chain if m in MODULES and (m == target or m not in own) and m != importer]


def _scan():
    graph = {m: set() for m in MODULES}
    deferred, private = [], []
    for module, (path, is_package) in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, module_level in _imports(tree):
            for target, name in _targets(module, is_package, node):
                if name is not None and name.startswith("_") and not name.startswith("__") and target != module:
                    private.append(f"{module}:{node.lineno} imports {name} from {target}")
                for m in _with_parents(target, module):
                    if module_level:
                        graph[module].add(m)
                    else:
                        deferred.append((module, m))
    return graph, deferred, private


GRAPH, DEFERRED, PRIVATE = _scan()


def _cycle(graph: dict[str, set]) -> list[str] | None:
    """One cycle of the graph (as a path that returns to its start), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_scan_sees_the_package():
    assert len(MODULES) > 40
    assert "diffrast_cli.errors" in GRAPH["diffrast_cli.scene.registry"]          # from ..errors import
    assert "diffrast_cli.io.mesh_data" in GRAPH["diffrast_cli.io.meshes"]         # from .mesh_data import
    assert "diffrast_cli.scene" in GRAPH["diffrast_cli.problem"]                  # a package above a module
    assert ("diffrast_cli.scene.registry", "diffrast_cli.scene.soup") in DEFERRED  # load_kinds() imports them


def test_module_level_imports_form_no_cycle():
    cycle = _cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


DEFERRED_CYCLES = {("diffrast_cli.scene.registry", "diffrast_cli.scene.mesh"),
                   ("diffrast_cli.scene.registry", "diffrast_cli.scene.soft"),
                   ("diffrast_cli.scene.registry", "diffrast_cli.scene.soup"),
                   ("diffrast_cli.scene.registry", "diffrast_cli.scene.splats"),
                   ("diffrast_cli.scene.registry", "diffrast_cli.scene.subdiv"),
                   ("diffrast_cli.scene.registry", "diffrast_cli.scene.volume")}


def _reaches(graph: dict[str, set], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return False


def test_function_level_imports_close_no_cycle_but_the_listed_ones():
    closing = {(a, b) for a, b in DEFERRED if _reaches(GRAPH, b, a)}
    assert closing == DEFERRED_CYCLES


def test_no_module_imports_another_modules_private_name():
    assert PRIVATE == [], "\n".join(PRIVATE)


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
    ({"a": {"a"}}, ["a", "a"]),
])
def test_the_cycle_finder_finds_cycles(graph, expected):
    assert _cycle(graph) == expected


def test_the_scanner_sees_module_level_function_level_and_private_imports():
    source = ("from typing import TYPE_CHECKING\nfrom .x import a\nimport diffrast_cli.y\n"
              "if TYPE_CHECKING:\n    from .z import b\n"
              "class C:\n    from .w import c\n"
              "def f():\n    from .v import _d\n")
    tree = ast.parse(source)
    found = [(_absolute("diffrast_cli.m", False, n) if isinstance(n, ast.ImportFrom) else n.names[0].name, level)
             for n, level in _imports(tree)]
    assert found == [("typing", True), ("diffrast_cli.x", True), ("diffrast_cli.y", True),
                     ("diffrast_cli.z", False), ("diffrast_cli.w", True), ("diffrast_cli.v", False)]
