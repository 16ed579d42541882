"""The medsaliency modules a module needs, found by reading its imports (function-level imports too)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "medsaliency"


def module_file(src: Path, module: str) -> Path | None:
    """``src/medsaliency/a/b.py`` or ``.../a/b/__init__.py`` for ``medsaliency.a.b``; None if neither exists."""
    base = src.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path, module: str) -> set[str]:
    """The ``medsaliency`` modules ``path`` imports anywhere in it (``from a import b`` counts ``a.b`` when it is a module)."""
    src = path.parents[len(module.split(".")) - (1 if path.name != "__init__.py" else 0)]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PACKAGE:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names if module_file(src, f"{node.module}.{alias.name}"))
    parents = {".".join(name.split(".")[:i]) for name in found for i in range(2, len(name.split(".")))}
    return {name for name in found | parents if module_file(src, name)}


def closure(src: Path, module: str) -> dict[str, Path]:
    """Every ``medsaliency`` module that importing (and running) ``module`` may load, with its file."""
    seen: dict[str, Path] = {}
    pending = [module]
    while pending:
        name = pending.pop()
        path = module_file(src, name)
        if name in seen or path is None:
            continue
        seen[name] = path
        pending.extend(imported_modules(path, name))
        pending.extend(".".join(name.split(".")[:i]) for i in range(1, len(name.split("."))))  # its packages' __init__
    return seen


def code_deps(root: Path, stage: str) -> list[str]:
    """The code a DVC stage runs, as ``dvc.yaml`` should list it: ``pipelines/<stage>.py``, ``cli.py`` (the
    dispatch) and every module the stage job may load, a folder where all of its modules are needed."""
    src = root / "src"
    needed = {path.relative_to(root) for path in closure(src, f"{PACKAGE}.stages.{stage}").values()}
    needed |= {Path("src") / PACKAGE / "cli.py", Path("pipelines") / f"{stage}.py"}
    return sorted(_compress(root, needed))


def _compress(root: Path, files: set[Path]) -> set[str]:
    folders = {parent for path in files for parent in path.parents if parent != Path(".") and (root / parent / "__init__.py").is_file()}
    whole = {folder for folder in folders if {p.relative_to(root) for p in (root / folder).rglob("*.py")} <= files}
    top = {folder for folder in whole if not any(parent in whole for parent in folder.parents)}
    kept = {path for path in files if not any(folder in path.parents for folder in top)}
    return {path.as_posix() for path in kept | top}
