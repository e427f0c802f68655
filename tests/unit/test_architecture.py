"""The shape of the code: one namespace, layers kept, no cycles, small modules.

These read the source (and run the type checker and the import contracts), so a
change that breaks the architecture fails here with the offending module named.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import grimp
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools.static_checks import run_import_linter, run_mypy  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SOURCE_FOLDERS = {"engine": "funnel.engine", "tui": "funnel.tui", "config": "funnel.presets"}
MAX_LINES = 400
# Modules that are tables of data, not logic, may be longer (none today).
DATA_TABLES: set[str] = set()


def source_files() -> list[Path]:
    return sorted(path for folder in SOURCE_FOLDERS for path in (ROOT / folder).rglob("*.py"))


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT)
    parts = [SOURCE_FOLDERS[relative.parts[0]], *relative.with_suffix("").parts[1:]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_the_source_files_are_found() -> None:
    names = {module_name(path) for path in source_files()}
    assert {"funnel.engine", "funnel.engine.store", "funnel.tui.app.app",
            "funnel.tui.cli.main", "funnel.tui.serve.server"} <= names


@pytest.mark.parametrize("path", source_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_400_lines(path: Path) -> None:
    if module_name(path) in DATA_TABLES:
        pytest.skip("a data table")
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


def packages() -> list[Path]:
    return sorted(path for path in source_files() if path.name == "__init__.py")


@pytest.mark.parametrize("path", packages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_package_says_what_lives_there(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring and len(docstring.split()) >= 6, f"{path.relative_to(ROOT)}: no docstring"


def test_every_package_installs(tmp_path: Path) -> None:
    """pyproject lists each package explicitly; a new folder left out would not ship."""
    import tomllib

    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                   ["packages"])
    assert {module_name(path) for path in packages()} == declared


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that import each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def test_the_cycle_finder_sees_a_cycle() -> None:
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
        ["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    """Function-level imports count too: hiding a cycle inside a function is still a cycle."""
    graph = grimp.build_graph("funnel.engine", "funnel.tui")
    edges = {module: set(graph.find_modules_directly_imported_by(module))
             for module in graph.modules}
    assert strongly_connected(edges) == []


def test_no_module_imports_another_modules_private_names() -> None:
    offenders = []
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.startswith("funnel."):
                private = [alias.name for alias in node.names if alias.name.startswith("_")]
                if private:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {private}")
    assert offenders == []


def test_the_import_contracts_hold() -> None:
    result = run_import_linter()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_type_checker_is_clean() -> None:
    result = run_mypy()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    assert "Success" in result.stdout
