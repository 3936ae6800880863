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
