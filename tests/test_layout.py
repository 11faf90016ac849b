"""The tree shows the layers: few top-level modules, no import cycle, no layer importing one above it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "secretumvault"

# Lower number, lower layer (docs/design.md, "Layers"). A module may import its
# own layer or one below; errors, encoding, _frozen (the records' base class), _files (the private
# file creator) and _words (articles for messages) sit beside the layers.
RANK = {
    "pqc.interfaces": 0,  # params, keys, _buffers, prehash: what the backends implement
    "pqc.backends": 1,
    "pqc": 2,
    "keystore": 3,
    "hybrid": 4,
    "transit": 5,
    "pki": 5,
    "config": 6,
    "bench": 7,
    "cli": 7,
    "server": 7,
    "__main__": 8,
}
BESIDE = {"errors", "encoding", "_frozen", "_files", "_words", "secretumvault"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    for path in PACKAGE.rglob("*.pyx"):  # compiled: a leaf here
        found[".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)] = path
    return found


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node that can run: ``if TYPE_CHECKING:`` blocks never do, so they are skipped."""
    found: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Every import of the package's own modules, at any depth (inside functions too)."""

    def owner(name: str) -> str:
        while name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        return name

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        if path.suffix == ".py":
            package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
            for node in _runtime_nodes(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    edges |= {owner(a.name) for a in node.names if a.name.startswith("secretumvault")}
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                        base = ".".join(parts) + ("." + base if base else "")
                    if base.startswith("secretumvault"):
                        edges |= {owner(f"{base}.{a.name}") for a in node.names}
        edges.discard(name)
        graph[name] = edges
    return graph


PQC_INTERFACES = {"params", "keys", "_buffers", "prehash"}


def _layer(module: str) -> str:
    parts = module.split(".")[1:]
    if parts[:2] == ["pqc", "backends"]:
        return "pqc.backends"
    if parts[:1] == ["pqc"] and parts[1:2] and parts[1] in PQC_INTERFACES:
        return "pqc.interfaces"
    return parts[0] if parts else "secretumvault"


def test_few_top_level_modules() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert len(top) <= 6, top


def test_no_import_cycle() -> None:
    graph = _imports(_modules())
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(module) :], module]))
        if module in done:
            return
        for imported in sorted(graph.get(module, ())):
            visit(imported, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_no_layer_imports_one_above_it() -> None:
    upward = []
    for module, imported in _imports(_modules()).items():
        for target in imported:
            source_layer, target_layer = _layer(module), _layer(target)
            if source_layer in BESIDE or target_layer in BESIDE:
                continue
            if RANK[target_layer] > RANK[source_layer]:
                upward.append(f"{module} -> {target}")
    assert upward == []
