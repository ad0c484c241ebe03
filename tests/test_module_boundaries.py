"""Modules use one another only through what each exports in its `__init__.py` (`__all__`), as httpx's
test_exported_members does for its package; `core` is the shared kernel every module may use."""

from __future__ import annotations

import ast
import importlib
from inspect import ismodule
from pathlib import Path

import pytest

MODULES = Path(__file__).parent.parent / "modules"
NAMES = sorted(p.name for p in MODULES.iterdir() if (p / "__init__.py").exists() and p.name != "core")


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def test_no_module_reaches_into_another_modules_internals():
    reaching = []
    for path in MODULES.rglob("*.py"):
        own = path.relative_to(MODULES).parts[0]
        for line, module in imports_of(path):
            parts = module.split(".")
            if parts[0] != "modules" or len(parts) < 2 or parts[1] in (own, "core"):
                continue
            if len(parts) > 2:
                reaching.append(f"{path.relative_to(MODULES.parent)}:{line} imports {module}")
    assert reaching == []


def test_core_depends_on_no_module():
    for path in (MODULES / "core").rglob("*.py"):
        others = [m for _, m in imports_of(path) if m.startswith("modules.") and not m.startswith("modules.core")]
        assert others == [], path


@pytest.mark.parametrize("name", NAMES)
def test_exported_members_are_the_modules_surface(name):
    module = importlib.import_module(f"modules.{name}")
    exported = getattr(module, "__all__", None)
    if exported is None:  # a module nothing else imports from
        used = [m for p in MODULES.rglob("*.py") for _, m in imports_of(p) if m == f"modules.{name}"]
        assert used == []
        return
    for member in exported:
        assert hasattr(module, member), member
    public = {n for n, v in vars(module).items() if not n.startswith("_") and n != "annotations" and not ismodule(v)}
    assert public == set(exported)  # whatever the package holds besides its sub-packages is declared
