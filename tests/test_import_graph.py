"""The packages form a one-way stack: schemas <- warehouse <- assets <- pipelines. A module may import its own
package or one below it, never one above; and no two modules of the application import each other in a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK = ("schemas", "warehouse", "assets", "pipelines")


def application_imports() -> dict[str, set[str]]:
    """module -> the application modules it imports (at any depth of the file, lazy imports included)."""
    graph: dict[str, set[str]] = {}
    for package in STACK:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            targets: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    targets.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    targets.add(node.module)
            graph[module] = {t for t in targets if t.split(".")[0] in STACK}
    return graph


def test_no_package_imports_a_package_above_it() -> None:
    graph = application_imports()
    assert len(graph) > 20  # the walk found the application
    upward = [f"{module} imports {target}" for module, targets in graph.items() for target in targets
              if STACK.index(target.split(".")[0]) > STACK.index(module.split(".")[0])]
    assert upward == []


def test_no_import_cycle_between_modules() -> None:
    graph = application_imports()
    # Resolve "from pkg import name" of a package to its __init__ module name.
    graph = {m: {t for t in ts if t in graph} for m, ts in graph.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


# What would let the registry touch files, the network or a database.
IO_MODULES = {"pathlib", "os", "io", "csv", "yaml", "json5", "shutil", "glob", "tempfile", "duckdb", "requests",
              "urllib", "sqlite3", "dagster"}


def test_the_registry_has_no_paths_and_does_no_io() -> None:
    """schemas/ is data and pure functions: no module of it imports a file, network or database module, opens a
    file or names a folder of the project. Paths and reading live in assets/ (assets/source_files.py)."""
    found = []
    for path in sorted((ROOT / "schemas").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [f"{path.name} imports {a.name}" for a in node.names if a.name.split(".")[0] in IO_MODULES]
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in IO_MODULES:
                found.append(f"{path.name} imports {node.module}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
                found.append(f"{path.name} calls open() on line {node.lineno}")
            elif isinstance(node, ast.Name) and node.id == "__file__":
                found.append(f"{path.name} locates itself (__file__) on line {node.lineno}")
    assert found == []


# The modules a make target runs with `python -m` that are only a command (pipelines/cli.py holds run, refresh and
# rollback; kosis_tools and export are commands of their own).
COMMAND_MODULES = {"pipelines.run", "pipelines.refresh", "pipelines.rollback", "pipelines.kosis_tools",
                   "pipelines.export"}


def test_no_module_imports_a_command_and_the_thin_commands_import_only_the_cli() -> None:
    graph = application_imports()
    assert COMMAND_MODULES <= set(graph)
    importing = [f"{module} imports {target}" for module, targets in graph.items() for target in targets
                 if target in COMMAND_MODULES]
    assert importing == []
    for thin in ("pipelines.run", "pipelines.refresh", "pipelines.rollback"):
        assert graph[thin] == {"pipelines.cli"}, thin


def test_every_run_of_a_command_is_executed_in_one_place() -> None:
    """One function executes a run in-process (pipelines/cli.py: execute); every command's run goes through it."""
    sites = [f"{path.relative_to(ROOT)}:{node.lineno}" for path in sorted((ROOT / "pipelines").rglob("*.py"))
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Attribute) and node.attr in ("execute_in_process", "materialize")]
    assert len(sites) == 1 and sites[0].startswith("pipelines/cli.py:"), sites
