"""The design's rules, checked on the source: one store module imports chromadb, data
flows one way, no import cycles, no module over the size a reader can hold.

Read from the files with ``ast`` (nothing is imported), so a rule broken anywhere in
the installed packages fails here, in milliseconds.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The folders that install as packages (pyproject's package-dir), by package name.
PACKAGES = {
    "legalrag": ROOT / "legalrag",
    "legalrag.app": ROOT / "app",
    "legalrag.ingest": ROOT / "ingest",
    "legalrag.eval": ROOT / "eval",
    "legalrag.prompts": ROOT / "prompts",
}
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            found[".".join((package, *parts)).removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _imports(path: Path, *, top_level_only: bool) -> Iterator[tuple[str, int]]:
    """(imported module, line) for each import in ``path``; with ``top_level_only``, only
    those run when the module is imported (not inside functions or TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def visit(nodes: list[ast.stmt]) -> Iterator[tuple[str, int]]:
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield alias.name, node.lineno
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from legalrag.app.generation import events` imports the submodule
                # (its package is already importing); `from x import name`, x itself.
                submodules = [f"{node.module}.{a.name}" for a in node.names]
                submodules = [name for name in submodules if name in MODULES]
                for name in submodules or [node.module]:
                    yield name, node.lineno
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                if not top_level_only:
                    yield from visit(node.body)
            elif top_level_only and isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ):
                continue
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    yield from visit(getattr(node, field, []) or [])

    yield from visit(tree.body)


def _internal(name: str) -> str | None:
    """The project module an import names (a ``from x import y`` may name either)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def test_the_module_list_is_complete() -> None:
    assert "legalrag.store.chroma.store" in MODULES
    assert "legalrag.app.retrieval.retriever" in MODULES
    assert "legalrag.app.engine" in MODULES and "legalrag.ingest.pipeline" in MODULES
    assert len(MODULES) > 40


def test_only_the_chroma_store_imports_chromadb() -> None:
    importers = {
        name
        for name, path in MODULES.items()
        for imported, _ in _imports(path, top_level_only=False)
        if imported == "chromadb" or imported.startswith("chromadb.")
    }
    assert importers and all(name.startswith("legalrag.store.chroma.") for name in importers)


def test_no_module_is_over_the_size_limit() -> None:
    sizes = {name: len(path.read_text("utf-8").splitlines()) for name, path in MODULES.items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_there_is_no_import_cycle() -> None:
    graph = {
        name: {
            target
            for imported, _ in _imports(path, top_level_only=True)
            if (target := _internal(imported)) is not None and target != name
        }
        for name, path in MODULES.items()
    }
    # A package's __init__ importing its own submodules is how a package exposes them.
    for name in graph:
        graph[name] = {t for t in graph[name] if not (t.startswith(name + "."))}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target) :], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


# Who may import whom, at any depth (lazy imports included): data flows one way
# (cli/chat/api -> engine -> retrieval -> store; ingest -> store; eval drives the engine),
# and only the edges wire backends (legalrag.factory).
UPPER = ("legalrag.app", "legalrag.ingest", "legalrag.eval", "legalrag.cli", "legalrag.factory")
FORBIDDEN = {
    "legalrag.store": UPPER,
    "legalrag.errors": UPPER,
    "legalrag.settings": UPPER,
    "legalrag.embedding": UPPER,
    "legalrag.app.retrieval": (
        "legalrag.app.prompting",
        "legalrag.app.generation",
        "legalrag.app.engine",
        "legalrag.app.chat",
        "legalrag.cli",
        "legalrag.eval",
        "legalrag.ingest",
        "legalrag.factory",
    ),
    "legalrag.app.engine": ("legalrag.app.chat", "legalrag.cli", "legalrag.factory"),
    "legalrag.app": ("legalrag.cli", "legalrag.eval", "legalrag.ingest"),
    "legalrag.ingest": ("legalrag.app", "legalrag.eval", "legalrag.cli"),
    "legalrag.eval": ("legalrag.cli", "legalrag.app.chat"),
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_follow_the_one_way_flow(layer: str) -> None:
    broken = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for name, path in MODULES.items()
        if name == layer or name.startswith(layer + ".")
        for imported, line in _imports(path, top_level_only=False)
        for banned in FORBIDDEN[layer]
        if imported == banned or imported.startswith(banned + ".")
    ]
    assert broken == []
