"""The package's layout: no import cycle, library modules never import commands, modules stay short.

    python -m pytest tests/test_layout.py -q      # the check anyone can run

Every import of the package is read from the source (top-level and inside functions alike), so a
cycle hidden in a function is found too.
"""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "keras_gan"
COMMANDS = {"keras_gan.train", "keras_gan.generate", "keras_gan.evaluate", "keras_gan.experiment", "keras_gan.bench"}
MAX_LINES = 320


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, pathlib.Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: pathlib.Path, known) -> set[str]:
    """The package's modules that `path` imports, anywhere in it (`from keras_gan import x` names x
    when x is a module, else the package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module in known:
            for a in node.names:
                found.add(f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    # The package itself loads its API lazily; importing any module runs keras_gan/__init__ first,
    # which imports nothing of the package at import time.
    return {name: imports_of(path, known) - {name, "keras_gan"} for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package():
    edges = graph()
    assert "keras_gan.tasks" in edges and "keras_gan.gan" in edges["keras_gan.tasks"]  # the graph is read
    assert cycles(edges) == []


def test_library_modules_never_import_a_command():
    bad = {name: sorted(deps & COMMANDS) for name, deps in graph().items() if name not in COMMANDS and deps & COMMANDS}
    assert bad == {}


def test_the_package_imports_nothing_of_its_own_at_import_time():
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    assert not [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                and any(a.name.startswith("keras_gan") for a in n.names)
                or isinstance(n, ast.ImportFrom) and (n.module or "").startswith("keras_gan")]


def test_modules_stay_short():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}
