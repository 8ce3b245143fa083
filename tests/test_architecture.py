"""No import cycle among tutorial_kit's modules (issue 15).

import-linter's contracts in pyproject.toml keep the mock's layers (`lint-imports`, run by
`make test`); its `acyclic_siblings` contract looks at packages. This test looks at modules: it
builds the import graph with grimp (the graph import-linter uses), counting imports inside
functions and under ``TYPE_CHECKING`` too, and requires no strongly connected component, so a
cycle hidden in a function-level import fails here with the modules and line numbers named.
"""

from __future__ import annotations

import pathlib
import sys
import textwrap

import grimp


def import_cycles(package: str) -> list[list[str]]:
    """Every group of modules of `package` that import each other in a circle (Tarjan)."""
    graph = grimp.build_graph(package, exclude_type_checking_imports=False)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in edges.get(module, ()):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(edges) + 100))
    try:
        for module in edges:
            if module not in index:
                visit(module)
    finally:
        sys.setrecursionlimit(limit)
    for group in cycles:  # name the lines, so a failure says where to cut
        group[:] = [f"{a} -> {b} (line {d['line_number']})" for a in group for b in edges[a]
                    if b in group for d in graph.get_import_details(importer=a, imported=b)]
    return cycles


def test_tutorial_kit_has_no_import_cycle():
    assert import_cycles("tutorial_kit") == []


def test_a_cycle_through_a_function_level_import_is_found(tmp_path, monkeypatch):
    pkg = tmp_path / "circle_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "first.py").write_text("from circle_pkg import second\n")
    (pkg / "second.py").write_text(textwrap.dedent("""\
        def later():
            from circle_pkg.first import something  # hidden in a function
            return something
        """))
    (pkg / "third.py").write_text("from circle_pkg import first\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cycles = import_cycles("circle_pkg")
    assert cycles == [["circle_pkg.first -> circle_pkg.second (line 1)",
                       "circle_pkg.second -> circle_pkg.first (line 2)"]]


def test_the_layer_contracts_are_declared():
    """`make test` runs lint-imports over these; a contract lost from pyproject.toml fails here."""
    import tomllib

    config = tomllib.loads((pathlib.Path(__file__).parents[1] / "pyproject.toml").read_text())
    contracts = {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}
    assert {"mock-layers", "model-alone", "web-not-store", "workers-use-the-api",
            "no-cycles"} <= set(contracts)
    assert {"tutorial_kit.mock.web", "tutorial_kit.mock.security", "tutorial_kit.mock.sim"} <= \
        set(contracts["model-alone"]["forbidden_modules"])
    assert "tutorial_kit.mock.model.store" in contracts["web-not-store"]["forbidden_modules"]
