"""No import cycles in `gateway/`: a circle of modules is one module in disguise.

The graph is grimp's (the library import-linter runs on). Imports made only for type checkers
(`if TYPE_CHECKING:`, as `strawberry.lazy` annotations need) are left out: they never run.
Imports inside functions count: deferring an import hides a cycle, it does not remove it.
"""

from __future__ import annotations

import grimp


def _strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's algorithm, iteratively: the groups of modules that import each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    imported = graph.find_modules_directly_imported_by(successor)
                    work.append((successor, iter(sorted(imported))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[module] = min(low[module], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def _a_cycle(graph: grimp.ImportGraph, group: list[str]) -> str:
    """One circle through the group's first module, as `a -> b -> a`."""
    start = group[0]
    for successor in sorted(graph.find_modules_directly_imported_by(start)):
        if successor in group:
            chain = graph.find_shortest_chain(importer=successor, imported=start)
            if chain is not None:
                return " -> ".join([start, *chain])
    return ", ".join(group)


def test_gateway_has_no_import_cycles() -> None:
    graph = grimp.build_graph("gateway", exclude_type_checking_imports=True)
    cycles = [
        f"{_a_cycle(graph, group)}  (all of: {', '.join(group)})"
        for group in _strongly_connected(graph)
    ]
    assert not cycles, "import cycles in gateway/:\n" + "\n".join(cycles)


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(module)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    groups = _strongly_connected(graph)
    assert groups == [["pkg.a", "pkg.b", "pkg.c"]]
    assert _a_cycle(graph, groups[0]) == "pkg.a -> pkg.b -> pkg.c -> pkg.a"
