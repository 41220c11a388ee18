"""The gateway's layers, read from its source: imports point down, and never in a circle.

The import graph is built with `ast` from every module of the project: imports at module
level, inside functions and under `if TYPE_CHECKING:` all count (a type-only import is still
one module knowing another), `from . import x` is resolved, and `from package import name`
points at the submodule when `name` is one. Then:

* no cycle joins the gateway's modules, nor its parts (`gateway.storage`,
  `gateway.platform_client`, `gateway.services`, ...: a package or a top-level module);
* only the composition roots (`gateway` itself, the app factory; `gateway.api`,
  `gateway.cli`, `gateway.workers` and `workers`) import `gateway.api`, and
  `gateway.wiring`, which builds the services;
* no module imports one of the project's modules through `importlib.import_module` or
  `__import__`, which hides the dependency from readers and from mypy;
* no module imports another module's private names (`from a import _b`);
* the pure core (`gs1`, `rules`, `reports`, `domain`, `parsers`, `barcodes`, `pipeline`)
  imports nothing of the service shell (storage, API, jobs, workers, services, wiring,
  intake, mail) and no web, database or queue library.

docs/ARCHITECTURE.md draws the layers these tests hold.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gateway", "workers", "samples")

COMPOSITION_ROOTS = ("gateway.api", "gateway.cli", "gateway.workers", "workers")
APP_FACTORY = "gateway"  # gateway/__init__.py: create_app() builds the web app
CORE = (
    "gateway.gs1",
    "gateway.rules",
    "gateway.reports",
    "gateway.domain",
    "gateway.parsers",
    "gateway.barcodes",
    "gateway.pipeline",
)
SHELL = (
    "gateway.storage",
    "gateway.api",
    "gateway.jobs",
    "gateway.workers",
    "workers",
    "gateway.services",
    "gateway.wiring",
    "gateway.intake",
    "gateway.mail",
)
SERVER_LIBRARIES = ("flask", "sqlalchemy", "redis", "rq")


@dataclass(frozen=True, slots=True)
class Import:
    """One import statement's edge: `source` imports `target` at `line`."""

    source: str
    target: str  # a project module, or the top-level name of a library
    line: int
    in_function: bool = False
    type_only: bool = False

    def describe(self) -> str:
        """`source:line -> target`, with where the import stands when not at module level."""
        where = " (in a function)" if self.in_function else ""
        where += " (under TYPE_CHECKING)" if self.type_only else ""
        return f"{self.source}:{self.line} -> {self.target}{where}"


@dataclass(frozen=True, slots=True)
class DynamicImport:
    """A call of `importlib.import_module` or `__import__`, with its argument as written."""

    module: str
    line: int
    argument: str


def within(name: str, prefixes: Iterable[str]) -> bool:
    """True when module `name` is one of `prefixes` or inside one of them."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def project_modules(root: Path, packages: Sequence[str]) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of `packages` under `root`."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(name: str, known: Mapping[str, Path]) -> str:
    """The longest prefix of `name` that is a project module; else its top-level name."""
    candidate = name
    while candidate and candidate not in known:
        candidate = candidate.rpartition(".")[0]
    return candidate or name.partition(".")[0]


def module_imports(name: str, path: Path, known: Mapping[str, Path]) -> list[Import]:
    """Every import of one module, wherever it stands in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target = _resolve(alias.name, known)
                    found.append(Import(name, target, child.lineno, in_function, type_only))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    parts = package.split(".")
                    base = parts[: len(parts) - (child.level - 1)]
                    module = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    module = child.module or ""
                for alias in child.names:
                    submodule = f"{module}.{alias.name}"
                    target = submodule if submodule in known else _resolve(module, known)
                    found.append(Import(name, target, child.lineno, in_function, type_only))
            visit(
                child,
                in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef),
                type_only or (isinstance(child, ast.If) and _is_type_checking(child)),
            )

    visit(tree, False, False)
    return [i for i in found if i.target != name]


def import_graph(root: Path, packages: Sequence[str]) -> list[Import]:
    """Every import of every module of `packages` under `root`."""
    known = project_modules(root, packages)
    return [edge for name, path in known.items() for edge in module_imports(name, path, known)]


def find_cycles(imports: Iterable[Import], *, among: Sequence[str]) -> list[list[Import]]:
    """One cycle of imports (as its edges, in order) per knot of modules under `among`.

    A knot is a strongly connected component (Tarjan's algorithm, written without
    recursion); within it the shortest way back from its first module is given.
    """
    edges: dict[str, dict[str, Import]] = {}
    for edge in imports:
        if within(edge.source, among) and within(edge.target, among):
            edges.setdefault(edge.source, {}).setdefault(edge.target, edge)
    nodes = sorted({*edges, *(t for targets in edges.values() for t in targets)})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    knots: list[list[str]] = []
    for start in nodes:
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges.get(start, {}))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(edges.get(target, {})))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    knot: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        knot.append(member)
                        if member == node:
                            break
                    if len(knot) > 1:
                        knots.append(sorted(knot))
    return [_cycle_in(knot, edges) for knot in sorted(knots)]


def _cycle_in(knot: list[str], edges: Mapping[str, Mapping[str, Import]]) -> list[Import]:
    """The shortest cycle through the knot's first module (breadth first)."""
    members = set(knot)
    first = knot[0]
    came_by: dict[str, Import] = {}
    frontier = [first]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for target, edge in sorted(edges.get(node, {}).items()):
                if target not in members or target in came_by:
                    continue
                came_by[target] = edge
                if target == first:
                    path = [edge]
                    while path[0].source != first:
                        path.insert(0, came_by[path[0].source])
                    return path
                following.append(target)
        frontier = following
    msg = f"no cycle through {first} in the knot {knot}"
    raise AssertionError(msg)


def describe_cycles(cycles: Sequence[Sequence[Import]]) -> str:
    """The cycles as a person reads them: one line per import, the way round each cycle."""
    blocks = []
    for cycle in cycles:
        modules = " -> ".join([*(e.source for e in cycle), cycle[0].source])
        steps = "\n".join(f"    {e.describe()}" for e in cycle)
        blocks.append(f"  {modules}\n{steps}")
    return "\n".join(blocks)


def unique(imports: Iterable[Import]) -> list[Import]:
    """One edge per statement: `from a import b, c` of one module is one import of it."""
    return list({(e.source, e.target, e.line): e for e in imports}.values())


def dynamic_imports(root: Path, packages: Sequence[str]) -> list[DynamicImport]:
    """Every `importlib.import_module(...)`, `import_module(...)` and `__import__(...)` call."""
    calls: list[DynamicImport] = []
    for name, path in project_modules(root, packages).items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__"):
                calls.append(DynamicImport(name, node.lineno, ast.unparse(node.args[0])))
    return calls


def hides_project_module(call: DynamicImport, packages: Sequence[str]) -> bool:
    """True when the call names a project module, or a name a reader cannot see."""
    try:
        value = ast.literal_eval(call.argument)
    except ValueError:  # a computed name: which module it is shows only at run time
        return True
    return isinstance(value, str) and within(value, packages)


# -- the project's layers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph() -> list[Import]:
    """The project's import graph."""
    return import_graph(ROOT, PACKAGES)


def test_the_graph_sees_the_project(graph: list[Import]) -> None:
    # a graph that missed the imports would pass every test below
    edges = {(e.source, e.target) for e in graph}
    assert ("gateway.wiring", "gateway.jobs.executors") in edges
    assert ("gateway.parsers", "gateway.parsers.pdf") in edges
    assert any(e.in_function for e in graph)
    assert any(e.type_only for e in graph)


def test_no_import_cycle_among_the_gateways_modules(graph: list[Import]) -> None:
    cycles = find_cycles(graph, among=("gateway",))
    assert not cycles, "Import cycles among the gateway's modules:\n" + describe_cycles(cycles)


def part_of(module: str) -> str:
    """The part of the gateway a module belongs to: `gateway.storage.repo` -> `gateway.storage`."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "gateway" else parts[0]


def test_no_import_cycle_among_the_gateways_parts(graph: list[Import]) -> None:
    # storage <-> platform_client, or services <-> jobs, through modules that do not form a
    # cycle of their own, still tie two parts into one
    original: dict[tuple[str, str], Import] = {}
    parts: list[Import] = []
    for e in graph:
        source, target = part_of(e.source), part_of(e.target)
        if source != target:
            original.setdefault((source, target), e)
            parts.append(Import(source, target, e.line, e.in_function, e.type_only))
    cycles = find_cycles(parts, among=("gateway", "workers"))
    lines = [
        f"  {' -> '.join([*(e.source for e in cycle), cycle[0].source])}\n"
        + "\n".join(f"    {original[e.source, e.target].describe()}" for e in cycle)
        for cycle in cycles
    ]
    assert not cycles, "Import cycles among the gateway's parts:\n" + "\n".join(lines)


def test_only_the_composition_roots_import_the_api_and_the_wiring(graph: list[Import]) -> None:
    offending = [
        e.describe()
        for e in unique(graph)
        if within(e.target, ("gateway.api", "gateway.wiring"))
        and not within(e.source, COMPOSITION_ROOTS)
        and e.source != APP_FACTORY
    ]
    assert not offending, (
        "Only the composition roots (gateway.api, gateway.cli, gateway.workers, workers and "
        "the app factory) may import gateway.api or gateway.wiring; these modules below "
        "them do:\n  " + "\n  ".join(offending)
    )


def test_no_project_module_is_imported_by_name_at_run_time() -> None:
    hidden = [
        f"{c.module}:{c.line} imports {c.argument}"
        for c in dynamic_imports(ROOT, PACKAGES)
        if hides_project_module(c, PACKAGES)
    ]
    assert not hidden, (
        "Import the project's modules with import statements, so readers and mypy see the "
        "dependency:\n  " + "\n  ".join(hidden)
    )


def test_the_pure_core_imports_nothing_of_the_service_shell(graph: list[Import]) -> None:
    offending = [
        e.describe()
        for e in unique(graph)
        if within(e.source, CORE)
        and (within(e.target, SHELL) or within(e.target, SERVER_LIBRARIES))
    ]
    assert not offending, (
        "The pure core (gs1, rules, reports, domain, parsers, barcodes, pipeline) imports "
        "the service shell or a server library:\n  " + "\n  ".join(offending)
    )


def private_imports(root: Path, packages: Sequence[str]) -> list[str]:
    """`module:line imports name from other` for every private name imported from a module.

    A private module inside its own package (`gateway.barcodes._zbar`) may be imported; a
    name with a leading underscore is its module's own business.
    """
    found: list[str] = []
    known = project_modules(root, packages)
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.ImportFrom) or node.module == "__future__":
                continue
            for alias in node.names:
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                if private and f"{node.module}.{alias.name}" not in known:
                    found.append(f"{name}:{node.lineno} imports {alias.name} from {node.module}")
    return found


def test_no_module_uses_another_modules_private_names() -> None:
    found = private_imports(ROOT, PACKAGES)
    assert not found, (
        "A name two modules share is public: name it without the underscore.\n  "
        + "\n  ".join(found)
    )


# -- the graph functions, on small packages of their own -------------------------------------


def _package(root: Path, files: Mapping[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_planted_cycle_through_a_function_and_a_relative_import_is_found(
    tmp_path: Path,
) -> None:
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": "import json\n\n\ndef later():\n    from . import c\n",
            "pkg/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n",
            "pkg/d.py": "from pkg.a import thing\n",  # into the cycle, not part of it
        },
    )
    graph = import_graph(root, ["pkg"])
    cycles = find_cycles(graph, among=("pkg",))
    assert [[(e.source, e.target) for e in cycle] for cycle in cycles] == [
        [("pkg.a", "pkg.b"), ("pkg.b", "pkg.c"), ("pkg.c", "pkg.a")]
    ]
    assert describe_cycles(cycles) == (
        "  pkg.a -> pkg.b -> pkg.c -> pkg.a\n"
        "    pkg.a:1 -> pkg.b\n"
        "    pkg.b:5 -> pkg.c (in a function)\n"
        "    pkg.c:3 -> pkg.a (under TYPE_CHECKING)"
    )
    with pytest.raises(AssertionError, match=r"pkg\.b:5 -> pkg\.c \(in a function\)"):
        assert not cycles, describe_cycles(cycles)


def test_a_package_without_a_cycle_has_none(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.low import x\n",
            "pkg/low.py": "x = 1\n",
            "pkg/high.py": "from . import low\nfrom .low import x\nimport pkg\n",
        },
    )
    graph = import_graph(root, ["pkg"])
    assert {(e.source, e.target) for e in graph} == {
        ("pkg", "pkg.low"),
        ("pkg.high", "pkg.low"),
        ("pkg.high", "pkg"),
    }
    assert find_cycles(graph, among=("pkg",)) == []


def test_imports_by_name_of_project_modules_are_found(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": (
                "import importlib\n"
                "from importlib import import_module\n"
                "importlib.import_module('pkg.b')\n"
                "import_module('json')\n"
                "name = 'pkg.' + 'b'\n"
                "__import__(name)\n"
            ),
        },
    )
    calls = dynamic_imports(root, ["pkg"])
    assert [(c.line, hides_project_module(c, ["pkg"])) for c in calls] == [
        (3, True),
        (4, False),
        (6, True),
    ]
