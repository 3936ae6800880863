"""House rules checked on the source tree: Qt stays in ui/, modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("assistant_app", "models", "audio", "vision", "ui")


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_only_ui_imports_pyside6() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        if package != "ui"
        for path in python_files(package)
        if "PySide6" in imported_modules(path)
    ]
    assert offenders == []


def test_the_rule_checker_sees_qt_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from PySide6.QtCore import QObject\n")
    assert "PySide6" in imported_modules(probe)


def test_modules_stay_under_450_lines_with_a_docstring() -> None:
    for package in PACKAGES:
        for path in python_files(package):
            source = path.read_text(encoding="utf-8")
            assert len(source.splitlines()) <= 450, path
            assert ast.get_docstring(ast.parse(source)), f"{path} has no module docstring"


# -- layering: what each room may import ----------------------------------------------------------
LOWER = ("audio", "models", "vision")  # engines: they see only the kernel's foundation
# Rooms of the kernel and the rooms each must not import (its upper floors).
UPPER = {
    "assistant_app.core": ("assistant_app.",),  # the foundation imports no other room
    "assistant_app.kernel": ("assistant_app.voice", "assistant_app.cli", "ui"),
    "assistant_app.tools": ("assistant_app.voice", "assistant_app.cli", "ui"),
    "assistant_app.security": ("assistant_app.voice", "assistant_app.cli", "ui"),
    "assistant_app.storage": ("assistant_app.voice", "assistant_app.cli", "ui"),
    "assistant_app.voice": ("assistant_app.cli", "ui"),
}  # assistant_app.cli is the entry point: it may start the window (ui)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(path: Path, known: set[str]) -> set[str]:
    """Our modules that `path` imports at run time (anywhere in it, lazily too), leaving out
    imports under `if TYPE_CHECKING:`, which never run."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(node)
        for branch in ast.walk(tree)
        if isinstance(branch, ast.If) and "TYPE_CHECKING" in ast.unparse(branch.test)
        for node in ast.walk(branch)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found & known


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for package in PACKAGES for p in python_files(package)}
    return {name: project_imports(path, set(files)) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or around a circle (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            if group:
                found.append(sorted([node, *group]))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_around_a_circle() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_each_layer_imports_only_what_lies_below_it() -> None:
    offenders = []
    for name, imports in import_graph().items():
        if name.split(".")[0] in LOWER:
            offenders += [
                (name, i) for i in imports if i.startswith("assistant_app") and ".core" not in i
            ]
        for room, forbidden in UPPER.items():
            if name.startswith(room):
                offenders += [
                    (name, i) for i in imports if i.startswith(forbidden) and not i.startswith(room)
                ]
    assert offenders == []


def test_the_kernel_is_grouped_in_rooms() -> None:
    loose = [p.name for p in (ROOT / "assistant_app").glob("*.py") if p.name != "__init__.py"]
    assert loose == []
